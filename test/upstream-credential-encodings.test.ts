import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth, startHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { freePort } from "./support/process.ts";
import { encodedSpellings, startUpstream, writePlatformConfig, type FakeUpstream } from "./support/model-server.ts";
import { chat, infer, sseData } from "./support/platform.ts";

/** The backend key of the reviewer's reproduction: `/`, `+` and `=` all change under encoding. */
const KEY = "sk-live/SECRETsecret+key=99";
const MODEL = "accounts/fireworks/models/tiny-public";

/** The spellings the reproduction saw relayed, verbatim, plus the rest of the kind. */
const LEAKS = [
  KEY,
  "c2stbGl2ZS9TRUNSRVRzZWNyZXQra2V5PTk5", // base64 of the key
  "sk-live%2FSECRETsecret%2Bkey%3D99", // percent-encoded
  "QmVhcmVyIHNrLWxpdmUv", // base64 of `Bearer <key>`, its start
  "\\u0073k-live\\/SECRET\\u0073ecret+key=99", // JSON escapes, as sent in a success body
  "\\u0073k-live/SECRET\\u0073ecret+key=99", // JSON escapes, as sent in an SSE error event
  ...Object.values(encodedSpellings(KEY)),
];

function assertNoLeak(text: string, where: string): void {
  for (const leak of LEAKS) assert.equal(text.includes(leak), false, `${where} holds ${leak}: ${text}`);
  // Decoded base64 of `Bearer <key>` at any alignment holds "SECRET" in one of these cores.
  for (const core of ["U0VDUkVU", "NFQ1JFV", "TRUNSRVR"]) assert.equal(text.includes(core), false, `${where} holds base64 core ${core}: ${text}`);
}

for (const dialect of DIALECTS) {
  describe(`a backend that echoes its key in encoded spellings (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let bot: { key: string };
    before(async () => {
      up = await startUpstream();
      const file = writePlatformConfig(mkdtempSync(join(tmpdir(), "hearth-platform-")), up, {}, KEY, await freePort());
      h = await startHearth(dialect, { HEARTH_CONFIG: file });
      await h.listen();
      bot = await serviceAccountWithKey(h, "bot", "contributor");
    });
    after(async () => {
      await h.stop();
      await up.close();
    });

    test("regression: a relayed 400 no longer carries the key as base64 or percent-encoding (raw key already redacted)", async () => {
      const res = await infer(h, bot.key, chat(MODEL, "echo-auth-encoded-400"));
      assert.equal(res.status, 400);
      const body = await res.text();
      assertNoLeak(body, "400 body");
      const message: string = JSON.parse(body).error.message;
      assert.match(message, /^backend "local" refused the request: key \[redacted\] b64=\[redacted\] /);
      assertNoLeak(message, "decoded 400 message");
      assert.equal(up.requests.at(-1)!.headers.authorization, `Bearer ${KEY}`, "the backend did get its key");
    });

    test("regression: a 500 relayed as 502 no longer carries base64 of 'Bearer <key>' or the URL-encoded key", async () => {
      const res = await infer(h, bot.key, chat(MODEL, "echo-auth-encoded"));
      assert.equal(res.status, 502);
      const body = await res.text();
      assertNoLeak(body, "502 body");
      const message: string = JSON.parse(body).error.message;
      assert.match(message, /bearer64=\[redacted\]/);
      assert.match(message, /url=\[redacted\]/);
      assertNoLeak(message, "decoded 502 message");
    });

    test("regression: a plain-text 500 with the encoded key is relayed as its status only", async () => {
      const res = await infer(h, bot.key, chat(MODEL, "echo-auth-encoded-text"));
      assert.equal(res.status, 502);
      const body = await res.text();
      assertNoLeak(body, "plain-text 502 body");
      assert.equal(JSON.parse(body).error.message, 'backend "local" answered 500');
    });

    test("regression: a successful answer no longer relays the key spelled with JSON escapes (\\u0073k-live\\/…)", async () => {
      const res = await infer(h, bot.key, chat(MODEL, "echo-auth-encoded-200"));
      assert.equal(res.status, 200);
      const body = await res.text();
      assertNoLeak(body, "200 body");
      const content: string = JSON.parse(body).choices[0].message.content;
      assertNoLeak(content, "decoded 200 content");
      assert.match(content, /json=\[redacted\]/);
      assert.match(content, /b64=\[redacted\]/);
    });

    test("regression: a streamed SSE error event no longer relays the JSON-escaped or base64 key", async () => {
      const res = await infer(h, bot.key, chat(MODEL, "echo-auth-encoded", { stream: true }));
      assert.equal(res.status, 200);
      const events = await sseData(res);
      assertNoLeak(events.join("\n"), "SSE stream");
      const error = JSON.parse(events.at(-1)!).error;
      assert.equal(error.type, "server_error");
      assertNoLeak(error.message, "decoded SSE error message");
      assert.match(error.message, /json=\[redacted\]/);
    });

    test("the key in no encoded spelling reaches a log line or an audit entry", async () => {
      for (const prompt of ["echo-auth-encoded", "echo-auth-encoded-400", "echo-auth-encoded-text", "echo-auth-encoded-200"]) {
        await (await infer(h, bot.key, chat(MODEL, prompt))).text();
      }
      await (await infer(h, bot.key, chat(MODEL, "echo-auth-encoded", { stream: true }))).text();
      const audit = await h.call("GET", `/v1/accounts/${h.accountId}/auditLogs?pageSize=200`);
      assertNoLeak(JSON.stringify(audit.body), "audit log");
      assertNoLeak(h.logs.join(""), "logs");
    });
  });
}
