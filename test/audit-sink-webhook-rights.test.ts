import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";
const ATTACKER = "http://127.0.0.1:9/collect";

/**
 * A webhook an audit sink streams through carries every audit entry of the account. A principal
 * that may not read the log used to redirect it to itself with only `webhooks.update` (or delete it
 * and create another under its id with `webhooks.create` and `webhooks.delete`), and receive the log.
 * Redirecting such a webhook, switching it off or rotating its secret now needs the sink's own
 * rights (`auditLogs.listAll`, `auditSettings.update`), and it cannot be deleted while its sink exists.
 */
for (const dialect of DIALECTS) {
  describe(`a webhook that streams the audit log (${dialect})`, () => {
    let h: TestHearth;
    let hookManager: string;
    let scopedAdminKey: string;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_WEBHOOK_RETRY_BASE_MS: "3600000" });
      const preset = await h.call("POST", `${A}/permissionPresets?permissionPresetId=hook-manager`, {
        body: { actions: ["webhooks.list", "webhooks.get", "webhooks.create", "webhooks.update", "webhooks.delete"] },
      });
      assert.equal(preset.status, 200, JSON.stringify(preset.body));
      hookManager = (await serviceAccountWithKey(h, "hook-bot", "user")).key;
      assert.equal((await h.call("PATCH", `${A}/users/hook-bot`, { body: { permissionPreset: "hook-manager" } })).status, 200);
      const scoped = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, {
        body: { apiKey: { scopes: ["webhooks.create", "webhooks.update", "webhooks.delete"] } },
      });
      assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
      scopedAdminKey = scoped.body.key;
      for (const id of ["siem", "plain"]) {
        const made = await h.call("POST", `${A}/webhooks?webhookId=${id}`, { body: { url: "http://127.0.0.1:9/siem", events: ["principal.created"] } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
      }
      const sink = await h.call("POST", `${A}/auditSinks?auditSinkId=to-siem`, { body: { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/siem" } });
      assert.equal(sink.status, 200, JSON.stringify(sink.body));
    });
    after(() => h.stop());

    test("reproduction: a custom role holding webhooks.update can no longer point the sink's webhook at itself, switch it off or rotate its secret", async () => {
      assert.equal((await h.call("GET", `${A}/auditLogs`, { key: hookManager })).status, 403, "it may not read the log");
      for (const [method, path, body] of [
        ["PATCH", `${A}/webhooks/siem?updateMask=url`, { url: ATTACKER }],
        ["PATCH", `${A}/webhooks/siem?updateMask=state`, { state: "DISABLED" }],
        ["POST", `${A}/webhooks/siem:rotateSecret`, {}],
      ] as const) {
        const res = await h.call(method, path, { key: hookManager, body });
        assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.match(
          res.body.error.message,
          /audit sink "to-siem" streams the audit log through it: it does not hold auditLogs\.listAll, auditSettings\.update/,
        );
      }
      const scoped = await h.call("PATCH", `${A}/webhooks/siem?updateMask=url`, { key: scopedAdminKey, body: { url: ATTACKER } });
      assert.equal(scoped.status, 403, JSON.stringify(scoped.body));
      assert.match(scoped.body.error.message, /^this API key cannot .*its scopes do not include auditLogs\.listAll, auditSettings\.update/);
      const hook = (await h.call("GET", `${A}/webhooks/siem`)).body;
      assert.deepEqual([hook.url, hook.state], ["http://127.0.0.1:9/siem", "ENABLED"]);
      assert.equal((await auditEntries(h, `method="UpdateWebhook" AND status:"PERMISSION_DENIED"`)).length, 3, "each refusal is audited");
      // What does not move the stream is still theirs to change; so is every webhook no sink uses.
      assert.equal((await h.call("PATCH", `${A}/webhooks/siem?updateMask=displayName`, { key: hookManager, body: { displayName: "SIEM" } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/webhooks/plain?updateMask=url`, { key: hookManager, body: { url: ATTACKER } })).status, 200);
      assert.equal((await h.call("PATCH", `${A}/webhooks/siem?updateMask=url`, { body: { url: "http://127.0.0.1:9/siem-2" } })).status, 200, "an admin may");
    });

    test("reproduction: auditSettings.update alone cannot create a sink, which would stream the log it may not read", async () => {
      const preset = await h.call("POST", `${A}/permissionPresets?permissionPresetId=audit-cfg`, {
        body: { actions: ["auditSettings.update", "accounts.get"] },
      });
      assert.equal(preset.status, 200, JSON.stringify(preset.body));
      const auditBot = (await serviceAccountWithKey(h, "audit-bot", "user")).key;
      assert.equal((await h.call("PATCH", `${A}/users/audit-bot`, { body: { permissionPreset: "audit-cfg" } })).status, 200);
      const scoped = await h.call("POST", `${A}/users/admin-example-com/apiKeys`, { body: { apiKey: { scopes: ["auditSettings.update"] } } });
      assert.equal(scoped.status, 200, JSON.stringify(scoped.body));
      const hec = { type: "SPLUNK_HEC", url: "http://127.0.0.1:9/services/collector/event", hecToken: "x" };
      for (const [who, key, refusal] of [
        [
          "the custom role",
          auditBot,
          /^role "custom" \(permission preset "audit-cfg"\) cannot create an audit sink, which sends the whole audit log to its receiver$/,
        ],
        ["the scoped admin key", scoped.body.key, /^this API key's scopes do not include "auditLogs\.listAll", needed to create an audit sink/],
      ] as const) {
        assert.equal((await h.call("GET", `${A}/auditLogs`, { key })).status, 403, `${who} may not read the log`);
        for (const [id, body] of [
          ["mine", hec],
          ["mine-2", { type: "WEBHOOK", webhook: "accounts/my-account/webhooks/plain" }],
        ] as const) {
          const res = await h.call("POST", `${A}/auditSinks?auditSinkId=${id}`, { key, body });
          assert.equal(res.status, 403, `${who}: ${JSON.stringify(res.body)}`);
          assert.match(res.body.error.message, refusal);
          assert.equal((await h.call("GET", `${A}/auditSinks/${id}`)).status, 404, "nothing stored");
        }
      }
      assert.equal((await auditEntries(h, `method="CreateAuditSink" AND status:"PERMISSION_DENIED"`)).length, 4, "each refusal is audited");
      // Nor may it stop the stream others keep: deleting a sink needs auditLogs.listAll as well.
      for (const key of [auditBot, scoped.body.key]) {
        const deleted = await h.call("DELETE", `${A}/auditSinks/to-siem`, { key });
        assert.equal(deleted.status, 403, JSON.stringify(deleted.body));
        assert.match(deleted.body.error.message, /delete an audit sink, which stops sending the audit log to its receiver/);
      }
      assert.equal((await h.call("GET", `${A}/auditSinks/to-siem`)).status, 200, "the sink still streams");
      assert.equal((await auditEntries(h, `method="DeleteAuditSink" AND status:"PERMISSION_DENIED"`)).length, 2, "each refusal is audited");
      // Nor make the log record less: data-access entries are switched on by it, and off only with auditLogs.listAll.
      assert.equal((await h.call("PATCH", `${A}/auditSettings`, { key: auditBot, body: { dataAccessLogs: true } })).status, 200);
      const off = await h.call("PATCH", `${A}/auditSettings`, { key: auditBot, body: { dataAccessLogs: false } });
      assert.equal(off.status, 403, JSON.stringify(off.body));
      assert.match(off.body.error.message, /cannot switch data-access audit entries off, which would leave its reads unrecorded$/);
      assert.equal((await h.call("GET", `${A}/auditSettings`)).body.dataAccessLogs, true);
      assert.equal((await h.call("PATCH", `${A}/auditSettings`, { body: { dataAccessLogs: false } })).status, 200, "an admin switches them off");
    });

    test("reproduction: the sink's webhook cannot be deleted and created again under its id while the sink exists, by anyone", async () => {
      for (const key of [scopedAdminKey, undefined]) {
        const res = await h.call("DELETE", `${A}/webhooks/siem`, key ? { key } : {});
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.status, "FAILED_PRECONDITION");
        assert.match(res.body.error.message, /audit sink "to-siem" streams the audit log through webhook "siem": delete the sink first/);
      }
      assert.equal((await h.call("GET", `${A}/webhooks/siem`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/auditSinks/to-siem`)).status, 200);
      assert.equal((await h.call("DELETE", `${A}/webhooks/siem`, { key: scopedAdminKey })).status, 200, "without its sink it is an ordinary webhook");
    });
  });
}
