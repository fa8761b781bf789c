import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getDataset, insertDataset } from "../src/store/datasets.ts";
import { getUser, insertUser } from "../src/store/users.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";
import { hearth } from "./support/process.ts";

const A = "/v1/accounts/my-account";
const AIP_122 = /use 1-63 lowercase letters, digits or '-', starting with a letter and ending with a letter or digit \(AIP-122\)/;

for (const dialect of DIALECTS) {
  describe(`resource ids follow AIP-122 when created; stored ones keep working (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    test("regression: a--b- (trailing hyphen) is refused as the id of every resource created, naming the field", async () => {
      const creates: Array<[string, string, unknown]> = [
        ["userId", `${A}/users?userId=a--b-`, { serviceAccount: true, role: "user" }],
        ["modelId", `${A}/models?modelId=a--b-`, { backend: "local" }],
        ["deploymentId", `${A}/deployments?deploymentId=a--b-`, { baseModel: `accounts/my-account/models/tiny` }],
        ["datasetId", `${A}/datasets?datasetId=a--b-`, {}],
        ["datasetId", `${A}/datasets`, { datasetId: "a--b-" }],
        ["identityProviderId", `${A}/identityProviders?identityProviderId=a--b-`, { oidcConfig: { issuerUrl: "https://login.example.com", clientId: "c" } }],
      ];
      for (const [field, url, body] of creates) {
        const res = await h.call("POST", url, { body });
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.message.startsWith(`invalid ${field} "a--b-": `), true, res.body.error.message);
        assert.match(res.body.error.message, AIP_122);
      }
      for (const bad of ["-a", "1a", "A", "a_b", "x".repeat(64)]) {
        const res = await h.call("POST", `${A}/users?userId=${bad}`, { body: { serviceAccount: true, role: "user" } });
        assert.equal(res.status, 400, bad);
      }
    });

    test("regression: `hearth account create a--b-` is refused, naming the account id and AIP-122", async () => {
      const run = await hearth(["account", "create", "a--b-", "--admin-email", "ops@acme.example"], h.env);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^hearth: invalid account id "a--b-": .*\(AIP-122\)/);
    });

    test("reproduction: `hearth account create fireworks` (the public models' account) is refused; it made an account whose own models the catalogue shadowed", async () => {
      const run = await hearth(["account", "create", "fireworks", "--admin-email", "ops@acme.example"], h.env);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^hearth: account id "fireworks" is the public models' account \(publicAccountId in HEARTH_CONFIG\); choose another/);
    });

    test('reproduction: stored text people read refuses control, bidi and lone-surrogate characters (upstreamModel "a\\ud800" was stored and read back as "a\\uFFFD")', async () => {
      const cases: Array<[string, string, Record<string, unknown>]> = [
        ["upstreamModel", `${A}/models?modelId=odd-1`, { backend: "local", upstreamModel: "a\ud800" }],
        ["upstreamModel", `${A}/models?modelId=odd-2`, { backend: "local", upstreamModel: "tiny\u202e" }],
        [
          "oidcConfig.clientId",
          `${A}/identityProviders?identityProviderId=odd`,
          { oidcConfig: { issuerUrl: "https://login.example.com", clientId: "c\u0007" } },
        ],
        ["displayName", `${A}/auditSinks?auditSinkId=odd-1`, { type: "WEBHOOK", displayName: "SIEM\u202e", webhook: "accounts/my-account/webhooks/x" }],
        ["url", `${A}/auditSinks?auditSinkId=odd-2`, { type: "SPLUNK_HEC", url: "https://splunk.example.com/\u0007", hecToken: "t" }],
      ];
      for (const [field, url, body] of cases) {
        const res = await h.call("POST", url, { body });
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.ok(res.body.error.message.includes(field), `${field}: ${res.body.error.message}`);
      }
      assert.equal((await h.call("GET", `${A}/models/odd-1`)).status, 404, "nothing was stored");
    });

    test("ids with inner hyphens, 63 characters or one letter are accepted", async () => {
      for (const ok of ["a--b", "b", `c${"0".repeat(62)}`]) {
        const res = await h.call("POST", `${A}/users?userId=${ok}`, { body: { serviceAccount: true, role: "user" } });
        assert.equal(res.status, 200, `${ok}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.name, `accounts/my-account/users/${ok}`);
      }
      const model = await h.call("POST", `${A}/models?modelId=m--1`, { body: { backend: "local" } });
      assert.equal(model.status, 200, JSON.stringify(model.body));
    });

    test("a user and a dataset stored earlier under an id ending in '-' can still be read, updated and deleted", async () => {
      const admin = (await getUser(h.deps.store.db, h.accountId, "admin-example-com"))!;
      const { uid: _uid, ...fields } = admin;
      await insertUser(h.deps.store.db, { ...fields, id: "legacy-", email: "legacy@example.com", role: "user" });
      const got = await h.call("GET", `${A}/users/legacy-`);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.equal(got.body.email, "legacy@example.com");
      const renamed = await h.call("PATCH", `${A}/users/legacy-?updateMask=displayName`, { body: { displayName: "Kept" } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal((await h.call("DELETE", `${A}/users/legacy-`)).status, 200);
      assert.equal((await h.call("GET", `${A}/users/legacy-`)).status, 404);

      assert.equal((await h.call("POST", `${A}/datasets?datasetId=seed`, { body: {} })).status, 200);
      const seed = (await getDataset(h.deps.store.db, h.accountId, "seed"))!;
      await insertDataset(h.deps.store.db, { ...seed, id: "old-data-" });
      const dataset = await h.call("GET", `${A}/datasets/old-data-`);
      assert.equal(dataset.status, 200, JSON.stringify(dataset.body));
      assert.equal(dataset.body.name, "accounts/my-account/datasets/old-data-");
      assert.equal((await h.call("DELETE", `${A}/datasets/old-data-`)).status, 200);
      assert.equal((await h.call("GET", `${A}/datasets/old-data-`)).status, 404);
    });

    test("/openapi.json states both rules: AIP-122 for a new id, the stored-id pattern for a path", async () => {
      const doc = (await h.call("GET", "/openapi.json", { key: null })).body;
      const create = doc.paths["/v1/accounts/{accountId}/users"].post.parameters.find((p: { name: string }) => p.name === "userId");
      assert.equal(create.schema.pattern, "^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$");
      assert.equal(create.schema.maxLength, 63);
      const get = doc.paths["/v1/accounts/{accountId}/users/{userId}"].get.parameters.find((p: { name: string }) => p.name === "userId");
      assert.equal(new RegExp(get.schema.pattern).test("legacy-"), true);
      const body = doc.paths["/v1/accounts/{accountId}/users"].post.requestBody.content["application/json"].schema;
      assert.deepEqual(body.properties.role.enum, ["inference-user", "contributor", "user", "admin", "custom"]);
      assert.equal(body.properties.displayName.maxLength, 63);
    });
  });
}
