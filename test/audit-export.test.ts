import assert from "node:assert/strict";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { createAccount } from "../src/service/accounts.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { appendChainedEntries } from "./support/audit-entries.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { hearth } from "./support/process.ts";
import { firectlAt, ok } from "./support/run.ts";

/**
 * `GET …/auditLogs:export` streams 200,000 entries to a slow reader while the server answers other
 * requests, and the file verifies offline with `hearth audit verify --file`; filtered, CSV and
 * non-admin exports; `firectl audit-logs export`.
 */
const A = "/v1/accounts/my-account";
const BULK = 200_000;

for (const dialect of DIALECTS) {
  describe(`audit log export (${dialect})`, () => {
    let h: TestHearth;
    let base = "";
    const dir = mkdtempSync(join(tmpdir(), "hearth-audit-export-"));
    const get = (path: string, key = h.adminKey) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });

    before(async () => {
      h = await startHearth(dialect);
      base = await h.listen();
      await appendChainedEntries(h.deps.store, "my-account", BULK);
      for (let i = 0; i < 3; i++) assert.equal((await h.call("POST", `${A}/users?userId=sa-${i}`, { body: { serviceAccount: true } })).status, 200);
    });
    after(async () => {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("200,000 entries stream to a slow reader while the server keeps answering, and verify offline", async () => {
      const res = await get(`${A}/auditLogs:export?format=jsonl`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^application\/jsonl/);
      assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="audit-my-account.jsonl"/);
      const file = join(dir, "audit.jsonl");
      const out = createWriteStream(file);
      const reader = res.body!.getReader();
      let chunks = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks++;
        if (!out.write(value)) await once(out, "drain");
        // A slow reader: pauses while other clients are served (the export holds no lock and no buffer for them).
        if (chunks % 200 === 1) {
          await sleep(20);
          const other = await get(`${A}/users/sa-1`);
          assert.equal(other.status, 200, "another request is answered while the export streams");
        }
      }
      await new Promise<void>((r) => out.end(r));
      assert.ok(chunks > 10, "the body arrived in many chunks");

      const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      let count = 0;
      let header: any;
      for await (const line of lines) {
        if (count === 0) header = JSON.parse(line);
        count++;
      }
      assert.equal(header.type, "header");
      assert.equal(header.filtered, false);
      assert.equal(header.anchor, null, "the whole chain: it starts at the genesis");
      assert.equal(header.publicKeys.length, 1);
      assert.ok(count > BULK + 200, `${count} lines: entries and checkpoints`);

      const run = await hearth(["audit", "verify", "--file", file], h.env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const verified = /^verified: (\d+) entries, (\d+) signed checkpoints/.exec(run.stdout);
      assert.ok(verified, run.stdout);
      assert.ok(Number(verified[1]) >= BULK + 3);
      assert.ok(Number(verified[2]) >= BULK / 1000);
    });

    test("a time range carries the checkpoint before it and the public keys; an edited line is named offline", async () => {
      const keys = await (await fetch(`${base}/.well-known/hearth-audit-keys`)).text();
      writeFileSync(join(dir, "keys.json"), keys);
      const db = h.deps.store.db;
      const start = (
        await db
          .selectFrom("audit_logs")
          .select("timestamp")
          .where("seq", "=", BULK - 1500)
          .executeTakeFirstOrThrow()
      ).timestamp;
      // The first entry of the range in chain order (timestamps of concurrent writers need not follow it exactly).
      const first = (
        await db
          .selectFrom("audit_logs")
          .select((eb) => eb.fn.min("seq").as("seq"))
          .where("timestamp", ">=", start)
          .executeTakeFirstOrThrow()
      ).seq;
      const res = await get(`${A}/auditLogs:export?startTime=${encodeURIComponent(new Date(start).toISOString())}`);
      assert.equal(res.status, 200);
      const text = await res.text();
      const lines = text.trimEnd().split("\n");
      const header = JSON.parse(lines[0]!);
      const anchor = Math.floor((Number(first) - 1) / 1000) * 1000;
      assert.equal(header.anchor.count, anchor, "the signed checkpoint before the range's first entry");
      assert.equal(JSON.parse(lines[1]!).seq, anchor + 1);
      const file = join(dir, "range.jsonl");
      writeFileSync(file, text);
      const good = await hearth(["audit", "verify", "--file", file, "--public-key", join(dir, "keys.json")], h.env);
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /^verified: \d+ entries/);

      const victim = JSON.parse(lines[10]!);
      const edited = { ...victim, entry: { ...victim.entry, resource: "accounts/my-account/users/forged" } };
      writeFileSync(file, [...lines.slice(0, 10), JSON.stringify(edited), ...lines.slice(11)].join("\n"));
      const bad = await hearth(["audit", "verify", "--file", file, "--public-key", join(dir, "keys.json")], h.env);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, new RegExp(`^BROKEN at entry ${victim.entry.id}: EDITED`));

      // Lines swapped in the file: the reorder is named.
      writeFileSync(file, [...lines.slice(0, 10), lines[11], lines[10], ...lines.slice(12)].join("\n"));
      const swapped = await hearth(["audit", "verify", "--file", file], h.env);
      assert.equal(swapped.code, 1);
      assert.match(swapped.stdout, /: (REORDERED|MISSING|INSERTED)/);

      // A file signed by another key than the server's published ones is refused.
      writeFileSync(join(dir, "other-keys.json"), JSON.stringify({ keys: [{ kid: header.anchor.keyId, x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] }));
      writeFileSync(file, text);
      const forged = await hearth(["audit", "verify", "--file", file, "--public-key", join(dir, "other-keys.json")], h.env);
      assert.equal(forged.code, 1);
      assert.match(forged.stdout, /BAD_CHECKPOINT/);
    });

    test("only a file the server sealed verifies: one cut short, added to, relabelled or made up is refused with the server's keys", async () => {
      const keys = join(dir, "sealed-keys.json");
      writeFileSync(keys, await (await fetch(`${base}/.well-known/hearth-audit-keys`)).text());
      // An account of a few entries: its whole chain is a short file.
      const admin = (await createAccount(h.deps.store, h.deps.config, "sealed-acct", "admin@sealed.example")).apiKey;
      for (let i = 0; i < 3; i++)
        await fetch(`${base}/v1/accounts/sealed-acct/users?userId=u${i}`, {
          method: "POST",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: '{"serviceAccount":true}',
        });
      // A refused inference call whose model holds a line separator (U+2028), kept in its entry's payload: readline would end a line there.
      const separated = await fetch(`${base}/inference/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "no-such\u2028model", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.ok(separated.status >= 400);
      const res = await get("/v1/accounts/sealed-acct/auditLogs:export", admin);
      const lines = (await res.text()).trimEnd().split("\n");
      const seal = JSON.parse(lines.at(-1)!);
      assert.deepEqual(
        [seal.type, seal.account, seal.filtered, seal.entries],
        ["seal", "sealed-acct", false, lines.filter((l) => JSON.parse(l).type === "entry").length],
      );
      const check = async (name: string, text: string) => {
        const file = join(dir, `${name}.jsonl`);
        writeFileSync(file, text);
        return hearth(["audit", "verify", "--file", file, "--public-key", keys], h.env);
      };
      assert.ok(lines.some((l) => l.includes("no-such\\u2028model")) && !lines.some((l) => l.includes("\u2028")), "written escaped");
      const whole = await check("whole", `${lines.join("\n")}\n`);
      assert.equal(whole.code, 0, whole.stdout + whole.stderr);
      assert.match(whole.stdout, /sealed by audit key/);

      const entries = lines.filter((l) => JSON.parse(l).type === "entry");
      const lastEntry = lines.lastIndexOf(entries.at(-1)!);
      const cases: Array<[string, string, RegExp]> = [
        // Cut short at the end: no seal.
        ["cut", lines.slice(0, -1).join("\n"), /UNSEALED: the file ends without its signed seal/],
        // The last entry dropped, the seal kept: it vouches for one more.
        ["dropped", [...lines.slice(0, lastEntry), ...lines.slice(lastEntry + 1)].join("\n"), /BAD_SEAL: the seal vouches for \d+ entries/],
        // Relabelled as filtered, so that entries are checked one by one: the seal says otherwise.
        [
          "relabelled",
          [lines[0]!.replace('"filtered":false', '"filtered":true'), ...lines.slice(1)].join("\n"),
          /BAD_SEAL: the seal names another account or kind of export/,
        ],
        // A line after the seal.
        ["appended", [...lines, entries.at(-1)!].join("\n"), /BAD_SEAL: the file goes on after its seal/],
        // A seal whose digest was changed (its signature no longer holds).
        [
          "reseal",
          [...lines.slice(0, -1), JSON.stringify({ ...seal, digest: "A".repeat(43) })].join("\n"),
          /BAD_SEAL: the seal is not signed by a published key/,
        ],
      ];
      for (const [name, text, expected] of cases) {
        const run = await check(name, text);
        assert.equal(run.code, 1, `${name}: ${run.stdout}`);
        assert.match(run.stdout, expected, name);
      }

      // A file made up from nothing, with the server's public keys in its header: entries hash as they should, but nothing signed them.
      const { entryHash, GENESIS_HASH } = await import("../src/domain/audit-chain.ts");
      const header = JSON.parse(lines[0]!);
      const entry = { ...JSON.parse(entries[0]!).entry, id: "forged-1", principal: "ceo@example.com" };
      for (const filtered of [true, false]) {
        const made = [
          JSON.stringify({ ...header, filtered, anchor: null }),
          JSON.stringify({ type: "entry", seq: 1, prevHash: GENESIS_HASH, hash: entryHash(GENESIS_HASH, entry), entry }),
        ].join("\n");
        const run = await check(`made-up-${filtered}`, made);
        assert.equal(run.code, 1, run.stdout);
        assert.match(run.stdout, /UNSEALED/);
      }
    });

    test("a filtered export carries each entry's hash; CSV has a header row and quoted fields", async () => {
      const filtered = await (await get(`${A}/auditLogs:export?filter=${encodeURIComponent('method="CreateUser"')}`)).text();
      const lines = filtered
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(lines[0].filtered, true);
      assert.equal(lines[0].anchor, null);
      assert.equal(lines.length, 5, "the header, the three CreateUser entries and the seal");
      assert.deepEqual([lines[4].type, lines[4].filtered, lines[4].entries], ["seal", true, 3]);
      for (const line of lines.slice(1, 4)) {
        assert.equal(line.entry.method, "CreateUser");
        assert.match(line.hash, /^[0-9a-f]{64}$/);
      }
      const file = join(dir, "filtered.jsonl");
      writeFileSync(file, filtered);
      const run = await hearth(["audit", "verify", "--file", file], h.env);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^verified \(a filtered export: each entry against its own hash, not a contiguous chain\): 3 entries/);
      assert.match(run.stdout, /sealed by audit key \S+ at \S+: the file is exactly what the server exported/);

      const csv = await get(`${A}/auditLogs:export?format=csv&filter=${encodeURIComponent('method="CreateUser"')}`);
      assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
      const rows = (await csv.text()).trimEnd().split("\r\n");
      assert.equal(
        rows[0],
        "id,timestamp,principal,principalUid,principalType,authentication,method,resource,statusCode,statusMessage,isAdminAction,payload,clientIp,userAgent,requestId,seq,prevHash,hash",
      );
      assert.equal(rows.length, 4);
      assert.match(rows[1]!, /,CreateUser,accounts\/my-account\/users\/sa-0,0,,true,"\{""/);

      const bad = await get(`${A}/auditLogs:export?format=xml`);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as any).error.message, /format/);
      assert.equal((await get(`${A}/auditLogs:export?filter=${encodeURIComponent("nope=1")}`)).status, 400);
    });

    test("a non-admin exports only its own entries; firectl writes the export to stdout", async () => {
      const { key } = await serviceAccountWithKey(h, "exporter", "user");
      await h.call("POST", `${A}/users/exporter/apiKeys`, { key, body: { apiKey: { displayName: "second" } } });
      const mine = (await (await get(`${A}/auditLogs:export`, key)).text())
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(mine[0].filtered, true);
      assert.deepEqual(
        mine.slice(1, -1).map((l) => `${l.entry.method} ${l.entry.principal}`),
        ["CreateApiKey exporter@my-account.sa.hearth.local"],
      );
      assert.deepEqual([mine.at(-1).type, mine.at(-1).entries], ["seal", 1]);

      const firectl = firectlAt(dir, base, h.adminKey);
      const out = ok(await firectl(["audit-logs", "export", "--format", "jsonl", "--filter", 'method="CreateApiKey"']));
      const lines = out
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(lines[0].type, "header");
      assert.equal(lines.at(-1).type, "seal");
      assert.ok(lines.slice(1, -1).every((l) => l.entry.method === "CreateApiKey"));
      assert.ok(lines.length >= 4);
      const refused = await firectlAt(dir, base, key)(["audit-logs", "export", "--format", "csv", "--filter", "nope=1"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /INVALID_ARGUMENT/);
      assert.doesNotMatch(readFileSync(join(dir, "keys.json"), "utf8"), /private/);
    });
  });
}
