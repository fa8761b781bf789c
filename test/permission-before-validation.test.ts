import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * Permission is checked before a request is read: a principal holding none of the actions an
 * operation may need gets its 403 whatever it sends, as GCP IAM answers. Before, a `viewer`-like
 * custom role sending a malformed body to CreateUser read a 400 describing the body, so the
 * validation rules of every admin method were open to anyone with a key (and a 400 is not a
 * permission refusal in the audit log). Each authenticated operation declares its actions, listed
 * in `/openapi.json` as `x-hearth-actions`; this drives every one of them.
 */
const FILLER = "zz-target";

for (const dialect of DIALECTS) {
  describe(`permission before validation (${dialect})`, () => {
    let h: TestHearth;
    let key: string;
    let doc: any;
    before(async () => {
      h = await startHearth(dialect);
      await h.listen();
      const preset = await h.call("POST", "/v1/accounts/my-account/permissionPresets?permissionPresetId=billing-only", {
        body: { actions: ["billingUsage.get"] },
      });
      assert.equal(preset.status, 200, JSON.stringify(preset.body));
      key = (await serviceAccountWithKey(h, "billing-bot", "user")).key;
      assert.equal((await h.call("PATCH", "/v1/accounts/my-account/users/billing-bot", { body: { permissionPreset: "billing-only" } })).status, 200);
      doc = (await h.call("GET", "/openapi.json", { key: null })).body;
    });
    after(() => h.stop());

    test("every authenticated operation declares its actions", () => {
      for (const [path, methods] of Object.entries<any>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(methods)) {
          if (!op.security) continue;
          assert.ok(Array.isArray(op["x-hearth-actions"]), `${method.toUpperCase()} ${path} (${op.operationId}) declares no actions`);
        }
      }
    });

    test("a principal holding none of an operation's actions gets 403 before its malformed body or unknown parameter is read", async () => {
      const answers: string[] = [];
      let driven = 0;
      for (const [template, methods] of Object.entries<any>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(methods)) {
          const actions: string[] = op["x-hearth-actions"] ?? [];
          if (!op.security || actions.length === 0 || actions.includes("billingUsage.get")) continue;
          const path = template.replace("{accountId}", "my-account").replace(/\{\w+\}/g, FILLER);
          const init: RequestInit = { method: method.toUpperCase(), headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } };
          if (!["GET", "DELETE"].includes(init.method!)) init.body = '{"unknownField": 1, "displayName": ';
          const res = await fetch(`${h.baseUrl}${path}?bogusParameter=1`, init);
          const body = (await res.json()) as any;
          driven++;
          const refused = res.status === 403 && (body.error.status === "PERMISSION_DENIED" || body.error.type === "permission_error");
          if (!refused) answers.push(`${init.method} ${path} (${op.operationId}): ${res.status} ${JSON.stringify(body).slice(0, 160)}`);
          else assert.match(body.error.message, /role "custom" \(permission preset "billing-only"\) cannot /, op.operationId);
        }
      }
      assert.ok(driven > 70, `${driven} operations driven`);
      assert.deepEqual(answers, []);
    });

    test("the refusal is audited as a permission refusal, with the action it needed", async () => {
      const res = await fetch(`${h.baseUrl}/v1/accounts/my-account/users`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: '{"role": "admin", "serviceAccount": "yes"}',
      });
      assert.equal(res.status, 403);
      const filter = encodeURIComponent('method="CreateUser" AND principal="billing-bot@my-account.sa.hearth.local"');
      const [entry] = (await h.call("GET", `/v1/accounts/my-account/auditLogs?filter=${filter}`)).body.auditLogs;
      assert.equal(entry.status.code, "PERMISSION_DENIED");
      assert.match(entry.status.message, /cannot create users or service accounts/);
      assert.equal(entry.isAdminAction, true);
    });

    test("a principal that may act still gets the 400 naming what is wrong", async () => {
      const res = await h.call("POST", "/v1/accounts/my-account/users", { body: { serviceAccount: "yes" } });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /serviceAccount/);
    });
  });
}
