import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { startPlatform } from "./support/platform.ts";
import type { FakeUpstream } from "./support/model-server.ts";

/**
 * A JSON body must be UTF-8 (RFC 8259 §8.1). Bytes that are not were decoded leniently, each bad
 * sequence turned into U+FFFD, and the changed text stored or forwarded: `"ab\xC0\xAFcd"` (an
 * overlong `/`) became a display name "ab��cd". Now such a body is a 400 naming the first bad byte,
 * audited, on every JSON route and on the inference gateway's fast path.
 */
const A = "/v1/accounts/my-account";
const MODEL = "accounts/fireworks/models/tiny-public";
const JSON_HEADERS = { "content-type": "application/json" };

/** `prefix`, then `bad` bytes, then `suffix`, as one body. */
const bytes = (prefix: string, bad: number[], suffix: string): Buffer => Buffer.concat([Buffer.from(prefix), Buffer.from(bad), Buffer.from(suffix)]);

for (const dialect of DIALECTS) {
  describe(`a JSON body that is not UTF-8 is refused, never stored rewritten (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      bot = await serviceAccountWithKey(h, "utf8-bot", "user");
      const made = await h.call("POST", `${A}/deployments?deploymentId=d1`, { body: { baseModel: MODEL, description: "before" } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    });
    after(() => stop());

    test('the reproduction: a service account named "ab\\xC0\\xAFcd" is a 400 naming the byte, not created, and the refusal audited', async () => {
      const body = bytes('{"serviceAccount":true,"displayName":"ab', [0xc0, 0xaf], 'cd"}');
      const res = await h.call("POST", `${A}/users?userId=sa9`, { body, headers: JSON_HEADERS });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.status, "INVALID_ARGUMENT");
      assert.equal(res.body.error.message, "request body is not valid UTF-8: byte 0xC0 at offset 40");
      assert.equal((await h.call("GET", `${A}/users/sa9`)).status, 404);
      const refused = await auditEntries(h, 'method="CreateUser" AND status:"INVALID_ARGUMENT"');
      assert.equal(refused.length, 1);
      assert.match(refused[0].status.message, /not valid UTF-8/);
    });

    test("an update whose new value is not UTF-8 leaves the stored value as it was", async () => {
      const res = await h.call("PATCH", `${A}/deployments/d1`, { body: bytes('{"description":"', [0xff, 0xfe], '"}'), headers: JSON_HEADERS });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.message, "request body is not valid UTF-8: byte 0xFF at offset 16");
      assert.equal((await h.call("GET", `${A}/deployments/d1`)).body.description, "before");
      assert.equal((await auditEntries(h, 'method="UpdateDeployment" AND status:"INVALID_ARGUMENT"')).length, 1);
    });

    test("every ill-formed kind is refused: a lone continuation byte, a surrogate, past U+10FFFF, a character cut off at the end", async () => {
      const cases: Array<[string, Buffer, RegExp]> = [
        ["a lone continuation byte", bytes('{"displayName":"', [0x80], '"}'), /byte 0x80 at offset 16/],
        ["an encoded surrogate (CESU-8)", bytes('{"displayName":"', [0xed, 0xa0, 0x80], '"}'), /byte 0xED at offset 16/],
        ["a code point past U+10FFFF", bytes('{"displayName":"', [0xf4, 0x90, 0x80, 0x80], '"}'), /byte 0xF4 at offset 16/],
        ["a character cut off at the end", bytes('{"displayName":"x"}', [0xe2, 0x82], ""), /byte 0xE2 at offset 19/],
        ["Latin-1 though UTF-8 was declared", bytes('{"displayName":"caf', [0xe9], '"}'), /byte 0xE9 at offset 19/],
      ];
      for (const [what, body, message] of cases) {
        const res = await h.call("PATCH", `${A}/users/utf8-bot`, { body, headers: { "content-type": "application/json; charset=utf-8" } });
        assert.equal(res.status, 400, what);
        assert.match(res.body.error.message, /^request body is not valid UTF-8: /, what);
        assert.match(res.body.error.message, message, what);
      }
      assert.equal((await h.call("GET", `${A}/users/utf8-bot`)).body.displayName, "");
    });

    test("well-formed UTF-8 is taken as sent, U+FFFD itself included", async () => {
      const name = "café ✓ 😀 \uFFFD";
      const res = await h.call("PATCH", `${A}/users/utf8-bot`, { body: Buffer.from(JSON.stringify({ displayName: name })), headers: JSON_HEADERS });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await h.call("GET", `${A}/users/utf8-bot`)).body.displayName, name);
    });

    test("the inference gateway refuses such a body on its fast path and on the framework route alike, audited, and calls no backend", async () => {
      const calls = up.requests.length;
      const body = bytes(`{"model":"${MODEL}","messages":[{"role":"user","content":"h`, [0xc0, 0xaf], 'i"}]}');
      // The route's URL is served in front of the framework; with a trailing slash, only by the framework.
      for (const path of ["/inference/v1/chat/completions", "/inference/v1/chat/completions/"]) {
        const res = await fetch(`${h.baseUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${bot.key}`, ...JSON_HEADERS }, body });
        assert.equal(res.status, 400, path);
        const answer = (await res.json()) as { error: { message: string; type: string } };
        assert.match(answer.error.message, /^request body is not valid UTF-8: byte 0xC0 at offset \d+$/, path);
        assert.equal(answer.error.type, "invalid_request_error", path);
      }
      assert.equal(up.requests.length, calls, "nothing was forwarded");
      assert.equal((await auditEntries(h, 'message="CreateChatCompletion" AND status:"INVALID_ARGUMENT"')).length, 2);
    });
  });
}
