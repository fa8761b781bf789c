import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createAccount } from "../../src/service/accounts.ts";
import { createSigninLink } from "../../src/service/signin-links.ts";
import { DIALECTS, type TestHearth } from "../support/hearth.ts";
import { startPlatform, upload } from "../support/platform.ts";
import { report, sleep } from "../support/reliability.ts";

/**
 * Tenant isolation and privilege. For every route of /openapi.json, principals of account B (admin,
 * plain user, browser session) get, for account A's real resources, exactly the answer they get for
 * resources that do not exist, and for an account that does not exist: nothing to read, list,
 * change, or even learn. Within A, a non-admin cannot raise itself, mint service-account keys or
 * read admin entries; a key stops working at expiry, at its owner's deletion and at its own.
 */
const A = "my-account";
const B = "other-account";
const GHOST = "ghost-account";

type Res = { status: number; body: any; headers: Record<string, unknown> };

/** What a caller can observe of an answer: status, body, and which headers came back. */
function observable(res: Res, account: string): unknown {
  const names = Object.keys(res.headers)
    .filter((n) => !["x-request-id", "date", "content-length", "keep-alive", "connection"].includes(n))
    .sort();
  // An error's details name the request (as x-request-id does), which differs from request to request.
  const body = (res.body as { error?: object } | undefined)?.error
    ? { ...(res.body as object), error: { ...(res.body as { error: object }).error, details: undefined } }
    : res.body;
  return { status: res.status, body: JSON.stringify(body).replaceAll(account, "ACCOUNT"), headers: names };
}

for (const dialect of DIALECTS) {
  describe(`tenant isolation and privilege (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    /** `signed`: authorized by a signed URL, not by a credential (a dataset's file). */
    let routes: Array<{ method: string; path: string; body: boolean; signed: boolean }>;
    const keys: Record<string, string> = {};
    const real: Record<string, string> = {};
    let sessionCookie = "";
    let csrf = "";
    let cases = 0;

    const call = (method: string, url: string, key: string | null, extra: { body?: unknown; headers?: Record<string, string> } = {}) =>
      h.call(method, url, { key, ...extra }) as Promise<Res>;

    /**
     * A's snapshot, minus what any request may touch: audit entries, rate windows, and the columns a key's
     * use writes behind (lastUsed, lastUsedIp, lastUsedUserAgent), which a batch may flush mid-test.
     */
    async function snapshotA(): Promise<string> {
      const db = h.deps.store.db;
      const parts: unknown[] = [];
      for (const table of ["users", "api_keys", "quotas", "identity_providers", "models", "deployments", "datasets", "dataset_chunks", "sessions"] as const) {
        const rows = await db.selectFrom(table).selectAll().where("account_id", "=", A).execute();
        parts.push(
          rows
            .map((r) => ({ ...(r as object), last_used: undefined, last_used_ip: undefined, last_used_user_agent: undefined, last_seen: undefined }))
            .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
        );
      }
      return JSON.stringify(parts);
    }

    before(async () => {
      // A loopback issuer (http://127.0.0.1:9/a) is registered below: the operator switch allows it.
      ({ h, stop } = await startPlatform(dialect, {}, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }));
      const ok = async (method: string, url: string, body?: unknown, key: string = h.adminKey) => {
        const res = await call(method, url, key, body !== undefined ? { body } : {});
        assert.equal(res.status, 200, `${method} ${url}: ${JSON.stringify(res.body)}`);
        return res.body;
      };
      const v1 = `/v1/accounts/${A}`;
      await ok("POST", `${v1}/users?userId=a-bot`, { serviceAccount: true, role: "user" });
      const botKey = await ok("POST", `${v1}/users/a-bot/apiKeys`, { apiKey: {} });
      keys.aUser = botKey.key;
      real.keyId = botKey.keyId;
      await ok("POST", `${v1}/users?userId=a-admin-bot`, { serviceAccount: true, role: "admin" });
      await ok("POST", `${v1}/users`, { email: "alice@a.example", role: "contributor" });
      await ok("POST", `${v1}/identityProviders?identityProviderId=a-idp`, {
        oidcConfig: { issuerUrl: "http://127.0.0.1:9/a", clientId: "a", clientSecret: "a-secret" },
      });
      await ok("POST", `${v1}/models?modelId=a-model`, { backend: "local", upstreamModel: "tiny-upstream" });
      await ok("POST", `${v1}/deployments?deploymentId=a-dep`, { baseModel: `accounts/${A}/models/a-model` });
      await ok("POST", `${v1}/datasets?datasetId=a-data`, {});
      assert.equal((await upload(h, h.adminKey, A, "a-data", '{"messages":[{"role":"user","content":"secret a"}]}\n')).status, 200);
      const used = await h.call("POST", "/inference/v1/chat/completions", {
        key: keys.aUser,
        body: { model: `accounts/${A}/models/a-model`, messages: [{ role: "user", content: "hi" }] },
      });
      assert.equal(used.status, 200, JSON.stringify(used.body));
      Object.assign(real, {
        userId: "a-bot",
        identityProviderId: "a-idp",
        modelId: "a-model",
        deploymentId: "a-dep",
        datasetId: "a-data",
        quotaId: "service-accounts",
        token: "x",
      });

      keys.bAdmin = (await createAccount(h.deps.store, h.deps.config, B, `admin@${B}.example`)).apiKey;
      await ok("POST", `/v1/accounts/${B}/users?userId=b-bot`, { serviceAccount: true, role: "user" }, keys.bAdmin);
      keys.bUser = (await ok("POST", `/v1/accounts/${B}/users/b-bot/apiKeys`, { apiKey: {} }, keys.bAdmin)).key;
      // B's admin in a browser: a session cookie and its CSRF token.
      const link = await createSigninLink(h.deps, B, `admin@${B}.example`, "http://127.0.0.1");
      const redeemed = await h.call("GET", new URL(link.url).pathname, { key: null });
      sessionCookie = String(redeemed.headers["set-cookie"]).split(";")[0]!;
      csrf = (await h.call("GET", "/auth/session", { key: null, headers: { cookie: sessionCookie } })).body.csrfToken;
      assert.ok(csrf, "the session works");

      const doc = (await h.call("GET", "/openapi.json", { key: null })).body;
      routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, body: Boolean(op.requestBody), signed: !op.security })),
      );
    });
    after(async () => {
      report("tenant isolation", { [`isolation cases compared (${dialect})`]: cases });
      await stop();
    });

    test("on every account route, B's principals get for A's real resources exactly what they get for missing ones and for a missing account", async () => {
      const before = await snapshotA();
      const accountRoutes = routes.filter((r) => r.path.startsWith("/v1/accounts/{accountId}"));
      assert.ok(accountRoutes.length >= 35, `found ${accountRoutes.length} account routes`);
      const fill = (path: string, account: string, ids: "real" | "missing") =>
        path.replace(/\{(\w+)\}/g, (_m, name: string) =>
          name === "accountId" ? account : ids === "real" ? (real[name] ?? "x") : `no-such-${name.toLowerCase()}`,
        );
      const principals: Array<[string, string | null, Record<string, string>]> = [
        ["B's admin key", keys.bAdmin!, {}],
        ["B's user key", keys.bUser!, {}],
        ["B's admin session", null, { cookie: sessionCookie, "x-csrf-token": csrf }],
      ];
      for (const r of accountRoutes) {
        for (const [who, key, headers] of principals) {
          const body = r.body ? { displayName: "from b", role: "admin", value: 1, keyId: real.keyId, serviceAccount: true, apiKey: {} } : undefined;
          const send = (url: string) => call(r.method, url, key, { headers, ...(body ? { body } : {}) });
          const onReal = await send(fill(r.path, A, "real"));
          const onMissing = await send(fill(r.path, A, "missing"));
          const onGhost = await send(fill(r.path, GHOST, "real"));
          const where = `${r.method} ${r.path} as ${who}`;
          // A signed-URL route ignores credentials: without a signature every URL is the same 403.
          assert.equal(onReal.status, r.signed ? 403 : 404, `${where}: ${JSON.stringify(onReal.body)}`);
          assert.deepEqual(observable(onReal, A), observable(onMissing, A), `${where}: A's real resources look like missing ones`);
          assert.deepEqual(observable(onReal, A), observable(onGhost, GHOST), `${where}: A looks like an account that does not exist`);
          cases += 2;
        }
      }
      assert.equal(await snapshotA(), before, "nothing of A changed");
    });

    test("A's resources named in B's request bodies and in inference read as missing too", async () => {
      const pairs: Array<[string, string, (model: string) => unknown]> = [
        ["POST", "/inference/v1/chat/completions", (m) => ({ model: m, messages: [{ role: "user", content: "hi" }] })],
        ["POST", "/inference/v1/completions", (m) => ({ model: m, prompt: "hi" })],
        ["POST", `/v1/accounts/${B}/deployments?deploymentId=steal`, (m) => ({ baseModel: m })],
      ];
      for (const [method, url, body] of pairs) {
        for (const [realName, missingName] of [
          [`accounts/${A}/models/a-model`, `accounts/${A}/models/no-such-model`],
          [`accounts/${A}/deployments/a-dep`, `accounts/${A}/deployments/no-such-dep`],
          [`accounts/${A}/models/a-model#accounts/${A}/deployments/a-dep`, `accounts/${A}/models/no-such-model#accounts/${A}/deployments/no-such-dep`],
        ] as Array<[string, string]>) {
          if (url.includes("deployments") && realName.includes("deployments")) continue;
          const onReal = await call(method, url, keys.bAdmin!, { body: body(realName) });
          const onMissing = await call(method, url, keys.bAdmin!, { body: body(missingName) });
          assert.equal(onReal.status, 404, `${url} ${realName}: ${JSON.stringify(onReal.body)}`);
          const strip = (res: Res, name: string) =>
            JSON.stringify(res.body)
              .replaceAll(name, "NAME")
              .replace(/a-model|no-such-model|a-dep|no-such-dep/g, "ID")
              // The request id in an error's details differs from request to request.
              .replace(/"requestId":"[^"]*"/g, '"requestId":"ID"');
          assert.equal(strip(onReal, realName), strip(onMissing, missingName), `${url}: ${realName} reads as missing`);
          cases++;
        }
      }
      const own = await call(
        "GET",
        `/v1/accounts/${B}/auditLogs?pageSize=200&filter=${encodeURIComponent(`resource:"${A}" OR principal:"${A}"`)}`,
        keys.bAdmin!,
      );
      assert.equal(own.status, 200);
      assert.deepEqual(
        // B's own refused attempts on A's paths are B's entries (every refusal is audited in the caller's
        // account): they hold only what B sent and "not found", as for an account that does not exist.
        own.body.auditLogs
          .filter((e: any) => !e.resource.includes(B) && e.resource.includes(A))
          .filter((e: any) => e.principal !== `admin@${B}.example`)
          .filter((e: any) => !(e.status.code === "NOT_FOUND" && / not found$/.test(e.status.message))),
        [],
      );
      const allKeys = await call("GET", `/v1/accounts/${B}/users/-/apiKeys?pageSize=200`, keys.bAdmin!);
      assert.ok(
        allKeys.body.apiKeys.every((k: any) => k.email.endsWith(`${B}.example`) || k.email.includes(`@${B}.`)),
        "B's key list holds only B's keys",
      );
      const who = await call("GET", "/verifyApiKey", keys.bAdmin!);
      assert.equal(who.headers["x-fireworks-account-id"], B);
    });

    test("a non-admin cannot raise its own role, create service accounts or their keys, or touch what admins manage", async () => {
      const v1 = `/v1/accounts/${A}`;
      const attempts: Array<[string, string, unknown]> = [
        ["PATCH", `${v1}/users/a-bot`, { role: "admin" }],
        ["PATCH", `${v1}/users/a-bot?updateMask=role`, { role: "admin" }],
        ["PATCH", `${v1}/users/a-bot`, { role: "admin", updateMask: "role" }],
        ["POST", `${v1}/users?userId=escalate`, { serviceAccount: true, role: "admin" }],
        ["POST", `${v1}/users/a-admin-bot/apiKeys`, { apiKey: {} }],
        ["POST", `${v1}/users/alice-a-example/apiKeys`, { apiKey: {} }],
        ["GET", `${v1}/users/-/apiKeys`, undefined],
        ["DELETE", `${v1}/users/admin-example-com/apiKeys/${real.keyId}`, undefined],
        ["PATCH", `${v1}/quotas/service-accounts`, { value: 1 }],
        ["POST", `${v1}/identityProviders?identityProviderId=mine`, { oidcConfig: { issuerUrl: "http://127.0.0.1:9/m", clientId: "m" } }],
        ["DELETE", `${v1}/users/a-admin-bot`, undefined],
        ["POST", `${v1}/users/alice-a-example:revokeSessions`, undefined],
      ];
      for (const [method, url, body] of attempts) {
        const res = await call(method, url, keys.aUser!, body !== undefined ? { body } : {});
        assert.ok(
          res.status === 403 || (res.status === 404 && method === "DELETE" && url.includes("apiKeys")),
          `${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`,
        );
        cases++;
      }
      const me = await call("GET", "/verifyApiKey", keys.aUser!);
      assert.equal(me.headers["x-hearth-role"], "user", "still a plain user");
      assert.equal((await call("GET", `${v1}/users/escalate`, h.adminKey)).status, 404);
    });

    test("a non-admin sees only its own, non-admin audit entries, whatever the filter", async () => {
      const v1 = `/v1/accounts/${A}/auditLogs`;
      const me = "a-bot@my-account.sa.hearth.local";
      const filters = [
        "",
        `principal="admin@example.com"`,
        `is_admin_action=true`,
        `principal="${me}" OR principal="admin@example.com"`,
        `NOT principal="${me}"`,
        `(is_admin_action=true OR is_admin_action=false) OR resource:"accounts"`,
        `email:"admin"`,
      ];
      for (const filter of filters) {
        for (const extra of ["", "&email=admin@example.com", "&orderBy=timestamp", "&startTime=1970-01-01T00:00:00Z"]) {
          const res = await call("GET", `${v1}?pageSize=200${filter ? `&filter=${encodeURIComponent(filter)}` : ""}${extra}`, keys.aUser!);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          for (const e of res.body.auditLogs) {
            assert.equal(e.principal, me, `filter ${filter}${extra}`);
            assert.equal(e.isAdminAction, false, `filter ${filter}${extra}`);
          }
          cases++;
        }
      }
      const adminView = await call("GET", `${v1}?pageSize=200&filter=${encodeURIComponent("is_admin_action=true")}`, h.adminKey);
      assert.ok(adminView.body.auditLogs.length > 0, "admin entries exist to be hidden");
    });

    test("a key stops working at its expiry, at its owner's deletion and at its own deletion, even while cached", async () => {
      const v1 = `/v1/accounts/${A}`;
      const uses = ["/verifyApiKey", `${v1}/users`, `${v1}/deployments`];
      const works = async (key: string) => {
        for (const url of uses) {
          const res = await call("GET", url, key);
          if (res.status !== 200) return res;
        }
        return undefined;
      };
      await call("POST", `${v1}/users?userId=short-lived`, h.adminKey, { body: { serviceAccount: true } });
      const expiring = await call("POST", `${v1}/users/short-lived/apiKeys`, h.adminKey, {
        body: { apiKey: { expireTime: new Date(Date.now() + 1500).toISOString() } },
      });
      const owned = await call("POST", `${v1}/users/short-lived/apiKeys`, h.adminKey, { body: { apiKey: {} } });
      const own = await call("POST", `${v1}/users/short-lived/apiKeys`, h.adminKey, { body: { apiKey: {} } });
      for (const k of [expiring, owned, own]) assert.equal(await works(k.body.key), undefined, "works before");
      await sleep(Math.max(0, Date.parse(expiring.body.expireTime) - Date.now()) + 50);
      const expired = await works(expiring.body.key);
      assert.equal(expired?.status, 401);
      assert.match(expired?.body.error.message, /expired/);
      assert.equal((await call("DELETE", `${v1}/users/short-lived/apiKeys/${own.body.keyId}`, h.adminKey)).status, 200);
      assert.equal((await works(own.body.key))?.status, 401, "its own deletion");
      assert.equal(await works(owned.body.key), undefined, "the owner's other key still works");
      assert.equal((await call("DELETE", `${v1}/users/short-lived`, h.adminKey)).status, 200);
      assert.equal((await works(owned.body.key))?.status, 401, "its owner's deletion");
      cases += 3;
    });
  });
}
