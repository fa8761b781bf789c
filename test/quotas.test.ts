import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { setQuotaMax } from "../src/service/quotas.ts";
import { migrate } from "../src/store/migrations.ts";
import { openStore } from "../src/store/store.ts";
import { DIALECTS, freshDatabase, startHearth, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";

const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`quotas (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("every account has the documented quotas and defaults", async () => {
      const res = await h.call("GET", `${A}/quotas`);
      assert.equal(res.status, 200);
      const byId = Object.fromEntries(res.body.quotas.map((q: any) => [q.name.split("/").pop(), q]));
      assert.deepEqual(Object.keys(byId).sort(), [
        "api-keys-per-user",
        "audit-sinks",
        "dataset-storage-bytes",
        "datasets",
        "deployments",
        "identity-providers",
        "models",
        "monthly-spend-usd",
        "permission-presets",
        "serverless-inference-rpm",
        "service-accounts",
        "users",
        "webhooks",
      ]);
      assert.equal(byId["service-accounts"].value, "100");
      assert.equal(byId["api-keys-per-user"].maxValue, "10");
      assert.equal(byId["dataset-storage-bytes"].value, String(10 * 1024 ** 3));
      assert.equal(byId["serverless-inference-rpm"].value, "6000");
      assert.equal(byId["api-keys-per-user"].usage, 1, "the admin's bootstrap key");
      assert.deepEqual([byId.webhooks.value, byId.webhooks.maxValue, byId.webhooks.usage], ["20", "20", 0]);
      assert.deepEqual([byId["audit-sinks"].value, byId["audit-sinks"].maxValue, byId["audit-sinks"].usage], ["5", "5", 0]);
      assert.deepEqual([byId.users.value, byId.users.maxValue, byId.users.usage], ["1000", "1000", 1], "the bootstrap admin");
      assert.deepEqual([byId.models.value, byId.models.maxValue, byId.models.usage], ["100", "100", 0]);
      assert.deepEqual([byId["identity-providers"].value, byId["identity-providers"].maxValue, byId["identity-providers"].usage], ["20", "20", 0]);
      assert.deepEqual([byId["permission-presets"].value, byId["permission-presets"].maxValue, byId["permission-presets"].usage], ["100", "100", 0]);
    });

    test("service-accounts is enforced: RESOURCE_EXHAUSTED names the quota; usage is counted from the store", async () => {
      const set = await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: "2" } });
      assert.equal(set.status, 200);
      assert.equal(set.body.value, "2");
      for (const id of ["q1", "q2"]) assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
      const third = await h.call("POST", `${A}/users?userId=q3`, { body: { serviceAccount: true } });
      assert.equal(third.status, 429);
      assert.equal(third.body.error.status, "RESOURCE_EXHAUSTED");
      assert.equal(third.body.error.message, 'quota "service-accounts" exceeded: 2 of 2 in use, this request needs 1 more');
      assert.equal((await h.call("GET", `${A}/users/q3`)).status, 404);
      assert.equal((await h.call("GET", `${A}/quotas/service-accounts`)).body.usage, 2);
      // Humans do not count against service-accounts, but against users.
      assert.equal((await h.call("GET", `${A}/quotas/users`)).body.usage, 1);
      assert.equal((await h.call("POST", `${A}/users`, { body: { email: "hum@example.com", role: "user" } })).status, 200);
      assert.equal((await h.call("GET", `${A}/quotas/users`)).body.usage, 2);
      assert.equal((await h.call("PATCH", `${A}/quotas/users`, { body: { value: "2" } })).status, 200);
      const human = await h.call("POST", `${A}/users`, { body: { email: "hum2@example.com", role: "user" } });
      assert.equal(human.status, 429);
      assert.equal(human.body.error.message, 'quota "users" exceeded: 2 of 2 in use, this request needs 1 more');
      await h.call("DELETE", `${A}/users/hum-example-com`);
      assert.equal((await h.call("POST", `${A}/users`, { body: { email: "hum2@example.com", role: "user" } })).status, 200, "a deletion makes room");
      // Deleting one frees its place.
      await h.call("DELETE", `${A}/users/q1`);
      assert.equal((await h.call("POST", `${A}/users?userId=q3`, { body: { serviceAccount: true } })).status, 200);
    });

    test("api-keys-per-user is enforced per principal", async () => {
      await h.call("PATCH", `${A}/quotas/api-keys-per-user`, { body: { value: 2 } });
      for (let i = 0; i < 2; i++) assert.equal((await h.call("POST", `${A}/users/q2/apiKeys`, { body: { apiKey: {} } })).status, 200);
      const over = await h.call("POST", `${A}/users/q2/apiKeys`, { body: { apiKey: {} } });
      assert.equal(over.status, 429);
      assert.equal(over.body.error.message, 'quota "api-keys-per-user" exceeded: 2 of 2 in use, this request needs 1 more');
      assert.equal((await h.call("POST", `${A}/users/q3/apiKeys`, { body: { apiKey: {} } })).status, 200, "another principal has its own allowance");
    });

    test("issue 15: an expired API key does not count toward api-keys-per-user; an unexpired one does", async () => {
      for (const quota of ["api-keys-per-user", "service-accounts"]) await h.call("PATCH", `${A}/quotas/${quota}`, { body: { value: 10 } });
      for (const id of ["exp-one", "exp-none"]) assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
      const soon = new Date(Date.now() + 700).toISOString();
      const expiring = await h.call("POST", `${A}/users/exp-one/apiKeys`, { body: { apiKey: { expireTime: soon } } });
      assert.equal(expiring.status, 200);
      for (let i = 0; i < 9; i++) assert.equal((await h.call("POST", `${A}/users/exp-one/apiKeys`, { body: { apiKey: {} } })).status, 200);
      // Ten unexpired keys (one expiring in the future counts): the 11th is refused.
      for (let i = 0; i < 10; i++)
        assert.equal((await h.call("POST", `${A}/users/exp-none/apiKeys`, { body: { apiKey: { expireTime: "2100-01-01T00:00:00Z" } } })).status, 200);
      const refused = await h.call("POST", `${A}/users/exp-none/apiKeys`, { body: { apiKey: {} } });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.message, 'quota "api-keys-per-user" exceeded: 10 of 10 in use, this request needs 1 more');
      // Ten keys of which one has expired: the 11th is accepted, and then the 12th is refused.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(soon) - Date.now() + 50)));
      assert.equal((await h.call("GET", `${A}/users/exp-one/apiKeys`, { key: expiring.body.key })).status, 401, "the expired key no longer authenticates");
      assert.equal((await h.call("POST", `${A}/users/exp-one/apiKeys`, { body: { apiKey: {} } })).status, 200);
      const twelfth = await h.call("POST", `${A}/users/exp-one/apiKeys`, { body: { apiKey: {} } });
      assert.equal(twelfth.status, 429);
      assert.equal(twelfth.body.error.message, 'quota "api-keys-per-user" exceeded: 10 of 10 in use, this request needs 1 more');
    });

    test("concurrent creates cannot overshoot the service-accounts quota", async () => {
      await h.call("PATCH", `${A}/quotas/service-accounts`, { body: { value: 10 } });
      const before = (await h.call("GET", `${A}/quotas/service-accounts`)).body.usage;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.call("POST", `${A}/users?userId=race-${i}`, { body: { serviceAccount: true } })),
      );
      const created = results.filter((r) => r.status === 200).length;
      assert.equal(created, 10 - before);
      assert.ok(results.every((r) => r.status === 200 || r.status === 429));
      assert.equal((await h.call("GET", `${A}/quotas/service-accounts`)).body.usage, 10);
    });

    test("the operator's maximum bounds the admin's value", async () => {
      await setQuotaMax(h.deps.store, "my-account", "deployments", 4);
      const q = await h.call("GET", `${A}/quotas/deployments`);
      assert.equal(q.body.maxValue, "4");
      assert.equal(q.body.value, "4", "a value above the new maximum is lowered to it");
      assert.equal((await h.call("PATCH", `${A}/quotas/deployments`, { body: { value: 5 } })).status, 400);
      assert.equal((await h.call("PATCH", `${A}/quotas/deployments`, { body: { value: 3 } })).status, 200);
    });
  });

  describe(`quotas on what else an account creates (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    test("models, identity providers and permission presets are held to their quotas: the refusal is audited, nothing is stored, a deletion makes room", async () => {
      const kinds = [
        {
          quota: "models",
          create: (id: string) => h.call("POST", `${A}/models?modelId=${id}`, { body: { backend: "local", upstreamModel: id } }),
          path: (id: string) => `${A}/models/${id}`,
          method: "CreateModel",
        },
        {
          quota: "identity-providers",
          create: (id: string) =>
            h.call("POST", `${A}/identityProviders?identityProviderId=${id}`, {
              body: { displayName: id, oidcConfig: { issuerUrl: `https://login.${id}.example`, clientId: id } },
            }),
          path: (id: string) => `${A}/identityProviders/${id}`,
          method: "CreateIdentityProvider",
        },
        {
          quota: "permission-presets",
          create: (id: string) => h.call("POST", `${A}/permissionPresets?permissionPresetId=${id}`, { body: { actions: ["models.list"] } }),
          path: (id: string) => `${A}/permissionPresets/${id}`,
          method: "CreatePermissionPreset",
        },
      ];
      for (const kind of kinds) {
        const set = await h.call("PATCH", `${A}/quotas/${kind.quota}`, { body: { value: "2" } });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        for (const id of ["qa", "qb"]) {
          const made = await kind.create(`${kind.quota}-${id}`);
          assert.equal(made.status, 200, `${kind.quota}: ${JSON.stringify(made.body)}`);
        }
        const third = await kind.create(`${kind.quota}-qc`);
        assert.equal(third.status, 429, kind.quota);
        assert.equal(third.body.error.message, `quota "${kind.quota}" exceeded: 2 of 2 in use, this request needs 1 more`);
        assert.equal((await h.call("GET", kind.path(`${kind.quota}-qc`))).status, 404, "nothing stored");
        assert.equal((await h.call("GET", `${A}/quotas/${kind.quota}`)).body.usage, 2);
        const audited = await h.call("GET", `${A}/auditLogs?filter=${encodeURIComponent(`method="${kind.method}" AND status:"RESOURCE_EXHAUSTED"`)}`);
        assert.equal(audited.body.auditLogs.length, 1, `${kind.quota}: the refusal is audited`);
        assert.equal((await h.call("DELETE", kind.path(`${kind.quota}-qa`))).status, 200);
        assert.equal((await kind.create(`${kind.quota}-qc`)).status, 200, `${kind.quota}: a deletion makes room`);
        assert.equal((await h.call("PATCH", `${A}/quotas/${kind.quota}`, { body: { value: "101" } })).status, 400, "above the maximum");
      }
    });

    test("a create whose resource exists is ALREADY_EXISTS (409) at a full quota, not RESOURCE_EXHAUSTED: a retried create that landed says so", async () => {
      const kinds: { quota: string; first: [string, unknown]; again: [string, unknown][]; fresh: [string, unknown] }[] = [
        {
          quota: "service-accounts",
          first: ["users?userId=sa-full", { serviceAccount: true }],
          again: [["users?userId=sa-full", { serviceAccount: true }]],
          fresh: ["users?userId=sa-other", { serviceAccount: true }],
        },
        {
          quota: "users",
          first: ["users?userId=full-human", { email: "full-human@example.com", role: "user" }],
          // The same id, and the same email under another id.
          again: [
            ["users?userId=full-human", { email: "someone-else@example.com", role: "user" }],
            ["users?userId=other-id", { email: "full-human@example.com", role: "user" }],
          ],
          fresh: ["users?userId=newcomer", { email: "newcomer@example.com", role: "user" }],
        },
        {
          quota: "models",
          first: ["models?modelId=full-m", { backend: "local" }],
          again: [["models?modelId=full-m", { backend: "local" }]],
          fresh: ["models?modelId=full-n", { backend: "local" }],
        },
        {
          quota: "identity-providers",
          first: ["identityProviders?identityProviderId=full-idp", { oidcConfig: { issuerUrl: "https://login.full.example", clientId: "a" } }],
          again: [["identityProviders?identityProviderId=full-idp", { oidcConfig: { issuerUrl: "https://login.other.example", clientId: "b" } }]],
          fresh: ["identityProviders?identityProviderId=full-idp2", { oidcConfig: { issuerUrl: "https://login.third.example", clientId: "c" } }],
        },
        {
          quota: "permission-presets",
          first: ["permissionPresets?permissionPresetId=full-p", { actions: ["models.list"] }],
          again: [["permissionPresets?permissionPresetId=full-p", { actions: ["models.get"] }]],
          fresh: ["permissionPresets?permissionPresetId=full-q", { actions: ["models.list"] }],
        },
        {
          quota: "webhooks",
          first: ["webhooks?webhookId=full-w", { url: "https://hooks.example.com/a", events: ["principal.created"] }],
          again: [["webhooks?webhookId=full-w", { url: "https://hooks.example.com/b", events: ["principal.created"] }]],
          fresh: ["webhooks?webhookId=full-x", { url: "https://hooks.example.com/c", events: ["principal.created"] }],
        },
        {
          quota: "audit-sinks",
          first: ["auditSinks?auditSinkId=full-s", { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/full-w" }],
          again: [["auditSinks?auditSinkId=full-s", { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/full-w" }]],
          fresh: ["auditSinks?auditSinkId=full-t", { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/full-w" }],
        },
        { quota: "datasets", first: ["datasets?datasetId=full-d", {}], again: [["datasets?datasetId=full-d", {}]], fresh: ["datasets?datasetId=full-e", {}] },
        {
          quota: "deployments",
          first: ["deployments?deploymentId=full-dep", { baseModel: "accounts/fireworks/models/tiny-public" }],
          again: [["deployments?deploymentId=full-dep", { baseModel: "accounts/fireworks/models/tiny-public" }]],
          fresh: ["deployments?deploymentId=full-dep2", { baseModel: "accounts/fireworks/models/tiny-public" }],
        },
      ];
      for (const kind of kinds) {
        // Room for the first (an earlier test may have lowered the quota).
        const { maxValue } = (await h.call("GET", `${A}/quotas/${kind.quota}`)).body;
        assert.equal((await h.call("PATCH", `${A}/quotas/${kind.quota}`, { body: { value: maxValue } })).status, 200, kind.quota);
        const made = await h.call("POST", `${A}/${kind.first[0]}`, { body: kind.first[1] });
        assert.equal(made.status, 200, `${kind.quota}: ${JSON.stringify(made.body)}`);
        const usage = (await h.call("GET", `${A}/quotas/${kind.quota}`)).body.usage;
        assert.equal((await h.call("PATCH", `${A}/quotas/${kind.quota}`, { body: { value: String(usage) } })).status, 200, kind.quota);
        for (const [path, body] of kind.again) {
          const again = await h.call("POST", `${A}/${path}`, { body });
          assert.equal(again.status, 409, `${kind.quota} ${path}: ${JSON.stringify(again.body)}`);
          assert.equal(again.body.error.status, "ALREADY_EXISTS");
        }
        const fresh = await h.call("POST", `${A}/${kind.fresh[0]}`, { body: kind.fresh[1] });
        assert.equal(fresh.status, 429, `${kind.quota}: ${JSON.stringify(fresh.body)}`);
        assert.match(fresh.body.error.message, new RegExp(`^quota "${kind.quota}" exceeded`));
        assert.equal((await h.call("GET", `${A}/quotas/${kind.quota}`)).body.usage, usage, `${kind.quota}: nothing stored`);
      }
    });
  });

  test(`migrations 32 and 34 give every account stored before them the quotas added since (webhooks 20, audit-sinks 5, users 1000, models 100, identity-providers 20, permission-presets 100), and keep a row already there (${dialect})`, async () => {
    const db = await freshDatabase(dialect);
    const store = await openStore({ databaseUrl: db.env.DATABASE_URL, dataDir: db.env.HEARTH_DATA_DIR, migrate: false });
    try {
      await migrate(store.db, store.dialect, 31);
      for (const id of ["acme", "other"])
        await sql`insert into accounts (id, display_name, email, state, create_time, update_time) values (${id}, ${id}, ${`admin@${id}.example`}, 'READY', 1, 1)`.execute(
          store.db,
        );
      await sql`insert into quotas (account_id, id, value, max_value, update_time) values ('other', 'webhooks', 5, 8, 1)`.execute(store.db);
      await migrate(store.db, store.dialect, 33);
      await sql`insert into quotas (account_id, id, value, max_value, update_time) values ('other', 'models', 7, 9, 1)`.execute(store.db);
      await migrate(store.db, store.dialect);
      const rows = async (quotaId: string) =>
        (
          await sql<{
            account_id: string;
            value: number;
            max_value: number;
          }>`select account_id, value, max_value from quotas where id = ${quotaId} order by account_id`.execute(store.db)
        ).rows.map((r) => [r.account_id, Number(r.value), Number(r.max_value)]);
      assert.deepEqual(await rows("webhooks"), [
        ["acme", 20, 20],
        ["other", 5, 8],
      ]);
      assert.deepEqual(await rows("audit-sinks"), [
        ["acme", 5, 5],
        ["other", 5, 5],
      ]);
      assert.deepEqual(await rows("models"), [
        ["acme", 100, 100],
        ["other", 7, 9],
      ]);
      for (const [id, value] of [
        ["users", 1000],
        ["identity-providers", 20],
        ["permission-presets", 100],
      ] as const)
        assert.deepEqual(await rows(id), [
          ["acme", value, value],
          ["other", value, value],
        ]);
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
