import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { setRoleAsOperator } from "../src/service/operator-set-role.ts";

/**
 * What whoever holds a leaked key can do, from an attack on this wave's work: each reproduction's
 * values kept. Before, the leaked key rotated itself to a successor that survived the leak report,
 * a `user` re-enabled the reported key, a key expiring in minutes minted one that never expires, an
 * EXPOSED cascade took the last acting admin's key, a spend limit of 1e-10 dollars meant none, an
 * IPv4-mapped network never matched, and a 10,000-year grace period wrote "+012027-…" timestamps.
 */
const A = "/v1/accounts/my-account";
const SECRET = "leak-report-secret-0123456789abcdefghij";

for (const dialect of DIALECTS) {
  describe(`containing a leaked key (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      // A short window: refused attempts are audited one by one again soon after earlier tests' refusals.
      h = await startHearth(dialect, { HEARTH_LEAK_REPORT_SECRET: SECRET, HEARTH_AUTH_FAILURE_WINDOW_MS: "100" });
      await h.listen();
    });
    after(() => h.stop());

    const keysOf = (user: string) => `${A}/users/${user}/apiKeys`;
    const works = async (key: string) => (await h.call("GET", "/verifyApiKey", { key })).status === 200;
    const reportLeak = async (token: string) => {
      const res = await fetch(`${h.baseUrl}/v1/apiKeys:reportLeak`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hearth-leak-report-secret": SECRET },
        body: JSON.stringify([{ token, type: "hearth_api_key", url: "https://github.com/octo/repo/blob/main/.env", source: "content" }]),
      });
      assert.equal(res.status, 200, await res.text());
    };

    test("a successor the leaked key rotated itself (or a sibling) to is disabled with it; rotated by an admin, it is not", async () => {
      const leaked = await serviceAccountWithKey(h, "leaky", "user");
      const sibling = await h.call("POST", keysOf("leaky"), { body: { apiKey: { displayName: "prod" } } });
      // Through the leaked key: itself with a day's grace, and the owner's other key at once.
      const self = await h.call("POST", `${keysOf("leaky")}/${leaked.keyId}:rotate`, { key: leaked.key, body: { gracePeriod: "86400s" } });
      assert.equal(self.status, 200, JSON.stringify(self.body));
      const other = await h.call("POST", `${keysOf("leaky")}/${sibling.body.keyId}:rotate`, { key: leaked.key, body: { gracePeriod: "0s" } });
      assert.equal(other.status, 200, JSON.stringify(other.body));
      assert.ok(await works(self.body.key));
      await reportLeak(leaked.key);
      assert.equal(await works(leaked.key), false);
      assert.equal(await works(self.body.key), false, "the successor minted through the leaked key goes with it");
      assert.equal(await works(other.body.key), false, "so does the sibling's successor minted through it");
      const entry = (await auditEntries(h, 'method="ReportApiKeyLeak"'))[0];
      assert.equal(entry.payload.alsoDisabled.length, 2);

      // An admin's rotation in its own right: the old key reported afterwards does not take the replacement.
      const clean = await serviceAccountWithKey(h, "clean", "user");
      const byAdmin = await h.call("POST", `${keysOf("clean")}/${clean.keyId}:rotate`, { body: { gracePeriod: "3600s" } });
      assert.equal(byAdmin.status, 200);
      await reportLeak(clean.key);
      assert.equal(await works(byAdmin.body.key), true);
    });

    test("a key deleted before its leak is reported still takes the keys made through it, and the report is recorded", async () => {
      const leaked = await serviceAccountWithKey(h, "deleter", "user");
      const child = await h.call("POST", keysOf("deleter"), { key: leaked.key, body: { apiKey: { displayName: "child" } } });
      assert.equal(child.status, 200);
      const grandchild = await h.call("POST", keysOf("deleter"), { key: child.body.key, body: { apiKey: { displayName: "grandchild" } } });
      assert.equal((await h.call("DELETE", `${keysOf("deleter")}/${leaked.keyId}`, { key: leaked.key })).status, 200);
      assert.ok(await works(child.body.key));
      await reportLeak(leaked.key);
      assert.equal(await works(child.body.key), false);
      assert.equal(await works(grandchild.body.key), false);
      const entry = (await auditEntries(h, `method="ReportApiKeyLeak" AND resource="${keysOf("deleter").slice(4)}/${leaked.keyId}"`))[0];
      assert.equal(entry?.payload.deleted, true, JSON.stringify(entry));
      assert.equal(entry.payload.alsoDisabled.length, 2);
      // So with the owner deleted: its keys' tombstones reach a key made through them for another principal.
      const owner = await serviceAccountWithKey(h, "gone-owner", "admin");
      await serviceAccountWithKey(h, "other-bot", "user");
      const minted = await h.call("POST", keysOf("other-bot"), { key: owner.key, body: { apiKey: { displayName: "minted" } } });
      assert.equal(minted.status, 200, JSON.stringify(minted.body));
      assert.equal((await h.call("DELETE", `${A}/users/gone-owner`)).status, 200);
      await reportLeak(owner.key);
      assert.equal(await works(minted.body.key), false);
      // A chain cut in the middle (found by attacking this change): L → M → N, M deleted, then L reported;
      // and the same with L deleted too before the report.
      for (const deleteLeaked of [false, true]) {
        const user = `chain-${deleteLeaked ? "b" : "a"}`;
        const l = await serviceAccountWithKey(h, user, "admin");
        const m = await h.call("POST", keysOf(user), { key: l.key, body: { apiKey: { displayName: "m" } } });
        const n = await h.call("POST", keysOf(user), { key: m.body.key, body: { apiKey: { displayName: "n" } } });
        assert.equal((await h.call("DELETE", `${keysOf(user)}/${m.body.keyId}`, { key: l.key })).status, 200);
        if (deleteLeaked) assert.equal((await h.call("DELETE", `${keysOf(user)}/${l.keyId}`, { key: l.key })).status, 200);
        assert.ok(await works(n.body.key));
        await reportLeak(l.key);
        assert.equal(await works(n.body.key), false, `${user}: the key below the deleted one goes too`);
        const [report] = await auditEntries(h, `method="ReportApiKeyLeak" AND resource="${keysOf(user).slice(4)}/${l.keyId}"`);
        assert.ok(report, `${user}: the report is recorded`);
      }
      // A deleted key that made nothing leaves nothing to act on: the answer is the same.
      const plain = await serviceAccountWithKey(h, "plain-deleted", "user");
      assert.equal((await h.call("DELETE", `${keysOf("plain-deleted")}/${plain.keyId}`)).status, 200);
      await reportLeak(plain.key);
    });

    test("a reported key used at a gateway's /verifyApiKey or on inference is refused and audited in its account, with its owner and id", async () => {
      const used = await serviceAccountWithKey(h, "still-used", "user");
      await reportLeak(used.key);
      const before = (await auditEntries(h, 'principal="still-used@my-account.sa.hearth.local"')).length;
      await new Promise((r) => setTimeout(r, 150)); // a fresh window of refusals from this address
      assert.equal((await fetch(`${h.baseUrl}/verifyApiKey`, { headers: { authorization: `Bearer ${used.key}` } })).status, 401);
      const inference = await fetch(`${h.baseUrl}/inference/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${used.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "accounts/fireworks/models/x", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(inference.status, 401);
      const entries = await auditEntries(h, 'principal="still-used@my-account.sa.hearth.local"');
      assert.equal(entries.length, before + 2, JSON.stringify(entries.slice(0, 2)));
      for (const entry of entries.slice(0, 2)) {
        assert.equal(entry.status.code, "UNAUTHENTICATED");
        assert.match(entry.status.message, /the API key is disabled \(reason EXPOSED/);
        assert.equal(entry.apiKeyId, used.keyId);
      }
      assert.deepEqual(
        entries
          .slice(0, 2)
          .map((e: { method: string }) => e.method)
          .sort(),
        ["CreateChatCompletion", "VerifyApiKey"],
      );
    });

    test("a token repeated 300 times in one report is acted on once; a finding's control and bidi characters are stored escaped", async () => {
      const many = await serviceAccountWithKey(h, "many-copies", "user");
      const url = "https://github.com/octo/repo/blob/main/\u202egpj.exe\u0007\r\nFAKE LOG LINE\ud800";
      const res = await fetch(`${h.baseUrl}/v1/apiKeys:reportLeak`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hearth-leak-report-secret": SECRET },
        body: JSON.stringify(Array.from({ length: 300 }, () => ({ token: many.key, type: "hearth_api_key", url, source: "content" }))),
      });
      assert.equal(res.status, 200);
      const entries = await auditEntries(h, `method="ReportApiKeyLeak" AND resource="${keysOf("many-copies").slice(4)}/${many.keyId}"`);
      assert.equal(entries.length, 1);
      assert.equal(entries[0].payload.url, "https://github.com/octo/repo/blob/main/\\u202egpj.exe\\u0007\\u000d\\u000aFAKE LOG LINE\\ud800");
    });

    test("a key sent as x-request-id is not taken as the request's id (it would be logged with every line), on the fast path and the framework's", async () => {
      const { key } = await serviceAccountWithKey(h, "pasted", "user");
      for (const [path, init] of [
        ["/verifyApiKey", { headers: { authorization: `Bearer ${key}`, "x-request-id": key } }],
        [`${A}/users/pasted`, { headers: { authorization: `Bearer ${h.adminKey}`, "x-request-id": key } }],
      ] as const) {
        const res = await fetch(`${h.baseUrl}${path}`, init);
        assert.equal(res.status, 200, path);
        const id = res.headers.get("x-request-id") ?? "";
        assert.notEqual(id, key, path);
        assert.match(id, /^[0-9a-f-]{36}$/, path);
      }
      // Nor a key a client put in a path (the access log wrote it as sent).
      assert.equal((await fetch(`${h.baseUrl}${A}/users/${key}`, { method: "POST" })).status, 405);
      assert.equal(
        h.logs.some((line) => line.includes(key)),
        false,
        "the key is in no log line",
      );
      const ordinary = await fetch(`${h.baseUrl}/verifyApiKey`, { headers: { authorization: `Bearer ${key}`, "x-request-id": "trace_0042.a-b" } });
      assert.equal(ordinary.headers.get("x-request-id"), "trace_0042.a-b", "an ordinary id is kept");
    });

    test("a key disabled as EXPOSED or COMPROMISED is enabled again only by an admin, not by its owner's keys", async () => {
      const owner = await serviceAccountWithKey(h, "reenable", "user");
      const second = await h.call("POST", keysOf("reenable"), { body: { apiKey: { displayName: "second" } } });
      for (const reason of ["EXPOSED", "COMPROMISED"]) {
        assert.equal((await h.call("POST", `${keysOf("reenable")}/${owner.keyId}:disable`, { body: { disableReason: reason } })).status, 200);
        const before = (await auditEntries(h, 'method="EnableApiKey"')).length;
        const refused = await h.call("POST", `${keysOf("reenable")}/${owner.keyId}:enable`, { key: second.body.key, body: {} });
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.match(refused.body.error.message, new RegExp(`enable a key disabled as ${reason}`));
        assert.equal((await auditEntries(h, 'method="EnableApiKey"')).length, before + 1, "the refusal is audited");
        assert.equal(await works(owner.key), false);
        assert.equal((await h.call("POST", `${keysOf("reenable")}/${owner.keyId}:enable`, { body: {} })).status, 200, "the admin may");
        assert.ok(await works(owner.key));
      }
      // Another reason stays the owner's to undo.
      assert.equal((await h.call("POST", `${keysOf("reenable")}/${owner.keyId}:disable`, { body: { disableReason: "UNUSED" } })).status, 200);
      assert.equal((await h.call("POST", `${keysOf("reenable")}/${owner.keyId}:enable`, { key: second.body.key, body: {} })).status, 200);
    });

    test("an API key's expireTime is immutable: sent back unchanged it is accepted, changed it is refused, not ignored", async () => {
      const fixed = await serviceAccountWithKey(h, "fixed-expiry", "user");
      const read = (await h.call("GET", `${keysOf("fixed-expiry")}/${fixed.keyId}`)).body;
      const same = await h.call("PATCH", `${keysOf("fixed-expiry")}/${fixed.keyId}`, { body: { ...read, displayName: "renamed" } });
      assert.equal(same.status, 200, JSON.stringify(same.body));
      const changed = await h.call("PATCH", `${keysOf("fixed-expiry")}/${fixed.keyId}`, { body: { expireTime: "2099-01-01T00:00:00Z" } });
      assert.equal(changed.status, 400, JSON.stringify(changed.body));
      assert.match(changed.body.error.message, /expireTime cannot be changed \(the key's is none\); rotate the key/);
      assert.equal((await h.call("GET", `${keysOf("fixed-expiry")}/${fixed.keyId}`)).body.expireTime, read.expireTime);
    });

    test("a key never outlives the key it is made or rotated through", async () => {
      const soon = new Date(Date.now() + 5 * 60_000).toISOString();
      await serviceAccountWithKey(h, "short", "user");
      const made = await h.call("POST", keysOf("short"), { body: { apiKey: { displayName: "5 min", expireTime: soon } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const short = made.body.key;
      // Unset: the acting key's expiry is inherited.
      const child = await h.call("POST", keysOf("short"), { key: short, body: { apiKey: { displayName: "child" } } });
      assert.equal(child.status, 200, JSON.stringify(child.body));
      assert.equal(child.body.expireTime, made.body.expireTime);
      // Named and later: refused, audited.
      const later = await h.call("POST", keysOf("short"), { key: short, body: { apiKey: { displayName: "late", expireTime: "2099-01-01T00:00:00Z" } } });
      assert.equal(later.status, 403, JSON.stringify(later.body));
      assert.match(later.body.error.message, /after the expiry of the API key making this request/);
      const rotated = await h.call("POST", `${keysOf("short")}/${made.body.keyId}:rotate`, {
        key: short,
        body: { gracePeriod: "0s", expireTime: "2099-01-01T00:00:00Z" },
      });
      assert.equal(rotated.status, 403, JSON.stringify(rotated.body));
      assert.ok(await works(short), "the refused rotation changed nothing");
    });

    test("an EXPOSED cascade that would leave no admin who can act is refused; a leak report still disables (the secret is public)", async () => {
      // A service-account admin with two keys, the second made through the first, made the account's only admin who can act.
      const lone = await serviceAccountWithKey(h, "sadmin", "admin");
      const sk2 = await h.call("POST", keysOf("sadmin"), { key: lone.key, body: { apiKey: { displayName: "sk2" } } });
      assert.equal(sk2.status, 200, JSON.stringify(sk2.body));
      const admins = (await h.call("GET", `${A}/users?filter=${encodeURIComponent('role="admin"')}&pageSize=200`)).body.users as Array<{
        name: string;
        serviceAccount: boolean;
      }>;
      const humans = admins.filter((u) => !u.serviceAccount).map((u) => u.name.split("/").pop()!);
      for (const id of humans) {
        const demoted = await h.call("PATCH", `${A}/users/${id}?updateMask=role`, { key: lone.key, body: { role: "user" } });
        assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
      }
      const cascade = await h.call("POST", `${keysOf("sadmin")}/${lone.keyId}:disable`, { key: sk2.body.key, body: { disableReason: "EXPOSED" } });
      assert.equal(cascade.status, 400, JSON.stringify(cascade.body));
      assert.equal(cascade.body.error.status, "FAILED_PRECONDITION");
      assert.match(cascade.body.error.message, /last live key of the account's last admin who can act/);
      assert.ok((await works(lone.key)) && (await works(sk2.body.key)), "rolled back: both keys work");
      // A leak report: the secret is public, so it is disabled whatever the rule says.
      await reportLeak(lone.key);
      assert.equal(await works(lone.key), false);
      assert.equal(await works(sk2.body.key), false);
      // Restore an acting admin for the rest of the suite (the operator's way).
      for (const id of humans) await setRoleAsOperator(h.deps.store, h.accountId, id, "admin");
    });

    test("a spend limit that rounds to no nano-dollar is refused, not taken as 'no limit'", async () => {
      await serviceAccountWithKey(h, "tiny", "user");
      for (const usd of [1e-10, 4e-10]) {
        const res = await h.call("POST", keysOf("tiny"), { body: { apiKey: { displayName: "tiny", monthlySpendUsd: usd } } });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.error.message, /monthlySpendUsd must be 0 \(no per-key limit\) or at least 0\.000000001/);
      }
      const least = await h.call("POST", keysOf("tiny"), { body: { apiKey: { displayName: "nano", monthlySpendUsd: 1e-9 } } });
      assert.equal(least.status, 200, JSON.stringify(least.body));
      assert.equal(least.body.monthlySpendUsd, 1e-9);
    });

    test("allowedCidrs: an IPv4-mapped network is kept as its IPv4 network and matches; a zone index or a padded prefix is refused", async () => {
      await serviceAccountWithKey(h, "mapped", "user");
      const made = await h.call("POST", keysOf("mapped"), { body: { apiKey: { displayName: "loopback", allowedCidrs: ["::ffff:127.0.0.1"] } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.deepEqual(made.body.allowedCidrs, ["127.0.0.1/32"]);
      const res = await fetch(`${h.baseUrl}/verifyApiKey`, { headers: { authorization: `Bearer ${made.body.key}` } });
      assert.equal(res.status, 200, "a request from 127.0.0.1 is inside it");
      for (const [entry, message] of [
        ["fe80::1%eth0", /a zone index/],
        ["127.0.0.1/032", /without leading zeros/],
        ["::ffff:0:0/95", /needs a prefix of at least 96/],
      ] as const) {
        const bad = await h.call("POST", keysOf("mapped"), { body: { apiKey: { displayName: "bad", allowedCidrs: [entry] } } });
        assert.equal(bad.status, 400, entry);
        assert.match(bad.body.error.message, message, entry);
      }
    });

    test("a grace period or default lifetime that would end after 9999-12-31 is refused, never written as +012027-…", async () => {
      const forever = await serviceAccountWithKey(h, "forever", "user");
      // A part below a millisecond cannot be counted: refused, not dropped ("0.0001s" was a grace of none).
      for (const gracePeriod of ["0.0001s", "604800.000000001s"]) {
        const sub = await h.call("POST", `${keysOf("forever")}/${forever.keyId}:rotate`, { body: { gracePeriod } });
        assert.equal(sub.status, 400, gracePeriod);
        assert.match(sub.body.error.message, /counted in whole milliseconds/);
      }
      const grace = await h.call("POST", `${keysOf("forever")}/${forever.keyId}:rotate`, { body: { gracePeriod: "315576000000s" } });
      assert.equal(grace.status, 400, JSON.stringify(grace.body));
      assert.match(grace.body.error.message, /after 9999-12-31T23:59:59Z/);
      assert.equal((await h.call("PATCH", `${A}/keyPolicy`, { body: { defaultKeyLifetime: "315576000000s" } })).status, 200);
      try {
        const made = await h.call("POST", keysOf("forever"), { body: { apiKey: { displayName: "default life" } } });
        assert.equal(made.status, 400, JSON.stringify(made.body));
        assert.match(made.body.error.message, /after 9999-12-31T23:59:59Z/);
      } finally {
        assert.equal((await h.call("PATCH", `${A}/keyPolicy?updateMask=defaultKeyLifetime`, { body: {} })).status, 200);
      }
    });

    test("concurrent key-policy edits of different fields both hold", async () => {
      assert.equal((await h.call("PATCH", `${A}/keyPolicy`, { body: { maxKeyLifetime: "17280000s" } })).status, 200);
      for (let round = 0; round < 5; round++) {
        const [a, b] = await Promise.all([
          h.call("PATCH", `${A}/keyPolicy`, { body: { defaultKeyLifetime: "8640000s" } }),
          h.call("PATCH", `${A}/keyPolicy`, { body: { maxKeyLifetime: "86400s" } }),
        ]);
        // One order is refused (a default beyond the new maximum); whatever was answered 200 is what is stored.
        const policy = (await h.call("GET", `${A}/keyPolicy`)).body;
        if (a.status === 200 && b.status === 200) assert.fail("both cannot hold: the default would exceed the maximum");
        if (b.status === 200) assert.equal(policy.maxKeyLifetime, "86400s", JSON.stringify(policy));
        if (a.status === 200) assert.equal(policy.defaultKeyLifetime, "8640000s", JSON.stringify(policy));
        assert.equal((await h.call("PATCH", `${A}/keyPolicy?updateMask=defaultKeyLifetime,maxKeyLifetime`, { body: {} })).status, 200);
        assert.equal((await h.call("PATCH", `${A}/keyPolicy`, { body: { maxKeyLifetime: "17280000s" } })).status, 200);
      }
      assert.equal((await h.call("PATCH", `${A}/keyPolicy?updateMask=maxKeyLifetime`, { body: {} })).status, 200);
    });
  });
}
