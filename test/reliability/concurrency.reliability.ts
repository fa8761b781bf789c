import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS } from "../support/hearth.ts";
import { startPlatform } from "../support/platform.ts";
import { report, request } from "../support/reliability.ts";
import type { TestHearth } from "../support/hearth.ts";

/**
 * Concurrency over real HTTP: races for one id, role changes and deletions racing key use, and
 * quotas under a burst of creates. Every answer is a success or the documented refusal, never a 500.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`concurrency (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let requests = 0;
    const call = (method: string, path: string, options: { key?: string; body?: unknown } = {}) => {
      requests++;
      return request(h.baseUrl, method, path, { key: options.key ?? h.adminKey, ...(options.body !== undefined ? { body: options.body } : {}) });
    };
    const statuses = (results: Array<{ status: number }>) =>
      results.reduce<Record<number, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
    const okAudit = async (method: string, resource: string) =>
      Number(
        (
          await h.deps.store.db
            .selectFrom("audit_logs")
            .select((eb) => eb.fn.countAll().as("n"))
            .where("method", "=", method)
            .where("resource", "=", resource)
            .where("status_code", "=", 0)
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      // The quota bursts of webhooks and audit sinks point them at loopback: the operator's switch allows it.
      ({ h, stop } = await startPlatform(dialect, {}, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }));
      assert.equal((await call("POST", `${A}/users?userId=quota-owner`, { body: { serviceAccount: true } })).status, 200);
    });
    after(() => stop());

    test("50 clients create the same user id at once: exactly one 200, 49 × 409, one row, one audit entry", async () => {
      const sa = await Promise.all(Array.from({ length: 50 }, () => call("POST", `${A}/users?userId=contested`, { body: { serviceAccount: true } })));
      assert.deepEqual(statuses(sa), { 200: 1, 409: 49 });
      for (const r of sa.filter((x) => x.status === 409)) assert.match(r.body.error.message, /user "contested" already exists/);
      assert.equal(await okAudit("CreateUser", `${A.slice(4)}/users/contested`), 1);

      const humans = await Promise.all(
        Array.from({ length: 50 }, (_, i) => call("POST", `${A}/users?userId=h${i}`, { body: { email: "same@corp.example", role: "user" } })),
      );
      assert.deepEqual(statuses(humans), { 200: 1, 409: 49 }, "one email, one user, whatever the ids");
      const rows = await h.deps.store.db.selectFrom("users").select("id").where("email", "=", "same@corp.example").execute();
      assert.equal(rows.length, 1);
      report(`concurrency (${dialect})`, { "same-id creates raced": 100 });
    });

    test("role changes, key deletions and owner deletions racing key use never leave a working key for a deleted owner", async () => {
      const owners = Array.from({ length: 8 }, (_, i) => `racer-${i}`);
      const keys: Record<string, Array<{ key: string; keyId: string }>> = {};
      for (const id of owners) {
        assert.equal((await call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true, role: "user" } })).status, 200);
        keys[id] = [];
        for (let k = 0; k < 3; k++) {
          const made = await call("POST", `${A}/users/${id}/apiKeys`, { body: { apiKey: {} } });
          keys[id]!.push({ key: made.body.key, keyId: made.body.keyId });
        }
      }
      // Every key in use throughout (so it sits in the verification cache), while an admin changes things.
      let using = true;
      let uses = 0;
      const users = Object.values(keys).flat();
      const hammer = Array.from({ length: 4 }, async (_, w) => {
        for (let i = w; using; i++) {
          const res = await call("GET", "/verifyApiKey", { key: users[i % users.length]!.key });
          assert.ok(res.status === 200 || res.status === 401, `verify answered ${res.status}`);
          uses++;
        }
      });
      const roles = ["admin", "user", "contributor", "inference-user"];
      const deletedOwners = new Set<string>();
      const deletedKeys = new Set<string>();
      const lastRole: Record<string, string> = {};
      const answers: number[] = [];
      await Promise.all(
        owners.map(async (id, i) => {
          // Per owner, one client: role changes, a key deletion, a key creation, and for half of them the owner's deletion,
          // with a second client racing role changes and key creations against it.
          const racer = (async () => {
            for (let r = 0; r < 6; r++) {
              const res = await call(r % 2 ? "PATCH" : "POST", r % 2 ? `${A}/users/${id}` : `${A}/users/${id}/apiKeys`, {
                body: r % 2 ? { displayName: `r${r}` } : { apiKey: {} },
              });
              answers.push(res.status);
              if (r % 2 === 0 && res.status === 200) keys[id]!.push({ key: res.body.key, keyId: res.body.keyId });
            }
          })();
          for (let r = 0; r < 4; r++) {
            const role = roles[(i + r) % roles.length]!;
            const res = await call("PATCH", `${A}/users/${id}`, { body: { role } });
            answers.push(res.status);
            if (res.status === 200) {
              lastRole[id] = role;
              const seen = await call("GET", "/verifyApiKey", { key: keys[id]![0]!.key });
              assert.equal(seen.headers.get("x-hearth-role"), role, `${id}: the new role applies at once`);
            }
          }
          const victim = keys[id]![1]!;
          const del = await call("DELETE", `${A}/users/${id}/apiKeys/${victim.keyId}`);
          assert.equal(del.status, 200);
          deletedKeys.add(victim.keyId);
          assert.equal((await call("GET", "/verifyApiKey", { key: victim.key })).status, 401, "a deleted key is refused at once");
          if (i % 2 === 0) {
            const gone = await call("DELETE", `${A}/users/${id}`);
            assert.equal(gone.status, 200);
            deletedOwners.add(id);
          }
          await racer;
        }),
      );
      for (let round = 0; round < 5; round++) {
        for (const id of owners) {
          for (const k of keys[id]!) {
            const res = await call("GET", "/verifyApiKey", { key: k.key });
            const expected = deletedOwners.has(id) || deletedKeys.has(k.keyId) ? 401 : 200;
            assert.equal(res.status, expected, `${id} key ${k.keyId}: ${expected === 401 ? "refused" : "works"}`);
            if (expected === 200) assert.equal(res.headers.get("x-hearth-role"), lastRole[id]);
          }
        }
      }
      using = false;
      await Promise.all(hammer);
      assert.deepEqual(
        answers.filter((s) => s !== 200 && s !== 404),
        [],
        "racing requests succeed or find the owner gone",
      );
      const left = await h.deps.store.db
        .selectFrom("api_keys")
        .select("user_id")
        .where("user_id", "in", [...deletedOwners])
        .execute();
      assert.deepEqual(left, [], "no key row outlives its owner");
      // No success recorded for a change that did not happen: nothing after an owner's deletion.
      for (const id of deletedOwners) {
        const entries = await h.deps.store.db
          .selectFrom("audit_logs")
          .select(["method", "timestamp"])
          .where("resource", "like", `${A.slice(4)}/users/${id}%`)
          .where("status_code", "=", 0)
          .orderBy("timestamp")
          .execute();
        const deletedAt = entries.find((e) => e.method === "DeleteUser")!.timestamp;
        assert.deepEqual(
          entries.filter((e) => e.timestamp > deletedAt).map((e) => e.method),
          [],
          `${id}: no successful change after its deletion`,
        );
      }
      report(`concurrency (${dialect})`, { "key uses during role changes and deletions": uses, "racing admin changes": answers.length });
    });

    test("an owner deleted while keys are created and its user is changed: each answer is 200 or 404, no key survives, no success after the deletion", async () => {
      let answers = 0;
      for (let round = 0; round < 20; round++) {
        const id = `doomed-${round}`;
        assert.equal((await call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } })).status, 200);
        const racing = [
          ...Array.from({ length: 6 }, () => call("POST", `${A}/users/${id}/apiKeys`, { body: { apiKey: {} } })),
          ...Array.from({ length: 3 }, (_, i) => call("PATCH", `${A}/users/${id}`, { body: { displayName: `n${i}` } })),
          ...Array.from({ length: 3 }, (_, i) => call("PATCH", `${A}/users/${id}`, { body: { role: i % 2 ? "contributor" : "inference-user" } })),
        ];
        const deletion = call("DELETE", `${A}/users/${id}`);
        const results = await Promise.all([...racing, deletion]);
        answers += results.length;
        assert.equal((await deletion).status, 200);
        const odd = results.filter((r) => r.status !== 200 && r.status !== 404).map((r) => `${r.status} ${JSON.stringify(r.body)}`);
        assert.deepEqual(odd, [], `round ${round}: a change racing the deletion succeeds or finds the user gone`);
        const created = results.slice(0, 6).filter((r) => r.status === 200);
        for (const r of created) assert.equal((await call("GET", "/verifyApiKey", { key: r.body.key })).status, 401);
        const rows = await h.deps.store.db.selectFrom("api_keys").select("id").where("account_id", "=", "my-account").where("user_id", "=", id).execute();
        assert.deepEqual(rows, []);
        const entries = await h.deps.store.db
          .selectFrom("audit_logs")
          .select(["method", "timestamp"])
          .where("resource", "=", `accounts/my-account/users/${id}`)
          .where("status_code", "=", 0)
          .execute();
        const deletedAt = entries.find((e) => e.method === "DeleteUser")!.timestamp;
        assert.deepEqual(
          entries.filter((e) => e.timestamp > deletedAt).map((e) => e.method),
          [],
          `round ${round}: no successful change after the deletion`,
        );
        const successes = entries.filter((e) => e.method !== "CreateUser" && e.method !== "DeleteUser").length;
        const applied = results.slice(0, 12).filter((r) => r.status === 200).length;
        assert.equal(successes, applied, `round ${round}: one successful audit entry per change answered 200, none for one answered 404`);
      }
      report(`concurrency (${dialect})`, { "changes raced against an owner's deletion": answers });
    });

    for (const [quota, limit, burst, create] of [
      ["service-accounts", 5, 30, (i: number) => call("POST", `${A}/users?userId=quota-sa-${i}`, { body: { serviceAccount: true } })],
      ["users", 3, 15, (i: number) => call("POST", `${A}/users`, { body: { email: `quota-human-${i}@example.com`, role: "user" } })],
      ["api-keys-per-user", 3, 20, () => call("POST", `${A}/users/quota-owner/apiKeys`, { body: { apiKey: {} } })],
      [
        "deployments",
        3,
        15,
        (i: number) => call("POST", `${A}/deployments?deploymentId=quota-dep-${i}`, { body: { baseModel: "accounts/fireworks/models/tiny-public" } }),
      ],
      ["datasets", 3, 20, (i: number) => call("POST", `${A}/datasets?datasetId=quota-ds-${i}`, { body: {} })],
      [
        "webhooks",
        3,
        15,
        (i: number) => call("POST", `${A}/webhooks?webhookId=quota-wh-${i}`, { body: { url: "http://127.0.0.1:9/hook", events: ["api_key.leaked"] } }),
      ],
      [
        "audit-sinks",
        2,
        10,
        (i: number) =>
          call("POST", `${A}/auditSinks?auditSinkId=quota-sink-${i}`, { body: { type: "SPLUNK_HEC", url: "http://127.0.0.1:9/collector", hecToken: "t" } }),
      ],
      ["models", 3, 15, (i: number) => call("POST", `${A}/models?modelId=quota-model-${i}`, { body: { backend: "local", upstreamModel: "tiny-upstream" } })],
      [
        "identity-providers",
        2,
        10,
        (i: number) =>
          call("POST", `${A}/identityProviders?identityProviderId=quota-idp-${i}`, {
            body: { oidcConfig: { issuerUrl: `https://login.quota-${i}.example`, clientId: "c" } },
          }),
      ],
      [
        "permission-presets",
        3,
        15,
        (i: number) => call("POST", `${A}/permissionPresets?permissionPresetId=quota-preset-${i}`, { body: { actions: ["models.list"] } }),
      ],
    ] as const) {
      test(`quota "${quota}" holds under ${burst} concurrent creates`, async () => {
        // Per-user keys count for one owner (which has none yet); the other quotas count the account.
        const perUser = quota === "api-keys-per-user";
        const used = perUser ? 0 : Number((await call("GET", `${A}/quotas/${quota}`)).body.usage);
        assert.equal((await call("PATCH", `${A}/quotas/${quota}`, { body: { value: used + limit } })).status, 200);
        const results = await Promise.all(Array.from({ length: burst }, (_, i) => create(i)));
        assert.deepEqual(statuses(results), { 200: limit, 429: burst - limit });
        for (const r of results.filter((x) => x.status === 429)) assert.match(r.body.error.message, new RegExp(`^quota "${quota}" exceeded`));
        const after = perUser
          ? (await call("GET", `${A}/users/quota-owner/apiKeys`)).body.totalSize
          : Number((await call("GET", `${A}/quotas/${quota}`)).body.usage);
        assert.equal(after, used + limit);
        report(`concurrency (${dialect})`, { "quota bursts": 1, "quota creates raced": burst });
      });
    }

    test("summary", () => {
      report(`concurrency (${dialect})`, { "HTTP requests": requests });
    });
  });
}
