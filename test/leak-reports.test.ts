import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { blockAuditWrites } from "./support/audit-entries.ts";
import { generateKey } from "../src/domain/api-key-format.ts";
import { loadConfig } from "../src/config.ts";
import { Webhook } from "standardwebhooks";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { startReceiver } from "./support/webhook-receiver.ts";
import { until } from "./support/until.ts";
import { auditEntries, otherAccount, serviceAccountWithKey } from "./support/fixtures.ts";

const SECRET = "leak-report-secret-0123456789abcdefghij";
const KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";

function keyPair(): { privateKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, pem: publicKey.export({ type: "spki", format: "pem" }) as string };
}

/** GitHub's public key document (https://api.github.com/meta/public_keys/secret_scanning) for `pem`. */
const keyDocument = (pem: string, keyIdentifier = KEY_ID) => JSON.stringify({ public_keys: [{ key_identifier: keyIdentifier, key: pem, is_current: true }] });

interface Finding {
  token: string;
  type?: string;
  url: string;
  source?: string;
}

/** Sends a report over a real connection, signed like GitHub's scanner (or with `headers` instead). */
async function report(
  h: TestHearth,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; contentType: string | null; retryAfter: string | null }> {
  const res = await fetch(`${h.baseUrl}/v1/apiKeys:reportLeak`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type"), retryAfter: res.headers.get("retry-after") };
}

const signed = (privateKey: KeyObject, body: string, keyIdentifier = KEY_ID): Record<string, string> => ({
  "Github-Public-Key-Identifier": keyIdentifier,
  "Github-Public-Key-Signature": sign("sha256", Buffer.from(body), privateKey).toString("base64"),
});

const findings = (...items: Finding[]): string => JSON.stringify(items.map((f) => ({ type: "hearth_api_key", source: "content", ...f })));

for (const dialect of DIALECTS) {
  describe(`leak reports from secret scanners (${dialect})`, () => {
    let h: TestHearth;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let signingSecret = "";
    const scanner = keyPair();
    before(async () => {
      // The account's webhook receiver runs on loopback: the operator's switch allows it.
      h = await startHearth(dialect, {
        HEARTH_LEAK_REPORT_PUBLIC_KEYS: keyDocument(scanner.pem),
        HEARTH_LEAK_REPORT_SECRET: SECRET,
        HEARTH_ALLOW_PRIVATE_NETWORKS: "true",
        HEARTH_WEBHOOK_POLL_MS: "20",
      });
      await h.listen();
      receiver = await startReceiver();
      const hook = await h.call("POST", `/v1/accounts/${h.accountId}/webhooks?webhookId=leaks`, {
        body: { displayName: "Leaks", url: receiver.url, events: ["api_key.leaked"] },
      });
      assert.equal(hook.status, 200, JSON.stringify(hook.body));
      signingSecret = hook.body.signingSecret;
    });
    after(async () => {
      await h.stop();
      await receiver.close();
    });

    test("a signed report disables the key within the request, sends api_key.leaked and audits the URL", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "leaky-signed");
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200);
      const url = "https://github.com/octo/public-repo/blob/abc123/.env";
      const body = findings({ token: key, url });
      const res = await report(h, body, signed(scanner.privateKey, body));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(JSON.parse(res.text), []);

      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401, "the leaked key's next request is refused");
      const got = await h.call("GET", `/v1/accounts/${h.accountId}/users/leaky-signed/apiKeys/${keyId}`);
      assert.equal(got.body.state, "DISABLED");
      assert.equal(got.body.disableReason, "EXPOSED");

      const [entry] = await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "accounts/${h.accountId}/users/leaky-signed/apiKeys/${keyId}"`);
      assert.ok(entry, "the leak is audited in the key's account");
      assert.equal(entry.principal, "secret-scanner");
      assert.equal(entry.payload.url, url);
      assert.deepEqual(entry.payload.reportedBy, { keyIdentifier: KEY_ID });
      assert.ok(!JSON.stringify(entry).includes(key), "the key itself is not recorded");

      // Delivered to the account's webhook, signed per Standard Webhooks.
      const name = `accounts/${h.accountId}/users/leaky-signed/apiKeys/${keyId}`;
      const delivered = await until("api_key.leaked at the receiver", async () => receiver.received.find((r) => r.body.includes(name)));
      const event = new Webhook(signingSecret).verify(delivered.body, delivered.headers) as { type: string; data: Record<string, unknown> };
      assert.equal(event.type, "api_key.leaked");
      assert.deepEqual(event.data, {
        account: `accounts/${h.accountId}`,
        apiKey: name,
        disableReason: "EXPOSED",
        url,
        source: "content",
        type: "hearth_api_key",
      });
      assert.ok(!delivered.body.includes(key), "the event carries no secret");
    });

    test("a signed report sent again is not acted on again: a key an admin re-enabled stays enabled; a new report still disables it", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "leaky-replayed");
      const keyPath = `/v1/accounts/${h.accountId}/users/leaky-replayed/apiKeys/${keyId}`;
      const body = findings({ token: key, url: "https://github.com/octo/public-repo/blob/def456/config.yml" });
      const headers = signed(scanner.privateKey, body);
      assert.equal((await report(h, body, headers)).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
      // The admin judges the finding harmless (a revoked fixture, say) and enables the key again.
      assert.equal((await h.call("POST", `${keyPath}:enable`, { body: {} })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200);

      // Whoever captured the signed report sends it again, byte for byte: the same answer, no effect.
      const replayed = await report(h, body, headers);
      assert.equal(replayed.status, 200, replayed.text);
      assert.deepEqual(JSON.parse(replayed.text), []);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200, "the re-enabled key still works");
      assert.equal((await h.call("GET", keyPath)).body.state, "ENABLED");
      assert.equal((await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "${keyPath.slice(4)}"`)).length, 1, "one entry: the first report's");

      // A new finding of the same key (another place, so another body) is acted on.
      const again = findings({ token: key, url: "https://github.com/octo/public-repo/blob/0a1b2c/config.yml" });
      assert.equal((await report(h, again, signed(scanner.privateKey, again))).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
      assert.equal((await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "${keyPath.slice(4)}"`)).length, 2);
    });

    test("the same report sent several times at once is acted on once: the others are answered 503 until it is done, then 200 and nothing", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "leaky-burst");
      const resource = `accounts/${h.accountId}/users/leaky-burst/apiKeys/${keyId}`;
      const body = findings({ token: key, url: "https://github.com/octo/public-repo/blob/b0b0b0/burst.env" });
      const headers = signed(scanner.privateKey, body);
      const answers = await Promise.all(Array.from({ length: 6 }, () => report(h, body, headers)));
      assert.ok(
        answers.every((a) => a.status === 200 || a.status === 503),
        answers.map((a) => a.status).join(","),
      );
      assert.ok(answers.some((a) => a.status === 200));
      for (const busy of answers.filter((a) => a.status === 503)) assert.equal(busy.retryAfter, "5", "a copy in flight is told when to come back");
      assert.equal((await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "${resource}"`)).length, 1, "acted on once");
      const again = await report(h, body, headers);
      assert.equal(again.status, 200, again.text);
      assert.equal((await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "${resource}"`)).length, 1);
    });

    test("a report that fails part way gives up its claim: the scanner's retry is acted on", async () => {
      const { key } = await serviceAccountWithKey(h, "leaky-retried");
      const body = findings({ token: key, url: "https://github.com/octo/public-repo/blob/c1c1c1/retry.env" });
      const headers = signed(scanner.privateKey, body);
      const unblock = await blockAuditWrites(h.deps.store);
      try {
        const failed = await report(h, body, headers);
        assert.equal(failed.status, 503, failed.text);
      } finally {
        await unblock();
      }
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200, "nothing was changed");
      const retried = await report(h, body, headers);
      assert.equal(retried.status, 200, retried.text);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401, "the retry disabled it");
    });

    test("a report with the shared secret disables the key too, and the keys made through it, which the leak's finder may hold", async () => {
      const { key } = await serviceAccountWithKey(h, "leaky-secret");
      const minted = await h.call("POST", `/v1/accounts/${h.accountId}/users/leaky-secret/apiKeys`, { key, body: { apiKey: { displayName: "minted" } } });
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      const res = await report(h, findings({ token: key, url: "https://gitlab.example/snippets/7" }), { "x-hearth-leak-report-secret": SECRET });
      assert.equal(res.status, 200, res.text);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
      const refused = await h.call("GET", "/verifyApiKey", { key: minted.body.key });
      assert.equal(refused.status, 401, "the key made through the leaked one");
      assert.match(refused.body.error.message, /reason EXPOSED/);
      const [entry] = await auditEntries(h, `method = "ReportApiKeyLeak" AND resource : "leaky-secret"`);
      assert.deepEqual(entry.payload.reportedBy, { sharedSecret: true });
      assert.deepEqual(entry.payload.alsoDisabled, [minted.body.name]);
    });

    test("a report with the shared secret is acted on each time it comes: a scanner's next finding of a re-enabled key may have the same body", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "leaky-secret-again");
      const keyPath = `/v1/accounts/${h.accountId}/users/leaky-secret-again/apiKeys/${keyId}`;
      const body = JSON.stringify([{ token: key, type: "hearth_api_key" }]);
      assert.equal((await report(h, body, { "x-hearth-leak-report-secret": SECRET })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
      assert.equal((await h.call("POST", `${keyPath}:enable`, { body: {} })).status, 200);
      assert.equal((await report(h, body, { "x-hearth-leak-report-secret": SECRET })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401, "found again, disabled again");
      assert.equal((await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "${keyPath.slice(4)}"`)).length, 2);
    });

    test("a leaked key of another account is audited in that account", async () => {
      const otherAdmin = await otherAccount(h, "leak-other");
      const sa = await h.call("POST", `/v1/accounts/leak-other/users?userId=robot`, { key: otherAdmin, body: { serviceAccount: true } });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
      const made = await h.call("POST", `/v1/accounts/leak-other/users/robot/apiKeys`, { key: otherAdmin, body: { apiKey: {} } });
      const url = "https://github.com/someone/else/commit/def456";
      const body = findings({ token: made.body.key, url });
      assert.equal((await report(h, body, signed(scanner.privateKey, body))).status, 200);
      const there = await h.call("GET", `/v1/accounts/leak-other/auditLogs?filter=${encodeURIComponent('method = "ReportApiKeyLeak"')}`, { key: otherAdmin });
      assert.equal(there.body.auditLogs.length, 1);
      assert.equal(there.body.auditLogs[0].payload.url, url);
      assert.equal((await auditEntries(h, `method = "ReportApiKeyLeak" AND resource : "leak-other"`)).length, 0);
    });

    test("real, made-up and foreign tokens get the same answer", async () => {
      const { key } = await serviceAccountWithKey(h, "leaky-compare");
      const url = "https://github.com/x/y/blob/z/a.py";
      const answers = [];
      for (const token of [key, generateKey("hk_").key, "ghp_notAHearthKeyAtAll0123456789", key]) {
        const body = findings({ token, url });
        const res = await report(h, body, signed(scanner.privateKey, body));
        answers.push({ status: res.status, text: res.text, contentType: res.contentType });
      }
      for (const answer of answers.slice(1)) assert.deepEqual(answer, answers[0]);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
    });

    test("forged or unsigned reports are refused before anything is read", async () => {
      const { key } = await serviceAccountWithKey(h, "not-leaked");
      const body = findings({ token: key, url: "https://github.com/a/b" });
      const forger = keyPair();
      const refusals = [
        await report(h, body, signed(forger.privateKey, body)), // another key's signature
        await report(h, body, signed(scanner.privateKey, findings({ token: "hk_other", url: "https://github.com/a/b" }))), // signature of another body
        await report(h, body, signed(scanner.privateKey, body, "not-a-configured-key")), // wrong key id
        await report(h, body, { "Github-Public-Key-Identifier": KEY_ID, "Github-Public-Key-Signature": "not base64!" }),
        await report(h, body, { "x-hearth-leak-report-secret": `${SECRET}x` }), // wrong secret
        await report(h, body, {}), // nothing
      ];
      for (const res of refusals) assert.equal(res.status, 401, res.text);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200, "the key still works");
    });

    test("one odd finding does not stop the report: over-long text is cut short and marked, a finding without a token is skipped, every key is disabled", async () => {
      const first = await serviceAccountWithKey(h, "leaky-odd-1");
      const second = await serviceAccountWithKey(h, "leaky-odd-2");
      const longUrl = `https://example.com/${"a".repeat(6327)}`;
      assert.equal(longUrl.length, 6347);
      const body = JSON.stringify([
        { token: generateKey("hk_").key, type: "hearth_api_key", url: longUrl, source: "content" }, // made up, with a 6347-character url
        { token: first.key, type: "hearth_api_key", url: "https://github.com/octo/repo/blob/1/.env", source: "content" },
        { url: "https://example.com/no-token" },
        { token: 42, url: "https://example.com/not-a-string" },
        "not an object",
        null,
        { token: second.key, type: "t".repeat(300), url: `https://example.com/x${"\u202e".repeat(3000)}` },
      ]);
      const res = await report(h, body, signed(scanner.privateKey, body));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(JSON.parse(res.text), []);
      assert.equal((await h.call("GET", "/verifyApiKey", { key: first.key })).status, 401, "the real key beside the odd findings is disabled");
      assert.equal((await h.call("GET", "/verifyApiKey", { key: second.key })).status, 401, "so is the one whose own text was too long");

      const [plain] = await auditEntries(h, `method = "ReportApiKeyLeak" AND resource : "leaky-odd-1"`);
      assert.equal(plain!.payload.url, "https://github.com/octo/repo/blob/1/.env");
      assert.equal(plain!.payload.truncated, undefined);
      const [cut] = await auditEntries(h, `method = "ReportApiKeyLeak" AND resource : "leaky-odd-2"`);
      assert.deepEqual(cut!.payload.truncated, ["url", "type"]);
      assert.equal(cut!.payload.type, "t".repeat(256));
      assert.equal(cut!.payload.source, "");
      const url = cut!.payload.url as string;
      assert.ok(url.length <= 2048 && url.length > 2000, `${url.length} characters kept`);
      assert.match(url, /^https:\/\/example\.com\/x(\\u202e)+$/, "escaped, and cut between escapes, never inside one");
    });

    test("a NUL in a report is escaped like any control character: the credential is checked first and the key is disabled", async () => {
      const { key, keyId } = await serviceAccountWithKey(h, "leaky-nul");
      const body = findings({ token: key, url: "https://example.com/a\u0000b" });
      assert.ok(body.includes("\\u0000"));
      assert.equal((await report(h, body, {})).status, 401, "without a credential: 401, as for any other body");
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 200);
      const res = await report(h, body, signed(scanner.privateKey, body));
      assert.equal(res.status, 200, res.text);
      assert.equal((await h.call("GET", "/verifyApiKey", { key })).status, 401);
      const [entry] = await auditEntries(h, `method = "ReportApiKeyLeak" AND resource = "accounts/${h.accountId}/users/leaky-nul/apiKeys/${keyId}"`);
      assert.equal(entry!.payload.url, "https://example.com/a\\u0000b", "kept as the six characters \\u0000");
    });

    test("a malformed or oversized report is a 400 naming the problem, once verified", async () => {
      const secret = { "x-hearth-leak-report-secret": SECRET };
      const bad = await report(h, "[{", secret);
      assert.equal(bad.status, 400);
      assert.match(bad.text, /malformed JSON/);
      const notArray = await report(h, JSON.stringify({ token: "hk_x", url: "u" }), secret);
      assert.equal(notArray.status, 400);
      assert.match(notArray.text, /array/);
      const tooMany = await report(h, JSON.stringify(Array.from({ length: 1001 }, () => ({ token: "t", url: "u" }))), secret);
      assert.equal(tooMany.status, 400);
      assert.equal((await report(h, "[{", {})).status, 401, "an unsigned malformed body is refused as unsigned");
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`leak reports with a wrong credential count as failed authentications (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_LEAK_REPORT_SECRET: SECRET, HEARTH_AUTH_FAILURES_SLOW: "100", HEARTH_AUTH_FAILURES_BLOCK: "4" });
      await h.listen();
    });
    after(() => h.stop());

    test("a report holding a NUL with a wrong secret is a 401 counted like any other, then a 429", async () => {
      const body = findings({ token: generateKey("hk_").key, url: "https://example.com/\u0000" });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await report(h, body, { "x-hearth-leak-report-secret": `${SECRET}x` })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429, 429, 429]);
    });
  });
}

describe("leak report settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-leak-keys-"));
  const { pem } = keyPair();

  test("the key document is taken inline or from a file", () => {
    const file = join(dir, "keys.json");
    writeFileSync(file, keyDocument(pem, "from-file"));
    assert.equal(loadConfig({ HEARTH_LEAK_REPORT_PUBLIC_KEYS: keyDocument(pem) }).leakReports.publicKeys[0]!.keyIdentifier, KEY_ID);
    assert.equal(loadConfig({ HEARTH_LEAK_REPORT_PUBLIC_KEYS: file }).leakReports.publicKeys[0]!.keyIdentifier, "from-file");
  });

  test("bad values stop start-up with a sentence naming the variable", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }) as string;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ HEARTH_LEAK_REPORT_PUBLIC_KEYS: "{not json" }, /HEARTH_LEAK_REPORT_PUBLIC_KEYS is not valid JSON/],
      [{ HEARTH_LEAK_REPORT_PUBLIC_KEYS: join(dir, "missing.json") }, /HEARTH_LEAK_REPORT_PUBLIC_KEYS is neither JSON nor a readable file/],
      [{ HEARTH_LEAK_REPORT_PUBLIC_KEYS: '{"public_keys":[]}' }, /at least one key/],
      [{ HEARTH_LEAK_REPORT_PUBLIC_KEYS: keyDocument("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----") }, /is not a PEM public key/],
      [{ HEARTH_LEAK_REPORT_PUBLIC_KEYS: keyDocument(rsa) }, /must be an ECDSA P-256 public key/],
      [{ HEARTH_LEAK_REPORT_SECRET: "short" }, /HEARTH_LEAK_REPORT_SECRET must be at least 32 characters/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig(env), message);
  });
});
