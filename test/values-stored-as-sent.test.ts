import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { clientSecretOf } from "../src/service/identity-providers.ts";
import { getIdentityProvider } from "../src/store/identity-providers.ts";
import { auditEntries } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * A value Hearth cannot keep or use exactly as sent is a 400 naming its field, never a 200 that
 * stores something else. Found by fuzzing every route of /openapi.json: a model's description over
 * 1,000 characters was cut to 1,000 with a 200; a Splunk HEC token holding a line feed (or any
 * character an HTTP header cannot carry) was stored and then failed every delivery with "the request
 * failed"; an identity provider's client secret holding a lone surrogate was stored as U+FFFD.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`values are stored as sent or refused (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect, {}, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }));
      const model = await h.call("POST", `${A}/models?modelId=described`, { body: { backend: "local", description: "before" } });
      assert.equal(model.status, 200, JSON.stringify(model.body));
      const idp = await h.call("POST", `${A}/identityProviders?identityProviderId=corp`, {
        body: { oidcConfig: { issuerUrl: "http://127.0.0.1:9", clientId: "hearth", clientSecret: "kept-secret" }, tenantDomains: ["example.com"] },
      });
      assert.equal(idp.status, 200, JSON.stringify(idp.body));
    });
    after(() => stop());

    test("regression: a model's description over 1,000 characters is a 400 naming the field, never stored cut short", async () => {
      const long = "d".repeat(1001);
      for (const [method, url, body] of [
        ["POST", `${A}/models?modelId=long-flat`, { backend: "local", description: long }],
        ["POST", `${A}/models?modelId=long-nested`, { model: { backend: "local", description: long } }],
        ["PATCH", `${A}/models/described`, { description: long }],
      ] as const) {
        const res = await h.call(method, url, { body });
        assert.equal(res.status, 400, `${method} ${url}: ${JSON.stringify(res.body).slice(0, 300)}`);
        assert.match(res.body.error.message, /field "(model\.)?description": must be at most 1000 characters long/);
      }
      assert.equal((await h.call("GET", `${A}/models/long-flat`)).status, 404);
      assert.equal((await h.call("GET", `${A}/models/long-nested`)).status, 404);
      assert.equal((await h.call("GET", `${A}/models/described`)).body.description, "before");
      const refused = await auditEntries(h, 'method="UpdateModel" AND status.code="INVALID_ARGUMENT"');
      assert.equal(refused.length, 1, "the refused update is audited once");
      const full = await h.call("PATCH", `${A}/models/described`, { body: { description: "d".repeat(1000) } });
      assert.equal(full.status, 200, JSON.stringify(full.body).slice(0, 300));
      assert.equal((await h.call("GET", `${A}/models/described`)).body.description.length, 1000);
    });

    test("regression: a Splunk HEC token an HTTP header cannot carry is a 400, and no sink is made", async () => {
      for (const [id, hecToken] of [
        ["line-feed", "tok3n\nvalue"],
        ["space", "tok3n value"],
        ["non-ascii", "tok3n-välue"],
        ["lone-surrogate", "tok3n\ud800value"],
      ]) {
        const res = await h.call("POST", `${A}/auditSinks?auditSinkId=${id}`, {
          body: { type: "SPLUNK_HEC", url: "http://127.0.0.1:9/services/collector", hecToken },
        });
        assert.equal(res.status, 400, `${id}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /field "hecToken": must be visible ASCII characters/);
        assert.ok(!res.body.error.message.includes("tok3n"), "the message does not echo the token");
        assert.equal((await h.call("GET", `${A}/auditSinks/${id}`)).status, 404, id);
      }
      assert.equal((await auditEntries(h, 'method="CreateAuditSink" AND status.code="INVALID_ARGUMENT"')).length, 4);
      const ok = await h.call("POST", `${A}/auditSinks?auditSinkId=guid`, {
        body: { type: "SPLUNK_HEC", url: "http://127.0.0.1:9/services/collector", hecToken: "12345678-9abc-def0-1234-56789abcdef0" },
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    });

    test("regression: a client secret outside printable ASCII (RFC 6749) is a 400 and the stored secret is kept", async () => {
      for (const clientSecret of ["sec\ud800ret", "sec\nret", "sec\u202eret"]) {
        const res = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { oidcConfig: { clientSecret } } });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.error.message, /field "oidcConfig\.clientSecret": must be printable ASCII characters/);
        const created = await h.call("POST", `${A}/identityProviders?identityProviderId=other`, {
          body: { oidcConfig: { issuerUrl: "http://127.0.0.1:10", clientId: "hearth", clientSecret } },
        });
        assert.equal(created.status, 400, JSON.stringify(created.body));
      }
      const row = await getIdentityProvider(h.deps.store.db, "my-account", "corp");
      assert.equal(clientSecretOf(h.deps, row!), "kept-secret");
      assert.equal((await h.call("GET", `${A}/identityProviders/other`)).status, 404);
      const spaced = await h.call("PATCH", `${A}/identityProviders/corp`, { body: { oidcConfig: { clientSecret: "a secret ~ with spaces" } } });
      assert.equal(spaced.status, 200, JSON.stringify(spaced.body));
      assert.equal(clientSecretOf(h.deps, (await getIdentityProvider(h.deps.store.db, "my-account", "corp"))!), "a secret ~ with spaces");
    });
  });
}
