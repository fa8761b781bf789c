import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS } from "./support/hearth.ts";
import { account, chat, infer, startPlatform } from "./support/platform.ts";
import type { TestHearth } from "./support/hearth.ts";

/**
 * What a refused request can put in the audit log: an entry keeps no URL's credentials and no
 * megabyte. A refused webhook `https://user:PASSWORD@…` once stored the password in the entry's
 * status message and payload; an `inference-user` key sending `{"model": {"a": "x" × 10⁶}}` wrote a
 * megabyte per refusal, without limit (refusals take no RPM), into a log nobody can edit.
 */
for (const dialect of DIALECTS) {
  describe(`audit entries are bounded and keep no URL credentials (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let admin: string;
    let inferenceUser: string;
    const entries = async (filter: string): Promise<any[]> => {
      const res = await h.call("GET", `/v1/accounts/bounded/auditLogs?pageSize=100&filter=${encodeURIComponent(filter)}`, { key: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.auditLogs;
    };
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      ({
        admin,
        keys: { caller: inferenceUser },
      } = (await account(h, "bounded", { caller: "inference-user" })) as any);
    });
    after(() => stop());

    test("a refused webhook URL's password is in no entry, however the URL is spelt", async () => {
      const urls = [
        "https://hook-user:PASSWORDSECRET@hooks.example.com/in",
        "https://hook-user:PASS@WORDSECRET@hooks.example.com/in",
        "https://hook-user:PASS WORDSECRET@hooks.example.com/in",
        "https:\\\\hook-user:PASSWORDSECRET@hooks.example.com/in",
        "https:hook-user:PASSWORDSECRET@hooks.example.com/in",
        'https://hook-user:PASS"WORDSECRET@hooks.example.com/in',
        "HTTPS://hook-user:PASSWORDSECRET@hooks.example.com/in",
      ];
      for (const url of urls) {
        const res = await h.call("POST", "/v1/accounts/bounded/webhooks?webhookId=leaky", { key: admin, body: { url, events: ["api_key.leaked"] } });
        assert.equal(res.status, 400, JSON.stringify(res.body));
      }
      const refused = await entries('method="CreateWebhook"');
      assert.equal(refused.length, urls.length);
      for (const entry of refused) {
        assert.equal(entry.status.code, "INVALID_ARGUMENT");
        assert.doesNotMatch(JSON.stringify(entry), /WORDSECRET/, JSON.stringify(entry));
      }
      assert.ok(refused.some((e) => /^https:\/\/\[REDACTED\]@hooks\.example\.com\/in$/.test(e.payload.url)));
    });

    test("a megabyte in a refused inference body is not a megabyte in the log", async () => {
      for (const model of [{ a: "x".repeat(1_000_000) }, "y".repeat(1_000_000)]) {
        const res = await infer(h, inferenceUser, chat(model as never));
        assert.ok(res.status === 400 || res.status === 404, `${res.status}: ${(await res.text()).slice(0, 200)}`);
      }
      const refused = (await entries('method="CreateChatCompletion"')).filter((e) => e.status.code !== "OK");
      assert.equal(refused.length, 2);
      for (const entry of refused) assert.ok(JSON.stringify(entry).length < 10_000, `an entry of ${JSON.stringify(entry).length} characters`);
      assert.ok(refused.some((e) => /TRUNCATED/.test(JSON.stringify(e.payload))));
    });

    test("a refused control-plane body with a megabyte field is bounded too", async () => {
      const res = await h.call("POST", "/v1/accounts/bounded/users?userId=huge", {
        key: admin,
        body: { serviceAccount: true, role: "z".repeat(1_000_000) },
      });
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
      const [entry] = await entries('method="CreateUser"');
      assert.ok(JSON.stringify(entry).length < 10_000, `an entry of ${JSON.stringify(entry).length} characters`);
    });
  });
}
