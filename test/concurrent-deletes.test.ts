import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";
import { until } from "./support/until.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { enqueueWebhookEvent } from "../src/service/webhook-events.ts";
import { ACTION_NAMES, can } from "../src/domain/actions.ts";

/**
 * A change racing a deletion of the same resource, or of the resource it names, on PostgreSQL's READ
 * COMMITTED: the one that commits second sees the first. An update landing after a delete is a 404
 * (never a 200, audited as done, that changed nothing); a deployment or audit sink is never left
 * naming a model or webhook deleted meanwhile. On SQLite writes run one at a time, so each pair runs
 * in the same order without the lock that holds the first one open on PostgreSQL.
 */
const A = "/v1/accounts/my-account";
/** The operator's shared secret for leak reports (HEARTH_LEAK_REPORT_SECRET). */
const LEAK_SECRET = "a-shared-secret-of-at-least-32-characters";

for (const dialect of DIALECTS) {
  describe(`a change racing a deletion (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect, {}, { HEARTH_LEAK_REPORT_SECRET: LEAK_SECRET }));
    });
    after(() => stop());

    /** How many connections to the test database wait for a lock (PostgreSQL). */
    async function waiting(client: pg.Client): Promise<number> {
      const r = await client.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
      return (r.rows[0] as { n: number }).n;
    }

    /**
     * Runs `first`, then `second`, while a row that `first` needs is held by another connection
     * (`lock`: a statement taking it), so that `first` is still open when `second` reads; then lets
     * both finish. On SQLite, one after the other.
     */
    async function heldOpen<T, U>(lock: string, first: () => Promise<T>, second: () => Promise<U>): Promise<[T, U]> {
      if (h.dialect === "sqlite") return [await first(), await second()];
      const client = new pg.Client({ connectionString: h.env.DATABASE_URL });
      await client.connect();
      try {
        await client.query("begin");
        await client.query(lock, [h.accountId]);
        const one = first();
        await until("the first request to wait for a lock", async () => ((await waiting(client)) >= 1 ? true : undefined));
        const two = second();
        // `second` either waits for a lock too, or has run to its end without one.
        let done = false;
        void two.finally(() => (done = true));
        await until("the second request to end or wait", async () => (done || (await waiting(client)) >= 2 ? true : undefined));
        await client.query("commit");
        return [await one, await two];
      } finally {
        await client.end();
      }
    }

    const entries = async (method: string, resource: string) =>
      (await h.call("GET", `${A}/auditLogs?pageSize=50&filter=${encodeURIComponent(`method="${method}" AND resource="${resource}"`)}`)).body
        .auditLogs as Array<{
        status: { code: string };
      }>;

    test("an update that reads a resource before a deletion commits, and writes after, is a 404, audited as such", async () => {
      const kinds: Array<[string, string, unknown, string, number]> = [
        ["webhooks", "webhookId", { url: "https://hooks.example.com/x", events: ["api_key.disabled"] }, "NOT_FOUND", 404],
        ["models", "modelId", { backend: "local" }, "NOT_FOUND", 404],
        ["datasets", "datasetId", {}, "NOT_FOUND", 404],
        // A deleted deployment takes no change but undelete.
        ["deployments", "deploymentId", { baseModel: "accounts/fireworks/models/tiny-public" }, "FAILED_PRECONDITION", 400],
      ];
      for (const [collection, param, body, status, code] of kinds) {
        const item = `${A}/${collection}/raced`;
        const created = await h.call("POST", `${A}/${collection}?${param}=raced`, { body });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        // The deletion is held open at its audit entry, after it removed the row.
        const [deleted, updated] = await heldOpen(
          "select * from audit_chain_heads where account_id = $1 for update",
          () => h.call("DELETE", item),
          () => h.call("PATCH", `${item}?updateMask=displayName`, { body: { displayName: "renamed" } }),
        );
        assert.equal(deleted.status, 200, `${collection}: ${JSON.stringify(deleted.body)}`);
        assert.equal(updated.status, code, `${collection}: ${JSON.stringify(updated.body)}`);
        const resource = item.slice("/v1/".length);
        const method = `Update${{ webhooks: "Webhook", models: "Model", datasets: "Dataset", deployments: "Deployment" }[collection]}`;
        assert.deepEqual(
          (await entries(method, resource)).map((e) => e.status.code),
          [status],
          `${collection}: the update is audited as refused, never as done`,
        );
        if (collection === "deployments") {
          const got = await h.call("GET", item);
          assert.equal(got.body.state, "DELETED");
          assert.equal(got.body.displayName, "");
          assert.equal((await h.call("DELETE", `${item}?hard=true`)).status, 200);
        } else assert.equal((await h.call("GET", item)).status, 404);
      }
    });

    test("a redelivery racing its webhook's deletion is a 404, not a 200 for a delivery that is gone", async () => {
      assert.equal(
        (await h.call("POST", `${A}/webhooks?webhookId=hook`, { body: { url: "https://hooks.example.com/a", events: ["api_key.expiring"] } })).status,
        200,
      );
      await enqueueWebhookEvent(h.deps.store.db, h.accountId, "api_key.expiring", {});
      const delivery = (await h.call("GET", `${A}/webhooks/hook/deliveries`)).body.webhookDeliveries[0].name.split("/").pop();
      const [deleted, redelivered] = await heldOpen(
        "select * from audit_chain_heads where account_id = $1 for update",
        () => h.call("DELETE", `${A}/webhooks/hook`),
        () => h.call("POST", `${A}/webhooks/hook/deliveries/${delivery}:redeliver`, { body: {} }),
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.equal(redelivered.status, 404, JSON.stringify(redelivered.body));
    });

    test("a webhook is not deleted under an audit sink created meanwhile: a webhook made later under its id never takes the stream", async () => {
      assert.equal(
        (await h.call("POST", `${A}/webhooks?webhookId=siem`, { body: { url: "https://hooks.example.com/a", events: ["api_key.disabled"] } })).status,
        200,
      );
      const [sink, deleted] = await heldOpen(
        "select id from accounts where id = $1 for update",
        () => h.call("POST", `${A}/auditSinks?auditSinkId=s1`, { body: { type: "WEBHOOK", webhook: `${A.slice(4)}/webhooks/siem` } }),
        () => h.call("DELETE", `${A}/webhooks/siem`),
      );
      assert.equal(sink.status, 200, JSON.stringify(sink.body));
      assert.equal(deleted.status, 400, JSON.stringify(deleted.body));
      assert.match(deleted.body.error.message, /audit sink "s1" streams the audit log through webhook "siem": delete the sink first/);
      assert.equal((await h.call("GET", `${A}/webhooks/siem`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/auditSinks/s1`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/webhooks/siem`)).status, 200);
    });

    test("a change that queues a webhook event while that webhook is deleted succeeds, not 500 on the deliveries' foreign key", async () => {
      const bot = await serviceAccountWithKey(h, "raced-bot", "user");
      assert.equal(
        (await h.call("POST", `${A}/webhooks?webhookId=alerts`, { body: { url: "https://hooks.example.com/a", events: ["api_key.disabled"] } })).status,
        200,
      );
      const [deleted, disabled] = await heldOpen(
        "select * from audit_chain_heads where account_id = $1 for update",
        () => h.call("DELETE", `${A}/webhooks/alerts`),
        () => h.call("POST", `${A}/users/raced-bot/apiKeys/${bot.keyId}:disable`, { body: { disableReason: "OTHER" } }),
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
      assert.equal(disabled.body.state, "DISABLED");
    });

    test("a leak report that queues its events while a subscribed webhook is deleted still disables the key (it held no account lock)", async () => {
      const bot = await serviceAccountWithKey(h, "leaked-bot", "user");
      assert.equal(
        (await h.call("POST", `${A}/webhooks?webhookId=leaks`, { body: { url: "https://hooks.example.com/a", events: ["api_key.leaked"] } })).status,
        200,
      );
      const report = JSON.stringify([{ type: "hearth_api_key", source: "content", token: bot.key, url: "https://gitlab.example/snippets/7" }]);
      const [deleted, reported] = await heldOpen(
        "select * from audit_chain_heads where account_id = $1 for update",
        () => h.call("DELETE", `${A}/webhooks/leaks`),
        async () => {
          const res = await fetch(`${h.baseUrl}/v1/apiKeys:reportLeak`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-hearth-leak-report-secret": LEAK_SECRET },
            body: report,
          });
          return { status: res.status, text: await res.text() };
        },
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.equal(reported.status, 200, reported.text);
      assert.equal((await h.call("GET", "/verifyApiKey", { key: bot.key })).status, 401, "the leaked key is disabled");
    });

    test("a principal promoted while a custom role's deletion or sign-out of it waits is judged on its new role", async () => {
      // A custom role holding every action of role "user", and the acts on principals it may then take on users.
      const actions = [...ACTION_NAMES.filter((a) => can("user", a)), "users.delete", "users.revokeSessions"];
      assert.equal((await h.call("POST", `${A}/permissionPresets?permissionPresetId=user-keeper`, { body: { actions } })).status, 200);
      const keeper = await serviceAccountWithKey(h, "keeper", "user");
      assert.equal((await h.call("PATCH", `${A}/users/keeper`, { body: { permissionPreset: "user-keeper" } })).status, 200);
      for (const [email, act] of [
        ["ted@example.com", (id: string) => h.call("DELETE", `${A}/users/${id}`, { key: keeper.key })],
        ["una@example.com", (id: string) => h.call("POST", `${A}/users/${id}:revokeSessions`, { key: keeper.key, body: {} })],
      ] as const) {
        const made = await h.call("POST", `${A}/users`, { body: { email, role: "user" } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const id = made.body.name.split("/").pop() as string;
        // The promotion is held open at its audit entry, after it changed the role.
        const [promoted, acted] = await heldOpen(
          "select * from audit_chain_heads where account_id = $1 for update",
          () => h.call("PATCH", `${A}/users/${id}`, { body: { role: "admin" } }),
          () => act(id),
        );
        assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
        assert.equal(acted.status, 403, `${id}: ${JSON.stringify(acted.body)}`);
        assert.match(
          acted.body.error.message,
          /^role "custom" \(permission preset "user-keeper"\) cannot (change the role of, or delete, a principal with|revoke the sessions of a principal with) role "admin"/,
        );
        assert.equal((await h.call("GET", `${A}/users/${id}`)).body.role, "admin");
      }
    });

    test("a model is not deleted under a deployment created meanwhile", async () => {
      assert.equal((await h.call("POST", `${A}/models?modelId=m1`, { body: { backend: "local" } })).status, 200);
      const [deployment, deleted] = await heldOpen(
        "select id from accounts where id = $1 for update",
        () => h.call("POST", `${A}/deployments?deploymentId=d1`, { body: { baseModel: `${A.slice(4)}/models/m1` } }),
        () => h.call("DELETE", `${A}/models/m1`),
      );
      assert.equal(deployment.status, 200, JSON.stringify(deployment.body));
      assert.equal(deleted.status, 400, JSON.stringify(deleted.body));
      assert.match(deleted.body.error.message, /is used by 1 deployment\(s\); delete them first/);
      assert.equal((await h.call("GET", `${A}/models/m1`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/deployments/d1?hard=true`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/models/m1`)).status, 200);
    });
  });
}
