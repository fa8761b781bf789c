import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth, startHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { startUpstream, type FakeUpstream } from "./support/model-server.ts";
import { chat, infer, sseData } from "./support/platform.ts";

/** An OpenAI-style backend key, as the reproduction configured it. */
const OPENAI_KEY = "sk-proj-Xy7Qw3Er9Ty1Ui5Op0As4Df8Gh2Jk6Lz";
const FILE_KEY = "sk-file-Mn3Bv7Cx1Zl5Kj9Hg2Fd6Sa0Po4Iu8Yt";
const VIA_ENV = "accounts/fireworks/models/via-env";
const VIA_FILE = "accounts/fireworks/models/via-file";

for (const dialect of DIALECTS) {
  describe(`a backend that echoes the Authorization it received (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let bot: { key: string };
    before(async () => {
      up = await startUpstream();
      const file = join(mkdtempSync(join(tmpdir(), "hearth-platform-")), "platform.json");
      const model = (id: string) => ({ id, upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 1, outputPricePerMillionTokens: 1 });
      writeFileSync(
        file,
        JSON.stringify({
          publicAccountId: "fireworks",
          backends: [
            { name: "openai-env", baseUrl: up.baseUrl, apiKeyEnv: "OPENAI_API_KEY", timeoutMs: 1500, models: [model("via-env")] },
            { name: "openai-file", baseUrl: up.baseUrl, apiKey: FILE_KEY, timeoutMs: 1500, models: [model("via-file")] },
          ],
        }),
      );
      h = await startHearth(dialect, { HEARTH_CONFIG: file, OPENAI_API_KEY: OPENAI_KEY });
      await h.listen();
      bot = await serviceAccountWithKey(h, "bot", "contributor");
    });
    after(async () => {
      await h.stop();
      await up.close();
    });

    test("regression: a 502 no longer relays 'you sent authorization=Bearer sk-…' (JSON, plain-text and 400 errors, apiKey and apiKeyEnv)", async () => {
      const seen: string[] = [];
      for (const [model, key, backend] of [
        [VIA_ENV, OPENAI_KEY, "openai-env"],
        [VIA_FILE, FILE_KEY, "openai-file"],
      ] as const) {
        const json = await infer(h, bot.key, chat(model, "echo-auth"));
        assert.equal(json.status, 502);
        const jsonBody = await json.text();
        seen.push(jsonBody);
        assert.equal(JSON.parse(jsonBody).error.message, `backend "${backend}" answered 500: you sent authorization=Bearer [redacted]`);
        assert.equal(up.requests.at(-1)!.headers.authorization, `Bearer ${key}`, "the backend did get its key");

        const refused = await infer(h, bot.key, chat(model, "echo-auth-400"));
        assert.equal(refused.status, 400);
        const refusedBody = await refused.text();
        seen.push(refusedBody);
        assert.equal(JSON.parse(refusedBody).error.message, `backend "${backend}" refused the request: you sent authorization=Bearer [redacted]`);

        const text = await infer(h, bot.key, chat(model, "echo-auth-text"));
        assert.equal(text.status, 502);
        const textBody = await text.text();
        seen.push(textBody);
        assert.equal(JSON.parse(textBody).error.message, `backend "${backend}" answered 500`);

        const streamed = await infer(h, bot.key, chat(model, "echo-auth", { stream: true }));
        assert.equal(streamed.status, 200);
        const events = await sseData(streamed);
        seen.push(events.join("\n"));
        assert.equal(
          JSON.parse(events.at(-1)!).error.message,
          "you sent authorization=Bearer [redacted]",
          "a mid-stream error event is relayed without the key",
        );
      }
      const audit = await h.call("GET", `/v1/accounts/${h.accountId}/auditLogs?pageSize=200`);
      seen.push(JSON.stringify(audit.body), h.logs.join(""));
      for (const text of seen) {
        assert.equal(text.includes(OPENAI_KEY), false, text);
        assert.equal(text.includes(FILE_KEY), false, text);
        assert.equal(/Bearer sk-/.test(text), false, text);
      }
    });
  });
}
