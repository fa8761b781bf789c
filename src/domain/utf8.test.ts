import assert from "node:assert/strict";
import { test } from "node:test";
import { strictUtf8 } from "./utf8.ts";

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ""), "hex");

test("well-formed UTF-8 is decoded as it is, U+FFFD (EF BF BD) included", () => {
  assert.equal(strictUtf8(hex("61 e2 82 ac f0 9f 98 80 ef bf bd")), "a€😀\uFFFD");
  assert.equal(strictUtf8(Buffer.alloc(0)), "");
});

test("ill-formed UTF-8 is refused naming its first bad byte and offset, past any genuine U+FFFD", () => {
  const cases: Array<[string, string]> = [
    ["61 62 c0 af 63 64", "byte 0xC0 at offset 2"], // overlong "/"
    ["ff fe", "byte 0xFF at offset 0"],
    ["61 80", "byte 0x80 at offset 1"], // a lone continuation byte
    ["ed a0 80", "byte 0xED at offset 0"], // a surrogate
    ["f4 90 80 80", "byte 0xF4 at offset 0"], // past U+10FFFF
    ["ef bf bd 61 e2 82", "byte 0xE2 at offset 4"], // cut off at the end, after a genuine U+FFFD
  ];
  for (const [bytes, where] of cases) assert.throws(() => strictUtf8(hex(bytes)), { message: `not valid UTF-8: ${where}` }, bytes);
});
