import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonlValidator } from "./jsonl.ts";

const feed = (pieces: Array<string | Buffer>) => {
  const v = new JsonlValidator();
  let out = "";
  for (const p of pieces) out += v.push(Buffer.isBuffer(p) ? p : Buffer.from(p));
  out += v.finish();
  return { out, examples: v.examples };
};

test("lines split across pieces are joined; blank lines and CRLF are tolerated", () => {
  assert.deepEqual(feed(['{"a"', ':1}\r\n\n  \n{"b":', "2}"]), { out: '{"a":1}\n{"b":2}\n', examples: 2 });
});

test("a multi-byte character split across pieces survives", () => {
  const bytes = Buffer.from('{"t":"é"}\n');
  assert.deepEqual(feed([bytes.subarray(0, 7), bytes.subarray(7)]), { out: '{"t":"é"}\n', examples: 1 });
});

test("the first bad line is named by its number", () => {
  for (const [text, message] of [
    ['{"a":1}\n[1]\n', /^line 2 is not a JSON object$/],
    ['{"a":1}\n\n"str"\n', /^line 3 is not a JSON object$/],
    ["{\n", /^line 1 is not valid JSON/],
    ['{"a":1}\n{"a":2}\n{"a":', /^line 3 is not valid JSON/],
  ] as const) {
    assert.throws(() => feed([text]), { message }, text);
  }
  assert.throws(() => feed([Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a])]), { message: "line 1 is not valid UTF-8" });
});

test("a line longer than the limit is refused before it is complete", () => {
  const v = new JsonlValidator({ maxLineBytes: 10 });
  assert.throws(() => v.push(Buffer.from('{"aaaaaaaaaaaa')), { message: "line 1 is longer than 10 bytes" });
});
