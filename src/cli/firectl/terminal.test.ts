import assert from "node:assert/strict";
import { test } from "node:test";
import { terminalSafe } from "./terminal.ts";

test("control, bidi and format characters become visible escapes; JSON output stays valid and exact", () => {
  assert.equal(terminalSafe("a\u001b[31mb\u0007c\r\n"), "a\\u001b[31mb\\u0007c\\u000d\n");
  assert.equal(terminalSafe("gpj\u202eexe \u2066x\u2069 \u200e\u061c\ufeff\u00ad"), "gpj\\u202eexe \\u2066x\\u2069 \\u200e\\u061c\\ufeff\\u00ad");
  assert.equal(terminalSafe("\u007f\u0085\u009b\u2028"), "\\u007f\\u0085\\u009b\\u2028");
  assert.equal(terminalSafe("tab\tok 👩‍👩‍👧 東京"), "tab\tok 👩‍👩‍👧 東京", "tab, newline, joiners and letters pass");
  for (const value of ["x\u009b2J\u202e", "tag\u{e0041}", "back\\\u202eslash", "\u0000\u001f"]) {
    const printed = terminalSafe(JSON.stringify({ value }, null, 2));
    assert.equal(JSON.parse(printed).value, value, JSON.stringify(value));
  }
});
