import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * A JSON body naming one member twice in an object (`{"role": "user", "role": "admin"}`) was taken
 * with the last value, silently (found by fuzzing every route of /openapi.json): a proxy, a log or a
 * review in front that reads the first saw another request than the one Hearth carried out. Now it
 * is a 400 naming the member, audited, as a field under both its names or a query parameter given
 * twice already were. Inference bodies are exempt: they go upstream serialised again, one value per member.
 */
const A = "/v1/accounts/my-account";
const MODEL = "accounts/fireworks/models/tiny-public";
const JSON_HEADERS = { "content-type": "application/json" };

for (const dialect of DIALECTS) {
  describe(`a JSON member given twice is refused, never one value silently (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      bot = await serviceAccountWithKey(h, "twice-bot", "user");
    });
    after(() => stop());

    test('the reproduction: {"role": "user", "role": "admin"} is a 400 naming "role", the role unchanged and each refusal audited', async () => {
      for (const body of ['{"role": "user", "role": "admin"}', '{"role": "user", "\\u0072ole": "admin"}']) {
        const res = await h.call("PATCH", `${A}/users/twice-bot`, { body, headers: JSON_HEADERS });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.status, "INVALID_ARGUMENT");
        assert.equal(res.body.error.message, 'the request body gives member "role" twice in one object: give it once');
      }
      assert.equal((await h.call("GET", `${A}/users/twice-bot`)).body.role, "user");
      assert.equal((await auditEntries(h, 'method="UpdateUser" AND status.code="INVALID_ARGUMENT"')).length, 2);
    });

    test("at any depth, on every kind of route: a nested object's member twice creates nothing", async () => {
      const before = (await h.call("GET", `${A}/users/twice-bot/apiKeys`)).body.apiKeys.length;
      const key = await h.call("POST", `${A}/users/twice-bot/apiKeys`, {
        body: '{"apiKey": {"displayName": "a", "rpm": 1, "rpm": 0}}',
        headers: JSON_HEADERS,
      });
      assert.equal(key.status, 400, JSON.stringify(key.body));
      assert.match(key.body.error.message, /member "rpm" twice/);
      assert.equal((await h.call("GET", `${A}/users/twice-bot/apiKeys`)).body.apiKeys.length, before);
      const policy = await h.call("PATCH", `${A}/keyPolicy`, {
        body: '{"requireExpiryForHumanKeys": true, "requireExpiryForHumanKeys": false}',
        headers: JSON_HEADERS,
      });
      assert.equal(policy.status, 400, JSON.stringify(policy.body));
      // The same name in two objects is two members: the flat and the nested spelling of one value is served.
      const model = await h.call("POST", `${A}/models?modelId=m1`, {
        body: '{"displayName": "M", "model": {"displayName": "M", "backend": "local"}}',
        headers: JSON_HEADERS,
      });
      assert.equal(model.status, 200, JSON.stringify(model.body));
    });

    test("an inference body is exempt: served on the fast path and the framework route, the backend given the value Hearth read", async () => {
      const calls = up.requests.length;
      const body = `{"model": "${MODEL}", "messages": [{"role": "user", "content": "first"}], "messages": [{"role": "user", "content": "last"}]}`;
      for (const path of ["/inference/v1/chat/completions", "/inference/v1/chat/completions/"]) {
        const res = await fetch(`${h.baseUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${bot.key}`, ...JSON_HEADERS }, body });
        assert.equal(res.status, 200, `${path}: ${await res.text()}`);
      }
      assert.equal(up.requests.length, calls + 2);
      for (const request of up.requests.slice(calls)) assert.deepEqual(request.body.messages, [{ role: "user", content: "last" }]);
    });
  });
}
