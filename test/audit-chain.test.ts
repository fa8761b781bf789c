import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { pruneAuditLogs } from "../src/service/retention.ts";

/**
 * The audit log's hash chain: an entry edited, deleted or moved by SQL is named by
 * `GET …/auditLogs:verify`; retention, key rotation and data-access entries keep the chain whole.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`the audit hash chain (${dialect})`, () => {
    let h: TestHearth;
    const db = () => h.deps.store.db;
    const verify = async (query = "") => {
      const res = await h.call("GET", `${A}/auditLogs:verify${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    /** The account's entries in chain order. */
    const chain = () => db().selectFrom("audit_logs").selectAll().where("account_id", "=", "my-account").orderBy("seq").execute();
    /** Puts a deleted entry back where it was (outside the chain first: SQLite's trigger refuses an entry that does not continue the head). */
    const restore = async (row: Awaited<ReturnType<typeof chain>>[number]) => {
      await db()
        .insertInto("audit_logs")
        .values({ ...row, seq: 0 })
        .execute();
      await db().updateTable("audit_logs").set({ seq: row.seq }).where("id", "=", row.id).execute();
    };

    before(async () => {
      h = await startHearth(dialect);
      for (let i = 0; i < 8; i++) assert.equal((await h.call("POST", `${A}/users?userId=sa-${i}`, { body: { serviceAccount: true } })).status, 200);
    });
    after(() => h.stop());

    test("every entry carries its place in the chain, and the chain verifies", async () => {
      const rows = await chain();
      assert.ok(rows.length >= 9);
      assert.deepEqual(
        rows.map((r) => r.seq),
        rows.map((_, i) => i + 1),
      );
      for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
      const create = rows.find((r) => r.method === "CreateUser")!;
      assert.equal(create.principal_type, "USER");
      assert.match(create.authentication, /^apiKey:[a-z0-9]+$/);
      assert.notEqual(create.request_id, "");
      const report = await verify();
      assert.equal(report.verified, true);
      assert.equal(report.entriesVerified, rows.length);
      assert.equal(report.brokenLink, undefined);
    });

    test("an entry edited by SQL is named as EDITED, and only it", async () => {
      const rows = await chain();
      const victim = rows[3]!;
      await db().updateTable("audit_logs").set({ resource: "accounts/my-account/users/someone-else" }).where("id", "=", victim.id).execute();
      const report = await verify();
      assert.equal(report.verified, false);
      assert.deepEqual({ entryId: report.brokenLink.entryId, problem: report.brokenLink.problem }, { entryId: victim.id, problem: "EDITED" });
      assert.equal(report.entriesVerified, 3, "the three entries before it held");
      await db().updateTable("audit_logs").set({ resource: victim.resource }).where("id", "=", victim.id).execute();
      assert.equal((await verify()).verified, true);
    });

    test("a column that repeats a hashed field (the API's message and apiKeyId, the filters' folded text) edited by SQL is named as EDITED", async () => {
      // Regression: verify recomputed only the hashed fields, so an entry whose shown `message` or
      // `apiKeyId` was rewritten, or hidden from filters by its folded text, verified as whole.
      const rows = await chain();
      const victim = rows.find((r) => r.authentication.startsWith("apiKey:"))!;
      const edits = [
        { message: "nothing happened here" },
        { api_key_id: "someone-elses-key" },
        { message_folded: "" },
        { status_message_folded: "permission_denied: refused" },
      ] as const;
      for (const edit of edits) {
        const column = Object.keys(edit)[0]!;
        await db().updateTable("audit_logs").set(edit).where("id", "=", victim.id).execute();
        const report = await verify();
        assert.equal(report.verified, false, column);
        assert.deepEqual(report.brokenLink, { entryId: victim.id, problem: "EDITED", detail: `its ${column} column no longer matches its hashed fields` });
        assert.equal(report.entriesVerified, victim.seq - 1);
        await db()
          .updateTable("audit_logs")
          .set({ [column]: victim[column as keyof typeof victim] })
          .where("id", "=", victim.id)
          .execute();
      }
      assert.equal((await verify()).verified, true);
    });

    test("an entry edited with its hash recomputed is named by the next entry's link", async () => {
      const rows = await chain();
      const victim = rows[2]!;
      await db()
        .updateTable("audit_logs")
        .set({ hash: "ab".repeat(32) })
        .where("id", "=", victim.id)
        .execute();
      const report = await verify();
      assert.equal(report.brokenLink.problem, "EDITED");
      assert.equal(report.brokenLink.entryId, victim.id);
      await db().updateTable("audit_logs").set({ hash: victim.hash }).where("id", "=", victim.id).execute();
    });

    test("a deleted entry is named as the gap before the next one", async () => {
      const rows = await chain();
      const victim = rows[4]!;
      await db().deleteFrom("audit_logs").where("id", "=", victim.id).execute();
      const report = await verify();
      assert.equal(report.verified, false);
      assert.equal(report.brokenLink.problem, "MISSING");
      assert.equal(report.brokenLink.entryId, rows[5]!.id);
      assert.match(report.brokenLink.detail, /1 entry is missing before it \(positions 5\.\.5\)/);
      await restore(victim);
      assert.equal((await verify()).verified, true);
    });

    test("the last entry deleted shows too: the chain's head is longer", async () => {
      const rows = await chain();
      const last = rows.at(-1)!;
      await db().deleteFrom("audit_logs").where("id", "=", last.id).execute();
      const report = await verify();
      assert.equal(report.brokenLink.problem, "MISSING");
      assert.equal(report.brokenLink.entryId, rows.at(-2)!.id);
      await restore(last);
    });

    test("two entries swapped are named as REORDERED", async () => {
      const rows = await chain();
      const [a, b] = [rows[5]!, rows[6]!];
      await db().updateTable("audit_logs").set({ seq: -1 }).where("id", "=", a.id).execute();
      await db().updateTable("audit_logs").set({ seq: a.seq }).where("id", "=", b.id).execute();
      await db().updateTable("audit_logs").set({ seq: b.seq }).where("id", "=", a.id).execute();
      const report = await verify();
      assert.equal(report.verified, false);
      assert.equal(report.brokenLink.problem, "REORDERED");
      assert.equal(report.brokenLink.entryId, b.id);
      assert.match(report.brokenLink.detail, new RegExp(`follows entry ${a.id}`));
      await db().updateTable("audit_logs").set({ seq: a.seq }).where("id", "=", a.id).execute();
      await db().updateTable("audit_logs").set({ seq: b.seq }).where("id", "=", b.id).execute();
      assert.equal((await verify()).verified, true);
    });

    test("an entry inserted by SQL, outside the chain, is named as INSERTED", async () => {
      const forged = { ...(await chain())[0]!, id: "forged-entry", seq: 0, prev_hash: "", hash: "" };
      await db().insertInto("audit_logs").values(forged).execute();
      const report = await verify();
      assert.deepEqual({ entryId: report.brokenLink.entryId, problem: report.brokenLink.problem }, { entryId: "forged-entry", problem: "INSERTED" });
      await db().deleteFrom("audit_logs").where("id", "=", "forged-entry").execute();
    });

    test("a rewritten checkpoint signature is refused; signed checkpoints and the published keys verify", async () => {
      const keys = await h.call("GET", "/.well-known/hearth-audit-keys", { key: null });
      assert.equal(keys.status, 200);
      assert.equal(keys.body.keys.length, 1);
      assert.deepEqual(Object.keys(keys.body.keys[0]).sort(), ["alg", "createTime", "crv", "kid", "kty", "use", "x"]);
      // A checkpoint at the chain's head, as the 10-minute rule would take, signed by the verify call.
      const rows = await chain();
      const last = rows.at(-1)!;
      await db()
        .insertInto("audit_checkpoints")
        .values({ account_id: "my-account", seq: last.seq, last_id: last.id, last_hash: last.hash, time: Date.now(), key_id: "", signature: "" })
        .execute();
      const report = await verify();
      assert.equal(report.verified, true);
      assert.equal(report.checkpointsVerified, 1);
      const signed = await db().selectFrom("audit_checkpoints").selectAll().where("seq", "=", last.seq).executeTakeFirstOrThrow();
      assert.equal(signed.key_id, keys.body.keys[0].kid);
      await db()
        .updateTable("audit_checkpoints")
        .set({ last_hash: "00".repeat(32) })
        .where("seq", "=", last.seq)
        .execute();
      const bad = await verify();
      assert.equal(bad.brokenLink.problem, "BAD_CHECKPOINT");
      await db().updateTable("audit_checkpoints").set({ last_hash: last.hash }).where("seq", "=", last.seq).execute();
      assert.equal((await verify()).verified, true);
    });

    test("the tail cut and the head moved back, past a signed checkpoint, shows as missing", async () => {
      const rows = await chain();
      const signed = await db()
        .selectFrom("audit_checkpoints")
        .selectAll()
        .where("account_id", "=", "my-account")
        .where("signature", "!=", "")
        .orderBy("seq", "desc")
        .executeTakeFirstOrThrow();
      const head = await db().selectFrom("audit_chain_heads").selectAll().where("account_id", "=", "my-account").executeTakeFirstOrThrow();
      const keep = rows.find((r) => r.seq === signed.seq - 3)!;
      const cut = rows.filter((r) => r.seq > keep.seq);
      await db().deleteFrom("audit_logs").where("account_id", "=", "my-account").where("seq", ">", keep.seq).execute();
      await db().updateTable("audit_chain_heads").set({ seq: keep.seq, hash: keep.hash }).where("account_id", "=", "my-account").execute();
      const report = await verify();
      assert.equal(report.verified, false, "verified before: the walk stopped at the moved head");
      assert.equal(report.brokenLink.problem, "MISSING");
      assert.equal(report.brokenLink.entryId, keep.id);
      assert.match(report.brokenLink.detail, new RegExp(`entries after it are missing \\(the chain holds ${Math.max(signed.seq, head.seq)}\\)`));
      await db().updateTable("audit_chain_heads").set({ seq: head.seq, hash: head.hash }).where("account_id", "=", "my-account").execute();
      for (const row of cut) await restore(row);
      assert.equal((await verify()).verified, true);
    });

    test("a verify of a time range starts at the checkpoint before it", async () => {
      const rows = await chain();
      const from = new Date(rows.at(-1)!.timestamp).toISOString();
      const report = await verify(`?startTime=${encodeURIComponent(from)}`);
      assert.equal(report.verified, true);
      assert.ok(report.checkpointsVerified >= 1, "anchored by the signed checkpoint");
      assert.equal((await h.call("GET", `${A}/auditLogs:verify?startTime=2026-02-01T00:00:00Z&endTime=2026-01-01T00:00:00Z`)).status, 400);
      assert.equal((await h.call("GET", `${A}/auditLogs:verify?since=x`)).status, 400);
    });

    test("non-admins cannot verify, and the refusal is audited", async () => {
      const { key } = await serviceAccountWithKey(h, "carol", "user");
      const res = await h.call("GET", `${A}/auditLogs:verify`, { key });
      assert.equal(res.status, 403);
      const refused = await db()
        .selectFrom("audit_logs")
        .selectAll()
        .where("method", "=", "VerifyAuditLogs")
        .where("principal", "=", "carol@my-account.sa.hearth.local")
        .execute();
      assert.equal(refused.length, 1);
    });

    test("retention deletes a prefix and leaves a signed checkpoint: what remains verifies", async () => {
      const rows = await chain();
      const cut = rows[3]!;
      // Everything up to the fourth entry is older than a one-day retention at this 'now'.
      const deleted = await pruneAuditLogs(h.deps.store, 1, cut.timestamp + 24 * 3600 * 1000 + 1);
      assert.ok(deleted >= 4);
      const remaining = await chain();
      assert.ok(remaining[0]!.seq > 4);
      const report = await verify();
      assert.equal(report.verified, true, JSON.stringify(report));
      assert.equal(report.entriesVerified, remaining.length);
    });

    test("a rotated key signs new checkpoints; the old key stays published and old checkpoints verify", async () => {
      const { hearth } = await import("./support/process.ts");
      const run = await hearth(["audit", "rotate-key"], h.env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /new key id [0-9a-f-]{36}/);
      const keys = (await h.call("GET", "/.well-known/hearth-audit-keys", { key: null })).body.keys;
      assert.equal(keys.length, 2);
      assert.ok(keys[0].retireTime, "the old key is retired, still published");
      const rows = await chain();
      const last = rows.at(-1)!;
      await db()
        .insertInto("audit_checkpoints")
        .values({ account_id: "my-account", seq: last.seq, last_id: last.id, last_hash: last.hash, time: Date.now(), key_id: "", signature: "" })
        .execute();
      const report = await verify();
      assert.equal(report.verified, true);
      const newest = await db().selectFrom("audit_checkpoints").select("key_id").where("seq", "=", last.seq).executeTakeFirstOrThrow();
      assert.equal(newest.key_id, keys[1].kid);
      // The operator's verify reads the store directly and says the same.
      const cli = await hearth(["audit", "verify", "--account", "my-account"], h.env);
      assert.equal(cli.code, 0, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /^verified: \d+ entries/);
      await db().updateTable("audit_logs").set({ method: "Edited" }).where("id", "=", last.id).execute();
      const broken = await hearth(["audit", "verify", "--account", "my-account"], h.env);
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, new RegExp(`BROKEN at entry ${last.id}: EDITED`));
      await db().updateTable("audit_logs").set({ method: last.method }).where("id", "=", last.id).execute();
    });

    test("an entry written by another process (an operator command) is continued, not forked", async () => {
      const { hearth } = await import("./support/process.ts");
      assert.equal((await h.call("PATCH", `${A}/users/sa-3?updateMask=displayName`, { body: { displayName: "before" } })).status, 200);
      const op = await hearth(["user", "set-role", "sa-3", "contributor", "--account", "my-account"], h.env);
      assert.equal(op.code, 0, op.stdout + op.stderr);
      assert.equal((await h.call("PATCH", `${A}/users/sa-3?updateMask=displayName`, { body: { displayName: "after" } })).status, 200);
      const rows = await chain();
      assert.equal(rows.at(-3)!.method, "UpdateUser");
      assert.equal(rows.at(-1)!.method, "UpdateUser");
      assert.equal(rows.at(-2)!.principal, "operator");
      assert.equal(rows.at(-2)!.principal_type, "OPERATOR");
      assert.equal((await verify()).verified, true);
    });

    test("an audit sink's URL on a private network is refused unless the operator allows it", async () => {
      const res = await h.call("POST", `${A}/auditSinks`, {
        body: { type: "SPLUNK_HEC", url: "http://127.0.0.1:8088/services/collector/event", hecToken: "t" },
      });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /url/);
      const { key } = await serviceAccountWithKey(h, "erin", "user");
      assert.equal((await h.call("GET", `${A}/auditSinks`, { key })).status, 403);
    });

    test("data-access entries appear only when an admin switches them on", async () => {
      const reads = () =>
        db()
          .selectFrom("audit_logs")
          .select(["method", "resource", "principal"])
          .where("method", "in", ["ListUsers", "GetUser", "ListApiKeys", "ListAuditLogs"])
          .where("status_code", "=", 0)
          .execute();
      assert.equal((await h.call("GET", `${A}/users`)).status, 200);
      assert.equal((await h.call("GET", `${A}/auditSettings`)).body.dataAccessLogs, false);
      assert.deepEqual(await reads(), [], "off by default");
      const { key: carol } = await serviceAccountWithKey(h, "dave", "user");
      assert.equal((await h.call("PATCH", `${A}/auditSettings`, { key: carol, body: { dataAccessLogs: true } })).status, 403);
      assert.equal((await h.call("PATCH", `${A}/auditSettings`, { body: { dataAccessLogs: true, extra: 1 } })).status, 400);
      const on = await h.call("PATCH", `${A}/auditSettings?updateMask=dataAccessLogs`, { body: { dataAccessLogs: true } });
      assert.equal(on.status, 200);
      assert.deepEqual(on.body, { name: "accounts/my-account/auditSettings", dataAccessLogs: true });
      assert.equal(
        (await db().selectFrom("audit_logs").select("id").where("method", "=", "UpdateAuditSettings").where("status_code", "=", 0).execute()).length,
        1,
        "the switch is audited",
      );
      assert.equal((await h.call("GET", `${A}/users/sa-1`)).status, 200);
      assert.equal((await h.call("GET", `${A}/users?pageSize=2`, { key: carol })).status, 200);
      assert.equal((await h.call("GET", `${A}/auditLogs`)).status, 200);
      const recorded = await reads();
      assert.deepEqual(recorded.map((r) => `${r.method} ${r.resource} ${r.principal}`).sort(), [
        "GetUser accounts/my-account/users/sa-1 admin@example.com",
        "ListAuditLogs accounts/my-account/auditLogs admin@example.com",
        "ListUsers accounts/my-account/users dave@my-account.sa.hearth.local",
      ]);
      await h.call("PATCH", `${A}/auditSettings`, { body: { dataAccessLogs: false } });
      assert.equal((await h.call("GET", `${A}/users/sa-2`)).status, 200);
      assert.equal((await reads()).length, 3, "off again");
      assert.equal((await verify()).verified, true);
    });

    test("an admin's read of another principal's key by users/- is audited as the admin action it is by its owner's name", async () => {
      const { keyId } = await serviceAccountWithKey(h, "frank", "user");
      assert.equal((await h.call("PATCH", `${A}/auditSettings?updateMask=dataAccessLogs`, { body: { dataAccessLogs: true } })).status, 200);
      for (const user of ["frank", "-"]) assert.equal((await h.call("GET", `${A}/users/${user}/apiKeys/${keyId}`)).status, 200, user);
      await h.call("PATCH", `${A}/auditSettings`, { body: { dataAccessLogs: false } });
      const entries = await db()
        .selectFrom("audit_logs")
        .select(["resource", "is_admin_action"])
        .where("method", "=", "GetApiKey")
        .where("resource", "like", `%/apiKeys/${keyId}`)
        .execute();
      assert.deepEqual(entries.map((e) => `${e.resource} ${Number(e.is_admin_action)}`).sort(), [
        `accounts/my-account/users/-/apiKeys/${keyId} 1`,
        `accounts/my-account/users/frank/apiKeys/${keyId} 1`,
      ]);
    });
  });
}

describe("an upgrade chains the entries stored before it", () => {
  test("entries written before migration 20 are chained in time order and verify", async () => {
    const { freshDatabase } = await import("./support/hearth.ts");
    const { openStore } = await import("../src/store/store.ts");
    const { migrate } = await import("../src/store/migrations.ts");
    const fresh = await freshDatabase("sqlite");
    const store = await openStore({ dataDir: fresh.dataDir, migrate: false });
    try {
      await migrate(store.db, store.dialect, 19);
      for (let i = 0; i < 1500; i++) {
        await sql`insert into audit_logs (id, account_id, timestamp, principal, method, resource, message, message_folded, status_code, status_message, payload,
          is_admin_action, user_agent, client_ip, api_key_id, principal_uid)
          values (${`old-${String(i).padStart(4, "0")}`}, 'acme', ${1_700_000_000_000 + i}, 'admin@acme.example', 'UpdateUser', 'accounts/acme/users/x',
          'UpdateUser', 'updateuser', 0, '', '{"i":1}', 1, '', '', 'k1', '')`.execute(store.db);
      }
      await migrate(store.db, store.dialect);
      const rows = await store.db.selectFrom("audit_logs").select(["id", "seq", "authentication", "principal_type"]).orderBy("seq").execute();
      assert.equal(rows[0]!.id, "old-0000");
      assert.equal(rows.at(-1)!.seq, 1500);
      assert.equal(rows[0]!.authentication, "apiKey:k1");
      assert.equal(rows[0]!.principal_type, "UNAUTHENTICATED");
      const checkpoints = await store.db.selectFrom("audit_checkpoints").select("seq").orderBy("seq").execute();
      assert.deepEqual(
        checkpoints.map((c) => c.seq),
        [1000, 1500],
      );
      const { verifyAccountChain } = await import("../src/service/audit-verify.ts");
      const { loadConfig } = await import("../src/config.ts");
      const report = await verifyAccountChain(store, loadConfig({ HEARTH_DATA_DIR: fresh.dataDir }), "acme", {});
      assert.equal(report.verified, true, JSON.stringify(report));
      assert.equal(report.entriesVerified, 1500);
      assert.equal(report.checkpointsVerified, 2);
    } finally {
      await store.close();
      await fresh.drop();
    }
  });
});
