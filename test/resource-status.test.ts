import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { releaseIdentityProvider } from "../src/service/identity-provider-release.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * Regression: models and identity providers answered without `status`, which Fireworks' Model and
 * IdentityProvider carry as every other resource does (fw-ai-external/python-sdk
 * src/fireworks/types/model.py `Model.status`, fireworks_ai gateway_identity_provider.py
 * `GatewayIdentityProvider.status`): a script reading `model.status.code` met None.
 */
const A = "/v1/accounts/my-account";
const OK = { code: "OK", message: "" };

for (const dialect of DIALECTS) {
  describe(`status on models and identity providers (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    test("an account's model and a public one carry status OK in gets, lists and a readMask naming it", async () => {
      const created = await h.call("POST", `${A}/models?modelId=with-status`, { body: { backend: "local" } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(created.body.status, OK);
      assert.deepEqual((await h.call("GET", `${A}/models/with-status`)).body.status, OK);
      const listed = await h.call("GET", `${A}/models?readMask=status`);
      assert.deepEqual(listed.body.models, [{ name: `${A.slice(4)}/models/with-status`, status: OK }]);
      const publicModels = (await h.call("GET", "/v1/accounts/fireworks/models")).body.models;
      assert.ok(publicModels.length > 0);
      for (const m of publicModels) assert.deepEqual(m.status, OK, m.name);
      const read = (await h.call("GET", `${A}/models/with-status`)).body;
      const patched = await h.call("PATCH", `${A}/models/with-status`, { body: { ...read, displayName: "Back" } });
      assert.equal(patched.status, 200, `a model read back with its status is taken: ${JSON.stringify(patched.body)}`);
    });

    test("an identity provider carries status OK; a DISABLED one FAILED_PRECONDITION saying why", async () => {
      const body = { displayName: "Okta", oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1" } };
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=okta`, { body });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(created.body.status, OK);
      assert.deepEqual((await h.call("GET", `${A}/identityProviders`)).body.identityProviders[0].status, OK);
      const patched = await h.call("PATCH", `${A}/identityProviders/okta`, { body: { ...created.body, displayName: "Okta SSO" } });
      assert.equal(patched.status, 200, `a provider read back with its status is taken: ${JSON.stringify(patched.body)}`);
      await releaseIdentityProvider(h.deps.store, "https://acme.okta.com", "0oa1");
      const disabled = (await h.call("GET", `${A}/identityProviders/okta`)).body;
      assert.equal(disabled.state, "DISABLED");
      assert.equal(disabled.status.code, "FAILED_PRECONDITION");
      assert.match(disabled.status.message, /another account holds this issuer and client id/);
    });
  });
}
