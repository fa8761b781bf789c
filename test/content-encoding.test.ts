import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * Hearth decodes no content coding, and read every body as if it had none (found by fuzzing content
 * types and headers): a gzip body was refused as `request body is not valid UTF-8: byte 0x8B at
 * offset 1`, and a plain body labelled `Content-Encoding: br` was stored, the label ignored. A
 * request whose Content-Encoding names a coding other than identity is now a 400 naming it, at the
 * edge, audited, on every route and on both of the gateway's paths.
 */
const A = "/v1/accounts/my-account";
const MODEL = "accounts/fireworks/models/tiny-public";

for (const dialect of DIALECTS) {
  describe(`a body with a Content-Encoding Hearth does not decode is refused naming it (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let bot: { key: string; keyId: string };
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      bot = await serviceAccountWithKey(h, "coded-bot", "user");
      assert.equal((await h.call("PATCH", `${A}/users/coded-bot`, { body: { displayName: "before" } })).status, 200);
    });
    after(() => stop());

    test("regression: a gzip body and a plain body labelled br are a 400 naming the coding, and nothing changes", async () => {
      const json = JSON.stringify({ displayName: "after" });
      for (const [coding, body] of [
        ["gzip", gzipSync(json)],
        ["br", json],
        ["gzip, identity", gzipSync(json)],
      ] as const) {
        const res = await h.call("PATCH", `${A}/users/coded-bot`, { body, headers: { "content-type": "application/json", "content-encoding": coding } });
        assert.equal(res.status, 400, `${coding}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.status, "INVALID_ARGUMENT");
        assert.match(res.body.error.message, /^unsupported Content-Encoding "(gzip|br)": send the body uncompressed$/);
      }
      assert.equal((await h.call("GET", `${A}/users/coded-bot`)).body.displayName, "before");
      assert.equal((await auditEntries(h, 'method="UpdateUser" AND status:"Content-Encoding"')).length, 3);
      const identity = await h.call("PATCH", `${A}/users/coded-bot`, {
        body: json,
        headers: { "content-type": "application/json", "content-encoding": "identity" },
      });
      assert.equal(identity.status, 200, "identity is no coding");
      assert.equal(identity.body.displayName, "after");
    });

    test("regression: a JSON body declared in a charset other than UTF-8 is a 400 naming it; utf-8 in any spelling passes", async () => {
      // It was read as UTF-8 whatever it declared, so latin1 bytes were stored as other characters or refused as bad UTF-8.
      const latin1 = Buffer.from(JSON.stringify({ displayName: "Café" }), "latin1");
      for (const charset of ["latin1", "ISO-8859-1", '"utf-16"']) {
        const res = await h.call("PATCH", `${A}/users/coded-bot`, { body: latin1, headers: { "content-type": `application/json; charset=${charset}` } });
        assert.equal(res.status, 400, `${charset}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /^unsupported charset "[^"]+" for application\/json: send the body in UTF-8 \(RFC 8259 §8\.1\)$/);
      }
      assert.notEqual((await h.call("GET", `${A}/users/coded-bot`)).body.displayName, "Café");
      assert.equal((await auditEntries(h, 'method="UpdateUser" AND status:"unsupported charset"')).length, 3);
      const inference = await fetch(`${h.baseUrl}/inference/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${bot.key}`, "content-type": "application/json; charset=latin1" },
        body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(inference.status, 400);
      assert.match(((await inference.json()) as any).error.message, /unsupported charset "latin1"/);
      for (const charset of ["utf-8", "UTF-8", '"utf-8"', "utf8"]) {
        const ok = await h.call("PATCH", `${A}/users/coded-bot`, {
          body: Buffer.from(JSON.stringify({ displayName: `Café ${charset.replaceAll('"', "")}` }), "utf8"),
          headers: { "content-type": `application/json; charset=${charset}` },
        });
        assert.equal(ok.status, 200, `${charset}: ${JSON.stringify(ok.body)}`);
      }
    });

    test("regression: a charset declared twice or unreadably is refused, not read as its first (UTF-8) spelling", async () => {
      // The parser keeps the first of a repeated parameter and drops an unclosed quote, so both passed as
      // UTF-8: latin1 "Ã©" (bytes C3 A9, valid UTF-8) was stored as "é", a 200.
      const latin1 = Buffer.from(JSON.stringify({ displayName: "Ã©" }), "latin1");
      const refusals: Record<string, RegExp> = {
        "charset=utf-8; charset=latin1": /^the charset parameter is given more than once in Content-Type/,
        "charset=UTF-8;Charset=ISO-8859-1": /^the charset parameter is given more than once in Content-Type/,
        'charset="latin1': /^the charset parameter of Content-Type cannot be read/,
      };
      for (const [parameters, message] of Object.entries(refusals)) {
        const res = await h.call("PATCH", `${A}/users/coded-bot`, { body: latin1, headers: { "content-type": `application/json; ${parameters}` } });
        assert.equal(res.status, 400, `${parameters}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message);
      }
      assert.notEqual((await h.call("GET", `${A}/users/coded-bot`)).body.displayName, "é");
      assert.equal((await auditEntries(h, 'method="UpdateUser" AND status:"the charset parameter"')).length, 3);
    });

    test("a dataset upload and an inference call (fast path and framework route) are refused the same way, and no backend is called", async () => {
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=coded`, { body: {} })).status, 200);
      const line = '{"messages":[{"role":"user","content":"hi"}]}\n';
      const upload = await fetch(`${h.baseUrl}${A}/datasets/coded:upload`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.adminKey}`, "content-type": "application/jsonl", "content-encoding": "gzip" },
        body: gzipSync(line),
      });
      assert.equal(upload.status, 400);
      assert.match(((await upload.json()) as any).error.message, /unsupported Content-Encoding "gzip"/);
      assert.equal((await h.call("GET", `${A}/datasets/coded`)).body.exampleCount, "0");
      const calls = up.requests.length;
      const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
      for (const path of ["/inference/v1/chat/completions", "/inference/v1/chat/completions/"]) {
        const res = await fetch(`${h.baseUrl}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${bot.key}`, "content-type": "application/json", "content-encoding": "br" },
          body,
        });
        assert.equal(res.status, 400, path);
        const answer = (await res.json()) as { error: { message: string; type: string } };
        assert.equal(answer.error.type, "invalid_request_error", path);
        assert.match(answer.error.message, /unsupported Content-Encoding "br"/, path);
      }
      assert.equal(up.requests.length, calls, "nothing was forwarded");
    });
  });
}
