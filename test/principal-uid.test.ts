import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { generateKey } from "../src/domain/api-key-format.ts";
import { createHearth } from "../src/server.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { migrate } from "../src/store/migrations.ts";
import { openStore } from "../src/store/store.ts";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, freshDatabase, type TestHearth } from "./support/hearth.ts";
import { account, startPlatform, upload } from "./support/platform.ts";
import { field, firectlAt, ok, type Run } from "./support/run.ts";

/**
 * A principal deleted and re-created under the same email (or service-account id) is a new
 * principal: a new uid, and none of its namesake's models, deployments, datasets or keys.
 */
const A = "/v1/accounts/my-account";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const JSONL = '{"messages":[{"role":"user","content":"hi"}]}\n';

/** Signs `email` in through a one-time link and creates an API key with the session (a human's key is made only by that human). */
async function humanKey(h: TestHearth, email: string, userId: string): Promise<{ key: string; keyId: string }> {
  const link = await createSigninLink(h.deps, "my-account", email);
  const redeemed = await h.call("GET", new URL(link.url).pathname, { key: null });
  assert.equal(redeemed.status, 302, JSON.stringify(redeemed.body));
  const cookie = ([] as unknown[])
    .concat(redeemed.headers["set-cookie"])
    .map(String)
    .find((c) => c.startsWith("hearth_session="))!
    .split(";")[0]!;
  const csrf = (await h.call("GET", "/auth/session", { key: null, headers: { cookie } })).body.csrfToken as string;
  const created = await h.call("POST", `${A}/users/${userId}/apiKeys`, { key: null, headers: { cookie, "x-csrf-token": csrf }, body: { apiKey: {} } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return { key: created.body.key, keyId: created.body.keyId };
}

for (const dialect of DIALECTS) {
  describe(`a re-created principal inherits nothing of its namesake's (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let home: string;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      home = mkdtempSync(join(tmpdir(), "principal-uid-"));
    });
    after(async () => {
      await stop();
      rmSync(home, { recursive: true, force: true });
    });

    test("regression over HTTP: carol is deleted and re-created; the newcomer's key cannot PATCH carol-model or DELETE carol-data (403)", async () => {
      const carol = await human(h, "carol@example.com", "contributor");
      const first = await humanKey(h, "carol@example.com", carol);
      const firstUid = (await h.call("GET", `${A}/users/${carol}`)).body.uid;
      assert.match(firstUid, UUID);

      const key = first.key;
      assert.equal((await h.call("POST", `${A}/models?modelId=carol-model`, { key, body: { backend: "local" } })).status, 200);
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=carol-data`, { key, body: {} })).status, 200);
      const dep = await h.call("POST", `${A}/deployments?deploymentId=carol-deployment`, { key, body: { baseModel: "carol-model" } });
      assert.equal(dep.status, 200, JSON.stringify(dep.body));
      assert.equal((await h.call("PATCH", `${A}/models/carol-model`, { key, body: { displayName: "mine" } })).status, 200, "the creator manages it");

      assert.equal((await h.call("DELETE", `${A}/users/${carol}`)).status, 200);
      assert.equal(await human(h, "carol@example.com", "contributor"), carol, "the same id again");
      const newcomer = await humanKey(h, "carol@example.com", carol);
      const user = (await h.call("GET", `${A}/users/${carol}`)).body;
      assert.match(user.uid, UUID);
      assert.notEqual(user.uid, firstUid, "a uid is never reused");
      // Output only: a PATCH sending it back (or another) leaves it; a list filters on it.
      const patched = await h.call("PATCH", `${A}/users/${carol}`, { body: { uid: firstUid, displayName: "Carol" } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.uid, user.uid);
      const listed = await h.call("GET", `${A}/users?filter=${encodeURIComponent(`uid="${user.uid}"`)}`);
      assert.deepEqual(
        listed.body.users.map((u: any) => u.name),
        [`accounts/my-account/users/${carol}`],
      );

      const denied = [
        await h.call("PATCH", `${A}/models/carol-model`, { key: newcomer.key, body: { displayName: "taken" } }),
        await h.call("DELETE", `${A}/models/carol-model`, { key: newcomer.key }),
        await h.call("PATCH", `${A}/datasets/carol-data`, { key: newcomer.key, body: { displayName: "taken" } }),
        await h.call("DELETE", `${A}/datasets/carol-data`, { key: newcomer.key }),
        await h.call("PATCH", `${A}/deployments/carol-deployment`, { key: newcomer.key, body: { displayName: "taken" } }),
        await h.call("DELETE", `${A}/deployments/carol-deployment`, { key: newcomer.key }),
      ];
      assert.deepEqual(
        denied.map((r) => r.status),
        [403, 403, 403, 403, 403, 403],
      );
      assert.equal(denied[0]!.body.error.message, 'role "contributor" cannot update models created by others');
      assert.equal(denied[3]!.body.error.message, 'role "contributor" cannot delete datasets created by others');
      const uploaded = await upload(h, newcomer.key, "my-account", "carol-data", JSONL);
      assert.equal(uploaded.status, 403, await uploaded.text());

      // Nothing changed; `createdBy` still shows the email.
      const model = (await h.call("GET", `${A}/models/carol-model`)).body;
      assert.equal(model.displayName, "mine");
      assert.equal(model.createdBy, "carol@example.com");
      assert.equal((await h.call("GET", `${A}/datasets/carol-data`)).status, 200);

      // The deleted carol's key went with her: the newcomer holds only its own.
      assert.equal((await h.call("GET", `${A}/users/${carol}/apiKeys/${first.keyId}`)).status, 404);
      const ownKeys = (await h.call("GET", `${A}/users/${carol}/apiKeys`, { key: newcomer.key })).body.apiKeys.map((k: any) => k.keyId);
      assert.deepEqual(ownKeys, [newcomer.keyId]);

      // What the newcomer creates is its own; managing others' stays with user and admin.
      assert.equal((await h.call("POST", `${A}/models?modelId=carol-model-2`, { key: newcomer.key, body: { backend: "local" } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/models/carol-model-2`, { key: newcomer.key, body: { displayName: "new" } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/models/carol-model`, { body: { displayName: "by admin" } })).status, 200);

      // Audit entries tell the two apart by principalUid; the operator's have none.
      const created = await auditEntries(h, 'method="CreateModel"');
      assert.deepEqual(created.map((e) => [e.resource, e.principal, e.principalUid]).sort(), [
        ["accounts/my-account/models/carol-model", "carol@example.com", firstUid],
        ["accounts/my-account/models/carol-model-2", "carol@example.com", user.uid],
      ]);
      const refused = await auditEntries(h, 'method="DeleteDataset"');
      assert.deepEqual(
        refused.map((e) => [e.principalUid, e.status.code]),
        [[user.uid, "PERMISSION_DENIED"]],
      );
      const [operator] = await auditEntries(h, 'method="CreateAccount"');
      assert.equal(operator.principal, "operator");
      assert.equal(operator.principalUid, "");
    });

    test("regression: a re-created dana@example.com sees only her own audit entries, none of the deleted dana's, on every page", async () => {
      const db = h.deps.store.db;
      /** An entry with no uid under dana's email at `timestamp`: a failed sign-in, or one written before uids. */
      const unattributed = (id: string, timestamp: number) =>
        db
          .insertInto("audit_logs")
          .values({
            id,
            account_id: "my-account",
            timestamp,
            principal: "dana@example.com",
            principal_uid: "",
            method: "SignIn",
            resource: `accounts/my-account/users/${id}`,
            message: "SignIn",
            message_folded: "signin",
            status_code: 401,
            status_message: "UNAUTHENTICATED: failed",
            status_message_folded: "unauthenticated: failed",
            payload: "{}",
            is_admin_action: 0,
            user_agent: "",
            client_ip: "",
            api_key_id: "",
          })
          .execute();
      const dana = await human(h, "dana@example.com", "contributor");
      const first = await humanKey(h, "dana@example.com", dana);
      const firstUid = (await h.call("GET", `${A}/users/${dana}`)).body.uid;
      assert.equal((await h.call("POST", `${A}/models?modelId=dana-model`, { key: first.key, body: { backend: "local" } })).status, 200);
      await unattributed("in-first-danas-time", Date.now());
      const own = async (key: string) => (await h.call("GET", `${A}/auditLogs?pageSize=200`, { key })).body.auditLogs as any[];
      assert.ok((await own(first.key)).some((e) => e.resource === `${A.slice(4)}/models/dana-model`));

      assert.equal((await h.call("DELETE", `${A}/users/${dana}`)).status, 200);
      await unattributed("between-the-two", Date.now());
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(await human(h, "dana@example.com", "contributor"), dana);
      const newcomer = await humanKey(h, "dana@example.com", dana);
      const { uid, createTime } = (await h.call("GET", `${A}/users/${dana}`)).body;
      await unattributed("in-new-danas-time", Date.now() + 1);
      assert.equal((await h.call("POST", `${A}/models?modelId=dana-model-2`, { key: newcomer.key, body: { backend: "local" } })).status, 200);

      const seen = await own(newcomer.key);
      const resources = seen.map((e) => e.resource);
      assert.ok(resources.includes(`${A.slice(4)}/models/dana-model-2`), JSON.stringify(resources));
      assert.ok(resources.includes(`${A.slice(4)}/users/in-new-danas-time`), "a failed sign-in under her email since she exists is hers");
      for (const gone of ["models/dana-model", "users/in-first-danas-time", "users/between-the-two"]) {
        assert.ok(!resources.includes(`${A.slice(4)}/${gone}`), `${gone} is not the newcomer's`);
      }
      for (const e of seen) {
        assert.notEqual(e.principalUid, firstUid);
        assert.ok(e.principalUid === uid || (e.principalUid === "" && Date.parse(e.timestamp) >= Date.parse(createTime)), JSON.stringify(e));
        assert.equal(e.isAdminAction, false);
      }
      // Keyset paging walks the same entries in the same order, one per page.
      const paged: string[] = [];
      let token = "";
      do {
        const page = await h.call("GET", `${A}/auditLogs?pageSize=1${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`, { key: newcomer.key });
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.equal(page.body.totalSize, seen.length);
        paged.push(...page.body.auditLogs.map((e: any) => e.id));
        token = page.body.nextPageToken;
      } while (token);
      assert.deepEqual(
        paged,
        seen.map((e) => e.id),
      );
      // An admin still sees both danas' entries, told apart by principalUid.
      const created = await auditEntries(h, 'method="CreateModel" AND email="dana@example.com"');
      assert.deepEqual(created.map((e) => e.principalUid).sort(), [firstUid, uid].sort());
    });

    test("regression through firectl: etl-bot is deleted and re-created; the new etl-bot's key cannot touch carol-model, carol-data or its deployment", async () => {
      const { admin, keys } = await account(h, "etl", { "etl-bot": "contributor" });
      const firectl = (args: string[], key: string): Promise<Run> => firectlAt(home, h.baseUrl, key)(args);
      const data = join(home, "train.jsonl");
      writeFileSync(data, JSONL);
      const old = keys["etl-bot"]!;
      ok(await firectl(["model", "create", "carol-model", "--backend", "local"], old));
      assert.equal(field(ok(await firectl(["dataset", "create", "carol-data", data], old)), "State"), "READY");
      ok(await firectl(["deployment", "create", "accounts/etl/models/carol-model", "--deployment-id", "carol-deployment"], old));
      const oldUid = field(ok(await firectl(["user", "get", "etl-bot"], admin)), "Uid");
      assert.match(oldUid ?? "", UUID);

      const E = "/v1/accounts/etl";
      assert.equal((await h.call("DELETE", `${E}/users/etl-bot`, { key: admin })).status, 200);
      assert.equal((await h.call("POST", `${E}/users?userId=etl-bot`, { key: admin, body: { serviceAccount: true, role: "contributor" } })).status, 200);
      const key = (await h.call("POST", `${E}/users/etl-bot/apiKeys`, { key: admin, body: { apiKey: {} } })).body.key as string;
      const newUid = field(ok(await firectl(["user", "get", "etl-bot"], key)), "Uid");
      assert.match(newUid ?? "", UUID);
      assert.notEqual(newUid, oldUid);

      for (const [args, message] of [
        [["model", "update", "carol-model", "--display-name", "taken"], 'role "contributor" cannot update models created by others'],
        [["dataset", "delete", "carol-data"], 'role "contributor" cannot delete datasets created by others'],
        [["deployment", "delete", "carol-deployment"], 'role "contributor" cannot delete deployments created by others'],
        [["model", "delete", "carol-model"], 'role "contributor" cannot delete models created by others'],
      ] as const) {
        const run = await firectl([...args], key);
        assert.equal(run.code, 1, `${args.join(" ")}: ${run.stdout}`);
        assert.ok(run.stderr.startsWith(`firectl: ${message} (PERMISSION_DENIED)`), run.stderr);
      }
      assert.equal((await h.call("PATCH", `${E}/models/carol-model`, { key, body: { displayName: "taken" } })).status, 403);
      assert.equal((await h.call("DELETE", `${E}/datasets/carol-data`, { key })).status, 403);
      assert.equal(field(ok(await firectl(["dataset", "get", "carol-data"], key)), "Created By"), "etl-bot@etl.sa.hearth.local");
      // An admin still manages them.
      ok(await firectl(["deployment", "delete", "carol-deployment"], admin));
      ok(await firectl(["model", "delete", "carol-model"], admin));
      ok(await firectl(["dataset", "delete", "carol-data"], admin));
    });
  });

  describe(`upgrading to principal uids (${dialect})`, () => {
    test("each user gets a uid; a resource gets its creator's uid only when exactly one live principal has that email", async () => {
      const db = await freshDatabase(dialect);
      try {
        const env: Record<string, string> = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
        const config = loadConfig(env);
        const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HEARTH_DATA_DIR, migrate: false });
        await migrate(store.db, store.dialect, 8);
        await sql`insert into accounts values ('acme', 'acme', 'admin@acme.example', 'READY', 1, 1)`.execute(store.db);
        const people: Array<[string, string, string]> = [
          ["alice", "alice@example.com", "contributor"],
          ["boss", "boss@example.com", "user"],
          // Stored before emails were lower-cased: two live principals answer to dup@example.com.
          ["dup", "dup@example.com", "contributor"],
          ["dup-upper", "Dup@Example.com", "contributor"],
        ];
        const keyOf: Record<string, string> = {};
        for (const [id, email, role] of people) {
          await sql`insert into users values ('acme', ${id}, '', ${email}, ${role}, 0, 'READY', 1, 1)`.execute(store.db);
          const material = generateKey(config.keyPrefix);
          await sql`insert into api_keys values (${`key-${id}`}, 'acme', ${id}, 'k', ${material.digest}, ${material.displayPrefix}, 1, null, null, '{}')`.execute(
            store.db,
          );
          keyOf[id] = material.key;
        }
        // ALICE@example.com: the creator's email in another case still names alice alone.
        const creators: Array<[string, string]> = [
          ["alice", "ALICE@example.com"],
          ["gone", "gone@example.com"],
          ["dup", "dup@example.com"],
        ];
        for (const [who, email] of creators) {
          await sql`insert into models values ('acme', ${`${who}-model`}, '', '', 'local', 'm', 0, 0, ${email}, 1, 1)`.execute(store.db);
          await sql`insert into deployments values ('acme', ${`${who}-deployment`}, '', 'accounts/acme/models/x', 'local', 'READY', '', ${email}, 1, 1)`.execute(
            store.db,
          );
          await sql`insert into datasets values ('acme', ${`${who}-data`}, '', 'READY', 0, 0, '', ${email}, 1, 1)`.execute(store.db);
        }
        await store.close();

        const hearth = await createHearth(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) });
        try {
          const users = await hearth.deps.store.db.selectFrom("users").select(["id", "uid"]).orderBy("id").execute();
          const uidOf = Object.fromEntries(users.map((u) => [u.id, u.uid]));
          for (const u of users) assert.match(u.uid, UUID, `${u.id} has a uid`);
          assert.equal(new Set(users.map((u) => u.uid)).size, users.length, "no two users share a uid");
          for (const table of ["models", "deployments", "datasets"] as const) {
            const rows = await hearth.deps.store.db.selectFrom(table).select(["id", "creator_uid", "created_by"]).orderBy("id").execute();
            assert.deepEqual(
              rows.map((r) => [r.id.split("-")[0], r.creator_uid, r.created_by]),
              [
                ["alice", uidOf.alice, "ALICE@example.com"],
                ["dup", "", "dup@example.com"],
                ["gone", "", "gone@example.com"],
              ],
              table,
            );
          }

          const call = async (method: string, url: string, key: string, body?: object) =>
            (await hearth.app.inject({ method: method as "GET", url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) }))
              .statusCode;
          const B = "/v1/accounts/acme";
          for (const [kind, path] of [
            ["model", "models"],
            ["deployment", "deployments"],
            ["data", "datasets"],
          ] as const) {
            assert.equal(await call("PATCH", `${B}/${path}/alice-${kind}`, keyOf.alice!, { displayName: "a" }), 200, `alice manages her ${kind}`);
            assert.equal(await call("PATCH", `${B}/${path}/gone-${kind}`, keyOf.alice!, { displayName: "a" }), 403, `nobody owns gone's ${kind}`);
            assert.equal(await call("PATCH", `${B}/${path}/dup-${kind}`, keyOf.dup!, { displayName: "a" }), 403, `an ambiguous ${kind} is nobody's`);
            assert.equal(await call("PATCH", `${B}/${path}/dup-${kind}`, keyOf["dup-upper"]!, { displayName: "a" }), 403);
            assert.equal(await call("PATCH", `${B}/${path}/gone-${kind}`, keyOf.boss!, { displayName: "b" }), 200, `a user manages others' ${kind}`);
            assert.equal(await call("DELETE", `${B}/${path}/dup-${kind}`, keyOf.boss!), 200);
          }
        } finally {
          await hearth.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
