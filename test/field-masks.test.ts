import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { clientSecretOf } from "../src/service/identity-providers.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * Field masks over real HTTP: `updateMask` (AIP-134) on every PATCH route, `readMask` (AIP-157)
 * on every list and get that accepts it, and refused where a list does not.
 */
const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`field masks (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;

    /** A request over the listening socket, as the admin. */
    async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
      const res = await fetch(`${h.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${h.adminKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    }

    async function ok(method: string, path: string, body?: unknown): Promise<any> {
      const res = await http(method, path, body);
      assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    }

    async function refused(method: string, path: string, body: unknown, message: RegExp): Promise<void> {
      const res = await http(method, path, body);
      assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, message, `${method} ${path}`);
    }

    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      await ok("POST", `${A}/users?userId=x`, { serviceAccount: true, displayName: "Before", role: "user" });
      await ok("POST", `${A}/users/x/apiKeys`, { apiKey: { displayName: "first key" } });
      await ok("POST", `${A}/models?modelId=m1`, {
        displayName: "Model one",
        description: "the first",
        backend: "local",
        upstreamModel: "tiny-upstream",
        inputPricePerMillionTokens: 0.5,
        outputPricePerMillionTokens: 1.5,
      });
      await ok("POST", `${A}/deployments?deploymentId=d1`, { displayName: "Dep one", baseModel: "m1", backend: "nowhere" });
      await ok("POST", `${A}/datasets?datasetId=ds1`, { displayName: "Data one" });
      await ok("POST", `${A}/identityProviders?identityProviderId=okta`, {
        displayName: "Okta",
        oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1", clientSecret: "first-secret-1234" },
        tenantDomains: ["acme.example"],
        jitDefaultRole: "contributor",
        enforceSso: false,
      });
    });
    after(() => stop());

    test("every PATCH takes back the resource its GET answered, output-only fields and all, and answers that whole resource (AIP-134, AIP-203)", async () => {
      await ok("POST", `${A}/permissionPresets?permissionPresetId=pp`, { displayName: "Preset", actions: ["models.list"] });
      await ok("POST", `${A}/webhooks?webhookId=wh`, { url: "https://hooks.example.com/in", events: ["api_key.leaked"] });
      const key = (await ok("GET", `${A}/users/x/apiKeys`)).apiKeys[0].name;
      const resources = [
        `${A}/users/x`,
        `/v1/${key}`,
        `${A}/models/m1`,
        `${A}/deployments/d1`,
        `${A}/datasets/ds1`,
        `${A}/identityProviders/okta`,
        `${A}/permissionPresets/pp`,
        `${A}/webhooks/wh`,
        `${A}/quotas/serverless-inference-rpm`,
        `${A}/keyPolicy`,
        `${A}/auditSettings`,
      ];
      const refusedPaths: string[] = [];
      for (const path of resources) {
        const read = await ok("GET", path);
        const res = await http("PATCH", path, read);
        if (res.status !== 200) refusedPaths.push(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
        else {
          // updateTime aside: a singleton never written (keyPolicy) has none until its first update.
          const fields = (resource: object) =>
            Object.keys(resource)
              .filter((f) => f !== "updateTime")
              .sort();
          assert.deepEqual(fields(res.body), fields(read), `${path}: the update answers the whole resource its GET answers`);
          for (const field of fields(res.body)) assert.deepEqual(res.body[field], read[field], `${path}: ${field} is unchanged`);
        }
      }
      assert.deepEqual(refusedPaths, []);
    });

    describe("updateMask", () => {
      test("reproductions: users/x?updateMask=email is 400 naming email as not updatable; ?updateMask=bogus is 400 naming it", async () => {
        await refused(
          "PATCH",
          `${A}/users/x?updateMask=email`,
          { role: "user" },
          /invalid updateMask: field "email" cannot be updated \(updatable: displayName, role, permissionPreset\)/,
        );
        await refused(
          "PATCH",
          `${A}/users/x?updateMask=bogus`,
          { role: "user" },
          /invalid updateMask: unknown field "bogus" \(updatable: displayName, role, permissionPreset\)/,
        );
        assert.equal((await ok("GET", `${A}/users/x`)).role, "user", "nothing changed");
      });

      test("users: a mask changes only the named fields; absent: displayName cleared, role refused; * and no mask", async () => {
        const u = `${A}/users/x`;
        const only = await ok("PATCH", `${u}?updateMask=displayName`, { displayName: "After", role: "admin" });
        assert.deepEqual([only.displayName, only.role], ["After", "user"], "role is outside the mask");
        const viaBody = await ok("PATCH", u, { updateMask: "display_name", displayName: "From body", role: "admin" });
        assert.deepEqual([viaBody.displayName, viaBody.role], ["From body", "user"], "the body's updateMask works the same");
        const cleared = await ok("PATCH", `${u}?updateMask=display_name`, {});
        assert.equal(cleared.displayName, "");
        await refused("PATCH", `${u}?updateMask=role`, {}, /field "role" is named but absent from the body, and cannot be cleared/);
        await refused("PATCH", `${u}?updateMask=*`, { displayName: "No role" }, /field "role"/);
        await refused("PATCH", `${u}?updateMask=createTime`, {}, /field "createTime" cannot be updated \(updatable: displayName, role, permissionPreset\)/);
        await refused("PATCH", `${u}?updateMask=*,role`, { role: "user" }, /"\*" must be the only path/);
        await ok("PATCH", `${u}?updateMask=displayName`, { displayName: "Named" });
        const star = await ok("PATCH", `${u}?updateMask=*`, { role: "contributor" });
        assert.deepEqual([star.displayName, star.role], ["", "contributor"], "* clears the absent display name");
        const plain = await ok("PATCH", u, { displayName: "Plain" });
        assert.deepEqual([plain.displayName, plain.role], ["Plain", "contributor"], "without a mask, only the fields present change");
        const stored = await ok("GET", u);
        assert.deepEqual([stored.displayName, stored.role], ["Plain", "contributor"]);
      });

      test("identity providers: nested paths; the write-only secret is removed only when named itself", async () => {
        const p = `${A}/identityProviders/okta`;
        const secret = async () => {
          const row = await h.deps.store.db.selectFrom("identity_providers").selectAll().where("id", "=", "okta").executeTakeFirstOrThrow();
          return row.client_secret === null ? null : clientSecretOf(h.deps, row);
        };
        const only = await ok("PATCH", `${p}?updateMask=displayName`, { displayName: "Okta 2", enforceSso: true });
        assert.deepEqual([only.displayName, only.enforceSso], ["Okta 2", false]);
        const cleared = await ok("PATCH", `${p}?updateMask=tenant_domains,jit_default_role`, {});
        assert.deepEqual([cleared.tenantDomains, cleared.jitDefaultRole], [[], "inference-user"], "cleared to their defaults");
        await refused("PATCH", `${p}?updateMask=oidc_config.issuer_url`, {}, /field "oidcConfig\.issuerUrl" is named but absent/);
        await refused("PATCH", `${p}?updateMask=oidcConfig`, { oidcConfig: { clientId: "0oa2" } }, /field "oidcConfig\.issuerUrl" is named but absent/);
        await refused("PATCH", `${p}?updateMask=oidcConfig.colour`, {}, /unknown field "oidcConfig\.colour" \(updatable: displayName, oidcConfig\.issuerUrl/);
        await refused("PATCH", `${p}?updateMask=bogus`, {}, /unknown field "bogus"/);
        await refused("PATCH", `${p}?updateMask=state`, {}, /field "state" cannot be updated/);

        const star = await ok("PATCH", `${p}?updateMask=*`, { displayName: "Star", oidcConfig: { issuerUrl: "https://acme.okta.com", clientId: "0oa1" } });
        assert.deepEqual(
          [star.displayName, star.tenantDomains, star.enableJitUserProvisioning, star.jitDefaultRole, star.enforceSso],
          ["Star", [], false, "inference-user", false],
        );
        assert.equal(await secret(), "first-secret-1234", "* does not remove a secret the client could never read");
        const plain = await ok("PATCH", p, { oidcConfig: { clientId: "0oa1" }, enforceSso: true });
        assert.deepEqual([plain.enforceSso, plain.oidcConfig.issuerUrl], [true, "https://acme.okta.com"], "without a mask, the fields present change");
        await ok("PATCH", `${p}?updateMask=oidcConfig.clientSecret`, {});
        assert.equal(await secret(), null, "named by its own path, the secret is removed");
      });

      test("models: cleared upstream model and prices return to their defaults; backend is required", async () => {
        const m = `${A}/models/m1`;
        const only = await ok("PATCH", `${m}?updateMask=description`, { description: "changed", displayName: "ignored" });
        assert.deepEqual([only.description, only.displayName], ["changed", "Model one"]);
        const cleared = await ok("PATCH", `${m}?updateMask=upstream_model,input_price_per_million_tokens`, {});
        assert.deepEqual([cleared.upstreamModel, cleared.inputPricePerMillionTokens, cleared.outputPricePerMillionTokens], ["m1", 0, 1.5]);
        await refused("PATCH", `${m}?updateMask=backend`, {}, /field "backend" is named but absent/);
        await refused("PATCH", `${m}?updateMask=bogus`, {}, /unknown field "bogus" \(updatable: displayName, description, backend, upstreamModel/);
        await refused("PATCH", `${m}?updateMask=created_by`, {}, /field "created_by" cannot be updated/);
        const star = await ok("PATCH", `${m}?updateMask=*`, { backend: "local" });
        assert.deepEqual(
          [star.displayName, star.description, star.upstreamModel, star.inputPricePerMillionTokens, star.outputPricePerMillionTokens],
          ["", "", "m1", 0, 0],
        );
        const plain = await ok("PATCH", m, { displayName: "Plain model" });
        assert.deepEqual([plain.displayName, plain.backend], ["Plain model", "local"]);
      });

      test("deployments: a cleared backend is the model's own; baseModel is required", async () => {
        const d = `${A}/deployments/d1`;
        const only = await ok("PATCH", `${d}?updateMask=displayName`, { displayName: "Dep 2", backend: "local" });
        assert.deepEqual([only.displayName, only.backend], ["Dep 2", "nowhere"]);
        const cleared = await ok("PATCH", `${d}?updateMask=backend`, {});
        assert.equal(cleared.backend, "local", "the model m1's backend");
        await refused("PATCH", `${d}?updateMask=base_model`, {}, /field "baseModel" is named but absent/);
        await refused(
          "PATCH",
          `${d}?updateMask=bogus`,
          {},
          /unknown field "bogus" \(updatable: displayName, baseModel, backend, description, annotations, minReplicaCount/,
        );
        await refused("PATCH", `${d}?updateMask=replica_count`, {}, /field "replica_count" cannot be updated/);
        const bounds = await ok("PATCH", `${d}?updateMask=minReplicaCount,maxReplicaCount`, { minReplicaCount: 2, maxReplicaCount: 4 });
        assert.deepEqual([bounds.minReplicaCount, bounds.maxReplicaCount, bounds.replicaCount], [2, 4, 2]);
        const defaultMax = await ok("PATCH", `${d}?updateMask=maxReplicaCount`, {});
        assert.deepEqual([defaultMax.minReplicaCount, defaultMax.maxReplicaCount], [2, 2], "a cleared maxReplicaCount is max(minReplicaCount, 1)");
        await refused("PATCH", `${d}?updateMask=status.code`, {}, /field "status\.code" cannot be updated/);
        const star = await ok("PATCH", `${d}?updateMask=*`, { baseModel: "m1", backend: "nowhere" });
        assert.deepEqual([star.displayName, star.backend], ["", "nowhere"]);
        const plain = await ok("PATCH", d, { displayName: "Plain dep" });
        assert.deepEqual([plain.displayName, plain.backend, plain.baseModel], ["Plain dep", "nowhere", "accounts/my-account/models/m1"]);
      });

      test("datasets: the display name is the only updatable field", async () => {
        const s = `${A}/datasets/ds1`;
        assert.equal((await ok("PATCH", `${s}?updateMask=displayName`, { displayName: "Data 2" })).displayName, "Data 2");
        assert.equal((await ok("PATCH", `${s}?updateMask=display_name`, {})).displayName, "");
        assert.equal((await ok("PATCH", s, { displayName: "Plain data" })).displayName, "Plain data");
        assert.equal((await ok("PATCH", `${s}?updateMask=*`, {})).displayName, "");
        await refused("PATCH", `${s}?updateMask=bogus`, {}, /unknown field "bogus" \(updatable: displayName\)/);
        await refused("PATCH", `${s}?updateMask=size_bytes`, {}, /field "size_bytes" cannot be updated \(updatable: displayName\)/);
      });

      test("regression: a dataset's format and userUploaded, set at creation, are refused when changed (never ignored) and accepted unchanged", async () => {
        const s = `${A}/datasets/ds2`;
        const made = await ok("POST", `${A}/datasets?datasetId=ds2`, { displayName: "Data two", format: "CHAT", userUploaded: {} });
        await refused("PATCH", s, { format: "COMPLETION" }, /^field "format" is immutable: it cannot be changed from "CHAT"$/);
        await refused("PATCH", s, { format: "COMPLETION", displayName: "Renamed" }, /field "format" is immutable/);
        await refused("PATCH", s, { format: "NOT_A_FORMAT", userUploaded: "x" }, /format/);
        await refused("PATCH", s, { userUploaded: "x" }, /userUploaded/);
        await refused("PATCH", s, { userUploaded: { bucket: "b" } }, /unknown field "bucket" in userUploaded/);
        await refused("PATCH", `${s}?updateMask=format`, { format: "COMPLETION" }, /field "format" cannot be updated \(updatable: displayName\)/);
        const after = await ok("GET", s);
        assert.deepEqual([after.format, after.displayName, after.updateTime], ["CHAT", "Data two", made.updateTime], "a refused PATCH changes nothing");
        // The dataset read back, as a client sends it: the immutable fields unchanged, the output-only ones ignored.
        const renamed = await ok("PATCH", s, { ...after, displayName: "Data two (renamed)" });
        assert.deepEqual([renamed.format, renamed.displayName], ["CHAT", "Data two (renamed)"]);
        assert.equal((await ok("PATCH", s, { format: "CHAT", userUploaded: {} })).format, "CHAT");
        await ok("DELETE", s);
      });

      test("quotas: value is required and is the only updatable field", async () => {
        const q = `${A}/quotas/deployments`;
        assert.equal((await ok("PATCH", `${q}?updateMask=value`, { value: 3 })).value, "3");
        assert.equal((await ok("PATCH", `${q}?updateMask=*`, { value: 4 })).value, "4");
        assert.equal((await ok("PATCH", q, { value: 5 })).value, "5");
        await refused("PATCH", `${q}?updateMask=value`, {}, /"value"/);
        await refused("PATCH", `${q}?updateMask=bogus`, { value: 6 }, /unknown field "bogus" \(updatable: value\)/);
        await refused("PATCH", `${q}?updateMask=max_value`, { value: 6 }, /field "max_value" cannot be updated \(updatable: value\)/);
        assert.equal((await ok("GET", q)).value, "5", "refused updates changed nothing");
      });
    });

    describe("readMask", () => {
      const keysOf = (o: object) => Object.keys(o).sort();

      test("every supporting list and get returns only the named fields and the name; * returns all", async () => {
        const cases: Array<{ list: string; get: string; items: string; mask: string; fields: string[] }> = [
          { list: `${A}/users`, get: `${A}/users/x`, items: "users", mask: "email,service_account", fields: ["email", "name", "serviceAccount"] },
          { list: `${A}/users/x/apiKeys`, get: "", items: "apiKeys", mask: "display_name,keyId", fields: ["displayName", "keyId", "name"] },
          { list: `${A}/models`, get: `${A}/models/m1`, items: "models", mask: "backend,display_name", fields: ["backend", "displayName", "name"] },
          {
            list: "/v1/accounts/fireworks/models",
            get: "/v1/accounts/fireworks/models/tiny-public",
            items: "models",
            mask: "upstream_model",
            fields: ["name", "upstreamModel"],
          },
          { list: `${A}/deployments`, get: `${A}/deployments/d1`, items: "deployments", mask: "base_model,state", fields: ["baseModel", "name", "state"] },
          { list: `${A}/datasets`, get: `${A}/datasets/ds1`, items: "datasets", mask: "displayName,size_bytes", fields: ["displayName", "name", "sizeBytes"] },
          { list: `${A}/quotas`, get: `${A}/quotas/datasets`, items: "quotas", mask: "value,max_value", fields: ["maxValue", "name", "value"] },
        ];
        const keys = await ok("GET", `${A}/users/x/apiKeys`);
        cases[1]!.get = `${A}/users/x/apiKeys/${keys.apiKeys[0].keyId}`;
        for (const c of cases) {
          const list = await ok("GET", `${c.list}?readMask=${c.mask}`);
          assert.ok(list[c.items].length > 0, c.list);
          for (const item of list[c.items]) assert.deepEqual(keysOf(item), c.fields, `${c.list}?readMask=${c.mask}`);
          assert.deepEqual(keysOf(await ok("GET", `${c.get}?readMask=${c.mask}`)), c.fields, `${c.get}?readMask=${c.mask}`);
          const full = await ok("GET", `${c.get}?readMask=*`);
          assert.ok(keysOf(full).length > c.fields.length, `${c.get}?readMask=* returns every field`);
          const unknown = await http("GET", `${c.get}?readMask=colour`);
          assert.equal(unknown.status, 400, c.get);
          assert.match(unknown.body.error.message, /"readMask": unknown field "colour" \(fields: name, /);
          const unknownInList = await http("GET", `${c.list}?readMask=${c.mask},colour`);
          assert.equal(unknownInList.status, 400, c.list);
          assert.match(unknownInList.body.error.message, /unknown field "colour"/);
        }
      });

      test("a list that does not support readMask refuses it instead of ignoring it", async () => {
        // The audit log's list takes one now, as Fireworks' SDK sends it (test/sdk-read-masks.test.ts).
        await ok("POST", `${A}/webhooks?webhookId=masks`, { url: "https://hooks.example.com/hearth", events: ["api_key.expiring"] });
        for (const path of [`${A}/webhooks/masks/deliveries`]) {
          const res = await http("GET", `${path}?readMask=name`);
          assert.equal(res.status, 400, path);
          assert.match(res.body.error.message, /^unknown query parameter "readMask" \(/);
          await ok("GET", path);
        }
      });
    });
  });
}
