import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * The gateway sends its backend the request body serialised again from the parsed value, and
 * `JSON.parse` reads numbers as doubles: `"temperature": 1e309` reached the backend as
 * `"temperature": null` (its default, where the backend would have refused the value) and
 * `"seed": 18446744073709551615` as `18446744073709552000`, another seed, with a 200 (found by
 * fuzzing the OpenAI-compatible routes). Such a body is now a 400 naming the number, audited, on the
 * fast path and the framework route of both mounts, and no backend is called.
 */
const MODEL = "accounts/fireworks/models/tiny-public";
const JSON_HEADERS = { "content-type": "application/json" };

for (const dialect of DIALECTS) {
  describe(`an inference body's numbers reach the backend as sent, or the body is refused (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      bot = await serviceAccountWithKey(h, "numbers-bot", "user");
    });
    after(() => stop());

    const send = (path: string, extra: string) =>
      fetch(`${h.baseUrl}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${bot.key}`, ...JSON_HEADERS },
        body: `{"model": "${MODEL}", "messages": [{"role": "user", "content": "hi"}], ${extra}}`,
      });

    test('regression: "temperature": 1e309 and "seed": 18446744073709551615 are a 400 naming the number, and no backend is called', async () => {
      const calls = up.requests.length;
      // The route's URL is served in front of the framework; with a trailing slash, only by the framework.
      for (const path of ["/inference/v1/chat/completions", "/inference/v1/chat/completions/", "/v1/chat/completions"]) {
        for (const [extra, literal] of [
          ['"temperature": 1e309', "1e309"],
          ['"seed": 18446744073709551615', "18446744073709551615"],
          ['"logit_bias": {"50256": -1e999}', "-1e999"],
        ] as const) {
          const res = await send(path, extra);
          assert.equal(res.status, 400, `${path} ${extra}`);
          const answer = (await res.json()) as { error: { message: string; type: string } };
          assert.equal(answer.error.type, "invalid_request_error");
          assert.ok(answer.error.message.startsWith(`the request body holds the number ${literal}, which cannot be passed on as sent`), answer.error.message);
        }
      }
      assert.equal(up.requests.length, calls, "nothing was forwarded");
      assert.equal((await auditEntries(h, 'message="CreateChatCompletion" AND status:"cannot be passed on as sent"')).length, 9);
    });

    test("numbers a double holds are forwarded as sent, the largest safe integer and exact large ones included", async () => {
      const calls = up.requests.length;
      const res = await send("/inference/v1/chat/completions", '"seed": 9007199254740991, "temperature": 1e-400, "top_p": 1e20');
      assert.equal(res.status, 200, await res.text());
      assert.equal(up.requests.length, calls + 1);
      const sent = up.requests.at(-1)!.body;
      assert.equal(sent.seed, 9007199254740991);
      assert.equal(sent.top_p, 1e20);
    });
  });
}
