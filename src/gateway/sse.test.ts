import assert from "node:assert/strict";
import { test } from "node:test";
import { SseSplitter } from "./sse.ts";

test("events split across chunks come out whole, as soon as they are complete", () => {
  const s = new SseSplitter();
  const enc = (t: string) => new TextEncoder().encode(t);
  assert.deepEqual(s.push(enc('data: {"a"')), []);
  assert.deepEqual(s.push(enc(":1}\n\ndata: [DO")), [{ raw: 'data: {"a":1}\n\n', data: '{"a":1}' }]);
  assert.deepEqual(s.push(enc("NE]\r\n\r\n: keep-alive\n\n")), [
    { raw: "data: [DONE]\n\n", data: "[DONE]" },
    { raw: ": keep-alive\n\n", data: undefined },
  ]);
  assert.deepEqual(s.push(enc("data: tail")), []);
  assert.deepEqual(s.finish(), [{ raw: "data: tail\n\n", data: "tail" }]);
});

test("a CRLF split between two reads is one line end, not two (which would cut the event in half)", () => {
  const s = new SseSplitter();
  const enc = (t: string) => new TextEncoder().encode(t);
  assert.deepEqual(s.push(enc('data: {"model":"up",\r')), []);
  assert.deepEqual(s.push(enc('\ndata: "a":1}\r\n\r')), []);
  assert.deepEqual(s.push(enc("\n")), [{ raw: 'data: {"model":"up",\ndata: "a":1}\n\n', data: '{"model":"up",\n"a":1}' }]);
  // CR alone still ends a line (WHATWG HTML event-stream format), once what follows it shows it is not a CRLF.
  assert.deepEqual(s.push(enc("data: x\r\r")), []);
  assert.deepEqual(s.push(enc("data: y\r\r")), [{ raw: "data: x\n\n", data: "x" }]);
  assert.deepEqual(s.finish(), [{ raw: "data: y\n\n", data: "y" }]);
});
