import assert from "node:assert/strict";
import { test } from "node:test";
import { refusedCharacter } from "./display-text.ts";

test("control and bidi characters are found, ordinary text of any script is not", () => {
  const cases: Array<[string, string | undefined]> = [
    ["Corp SSO", undefined],
    ["Zoë — 東京 — مرحبا — 👩‍👩‍👧", undefined],
    ["https://issuer.example/realms/x?a=1", undefined],
    ["evil\u001b]0;pwned\u0007", "U+001B at position 4"],
    ["bell\u0007", "U+0007 at position 4"],
    ["gpj\u202eexe.txt", "U+202E at position 3"],
    ["tab\there", "U+0009 at position 3"],
    ["line\nbreak", "U+000A at position 4"],
    ["del\u007f", "U+007F at position 3"],
    ["csi\u009b31m", "U+009B at position 3"],
    ["iso\u2066late", "U+2066 at position 3"],
    ["mark\u200f", "U+200F at position 4"],
    ["alm\u061c", "U+061C at position 3"],
  ];
  for (const [text, want] of cases) assert.equal(refusedCharacter(text), want, JSON.stringify(text));
});
