import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { setQuota, startPlatform } from "./support/platform.ts";
import { createSigninLink } from "../src/service/signin-links.ts";

/**
 * Query parameters are as strict as bodies: one a method does not declare is a 400 naming it,
 * never ignored; a proto (snake_case) name means its JSON name. The reproduction: `POST
 * …/deployments?validateOnly=true` created the deployment, since the parameter was dropped; it now
 * checks and answers the deployment that would be created, and stores nothing.
 */
const A = "/v1/accounts/my-account";
const MODEL = "accounts/fireworks/models/tiny-public";

for (const dialect of DIALECTS) {
  describe(`query parameters (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let viewer = "";
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      viewer = (await serviceAccountWithKey(h, "viewer-bot", "inference-user")).key;
    });
    after(() => stop());

    const deploymentCount = async () => (await h.call("GET", `${A}/deployments?pageSize=200`)).body.deployments?.length ?? 0;

    test("the reproduction: validateOnly=true answers the deployment that would be created and creates nothing", async () => {
      const before = await deploymentCount();
      const entries = (await auditEntries(h, 'method="CreateDeployment"')).length;
      const res = await h.call("POST", `${A}/deployments?deploymentId=rest-dep4&validateOnly=true`, { body: { baseModel: MODEL, maxReplicaCount: 2 } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.name, `${A.slice(4)}/deployments/rest-dep4`);
      assert.equal(res.body.baseModel, MODEL);
      assert.equal(res.body.state, "CREATING");
      assert.equal(res.body.maxReplicaCount, 2);
      assert.equal((await h.call("GET", `${A}/deployments/rest-dep4`)).status, 404, "not created");
      assert.equal(await deploymentCount(), before);
      assert.equal((await auditEntries(h, 'method="CreateDeployment"')).length, entries, "nothing changed, nothing audited");
      // validateOnly=false (and its absence) creates.
      assert.equal((await h.call("POST", `${A}/deployments?deploymentId=rest-dep4&validateOnly=false`, { body: { baseModel: MODEL } })).status, 200);
      assert.equal((await h.call("GET", `${A}/deployments/rest-dep4`)).status, 200);
    });

    test("validateOnly runs every check a create does: each refusal is the create's, audited, and nothing is stored", async () => {
      const entries = async () => (await auditEntries(h, 'method="CreateDeployment"')).length;
      const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, RegExp]> = [
        [
          "an existing id",
          () => h.call("POST", `${A}/deployments?deploymentId=rest-dep4&validateOnly=true`, { body: { baseModel: MODEL } }),
          409,
          /already exists/,
        ],
        [
          "a missing model",
          () => h.call("POST", `${A}/deployments?deploymentId=x1&validateOnly=true`, { body: { baseModel: `${A.slice(4)}/models/nothing` } }),
          404,
          /not found/,
        ],
        [
          "bad replica bounds",
          () => h.call("POST", `${A}/deployments?deploymentId=x2&validateOnly=true`, { body: { baseModel: MODEL, minReplicaCount: 3, maxReplicaCount: 1 } }),
          400,
          /minReplicaCount/,
        ],
        [
          "a role that may not create",
          () => h.call("POST", `${A}/deployments?deploymentId=x3&validateOnly=true`, { key: viewer, body: { baseModel: MODEL } }),
          403,
          /./,
        ],
        [
          "a bad value",
          () => h.call("POST", `${A}/deployments?deploymentId=x4&validateOnly=yes`, { body: { baseModel: MODEL } }),
          400,
          /validateOnly must be true or false/,
        ],
      ];
      for (const [what, send, status, message] of cases) {
        const before = await entries();
        const res = await send();
        assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, what);
        assert.equal(await entries(), before + 1, `${what}: the refusal is audited`);
      }
      for (const id of ["x1", "x2", "x3", "x4"]) assert.equal((await h.call("GET", `${A}/deployments/${id}`)).status, 404);
      // The quota: full, validateOnly says so as the create would.
      await setQuota(h, h.accountId, "deployments", await deploymentCount(), h.adminKey);
      const full = await h.call("POST", `${A}/deployments?deploymentId=x5&validateOnly=true`, { body: { baseModel: MODEL } });
      assert.equal(full.status, 429, JSON.stringify(full.body));
      await setQuota(h, h.accountId, "deployments", 16, h.adminKey);
    });

    test("a query parameter a method does not declare is a 400 naming it and the ones it takes; nothing is created; the refusal is audited", async () => {
      const entries = (await auditEntries(h, 'method="CreateUser"')).length;
      const res = await h.call("POST", `${A}/users?userId=q-bot&dryRun=true`, { body: { serviceAccount: true, role: "user" } });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.message, 'unknown query parameter "dryRun" (parameters: userId)');
      assert.equal((await h.call("GET", `${A}/users/q-bot`)).status, 404);
      assert.equal((await auditEntries(h, 'method="CreateUser"')).length, entries + 1);
      const none = await h.call("DELETE", `${A}/users/nobody?force=true`);
      assert.equal(none.status, 400);
      assert.equal(none.body.error.message, 'unknown query parameter "force" (this method takes none)');
      const list = await h.call("GET", `${A}/users?pageSize=1&page_token_x=1`);
      assert.match(list.body.error.message, /^unknown query parameter "page_token_x" \(parameters: pageSize, pageToken, filter, orderBy, readMask\)$/);
    });

    test("a proto (snake_case) parameter name means its JSON name; both at once is a 400", async () => {
      const snake = await h.call("GET", `${A}/users?page_size=1`);
      assert.equal(snake.status, 200, JSON.stringify(snake.body));
      assert.equal(snake.body.users.length, 1);
      const next = await h.call("GET", `${A}/users?page_size=1&page_token=${encodeURIComponent(snake.body.nextPageToken)}`);
      assert.equal(next.status, 200);
      assert.notEqual(next.body.users[0].name, snake.body.users[0].name);
      const both = await h.call("GET", `${A}/users?page_size=1&pageSize=2`);
      assert.equal(both.status, 400);
      assert.match(both.body.error.message, /query parameter "pageSize" is given twice/);
    });

    test("probes, the OpenAI-compatible routes, the audit keys and sign-in links take any parameter", async () => {
      assert.equal((await h.call("GET", "/healthz?t=1", { key: null })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey?from=caddy")).status, 200);
      assert.equal((await h.call("GET", "/openapi.json?v=2", { key: null })).status, 200);
      assert.equal((await h.call("GET", "/.well-known/hearth-audit-keys?x=1", { key: null })).status, 200);
      // Azure-style clients add api-version (found by attacking this change: it was a 400).
      const chat = await h.call("POST", "/inference/v1/chat/completions?api-version=2024-06-01", {
        body: { model: MODEL, messages: [{ role: "user", content: "hi" }] },
      });
      assert.equal(chat.status, 200, JSON.stringify(chat.body));
      assert.equal((await h.call("GET", "/inference/v1/models?limit=1")).status, 200);
      // A sign-in link a mail client or tracker added parameters to still signs in.
      const link = await createSigninLink(h.deps, h.accountId, "admin@example.com", h.baseUrl);
      const signIn = await fetch(`${link.url}?utm_source=mail&utm_campaign=x`, { redirect: "manual" });
      assert.ok([302, 303].includes(signIn.status), `status ${signIn.status}: ${await signIn.text()}`);
    });

    test("pageSize takes decimal digits only (AIP-158): 0x1, 0b1, 1e0, ' 1' and 1.0 are 400s naming it and audited; any digits above 200 count as 200", async () => {
      const entries = (await auditEntries(h, 'method="ListUsers" AND status:"INVALID_ARGUMENT"')).length;
      const forms = ["0x1", "0b1", "1e0", "%201", "1%20", "1.0", "+1", "-0", "", "Infinity"];
      for (const form of forms) {
        const res = await h.call("GET", `${A}/users?pageSize=${form}`);
        assert.equal(res.status, 400, `pageSize=${form}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /pageSize.*must be a whole number in decimal digits, 0 \(the default\) or more; above 200 counts as 200/, form);
      }
      assert.equal((await auditEntries(h, 'method="ListUsers" AND status:"INVALID_ARGUMENT"')).length, entries + forms.length);
      const all = (await h.call("GET", `${A}/users?pageSize=200`)).body.users.length;
      for (const digits of ["201", "9999999999999999999999", "9".repeat(400)]) {
        const res = await h.call("GET", `${A}/users?pageSize=${digits}`);
        assert.equal(res.status, 200, `${digits}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.users.length, all);
      }
      const one = await h.call("GET", `${A}/users?pageSize=01`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body.users.length, 1);
    });

    test("a parameter given twice is a 400 saying so", async () => {
      const res = await h.call("GET", `${A}/users?pageSize=1&pageSize=2`);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.message, 'query parameter "pageSize" is given 2 times; give it once');
    });
  });
}
