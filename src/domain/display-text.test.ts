import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeRefused, refusedCharacter } from "./display-text.ts";

test("control, bidi and zero-width characters are found, ordinary text of any script is not", () => {
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
    ["admin\u200b", "U+200B at position 5"],
    ["a\ufeffb", "U+FEFF at position 1"],
    ["soft\u00adhyphen", "U+00AD at position 4"],
    ["\u200dlead", "U+200D at position 0"],
    ["filler\u3164", "U+3164 at position 6"],
    ["flag \u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}", undefined],
    ["\u0646\u0645\u200c\u0627\u06cc", undefined],
  ];
  for (const [text, want] of cases) assert.equal(refusedCharacter(text), want, JSON.stringify(text));
});

test("escapeRefused writes what refusedCharacter finds as \\uXXXX, NUL included, and keeps the rest", () => {
  assert.equal(escapeRefused("a\u0000b"), "a\\u0000b");
  assert.equal(escapeRefused("gpj\u202eexe\u001b[2J"), "gpj\\u202eexe\\u001b[2J");
  assert.equal(escapeRefused("Zoë 👩‍👧 \ud800"), "Zoë 👩‍👧 \\ud800");
});
