import assert from "node:assert/strict";
import { test } from "node:test";
import { duplicateMember } from "./json-duplicate-member.ts";

test("a name given twice in one object is found, at any depth and in any spelling of its escapes", () => {
  const cases: Array<[string, string | undefined]> = [
    ['{"role":"user","role":"admin"}', "role"],
    ['{"a":1,"b":{"c":1,"c":2}}', "c"],
    ['[{"a":1},{"a":1,"x":[{"k":1,"k":1}]}]', "k"],
    ['{"role":"user","\\u0072ole":"admin"}', "role"],
    ['{"a\\"b":1,"a\\"b":2}', 'a"b'],
    ['{"":1,"":2}', ""],
    // Distinct names, and names that only look alike.
    ['{"a":1,"b":2}', undefined],
    ['{"a":{"a":{"a":1}}}', undefined],
    ['[{"a":1},{"a":2}]', undefined],
    ['{"a":{},"b":[],"c":"a","d":["a","a"]}', undefined],
    ['{"a":"x,\\"a\\":1","b":1}', undefined],
    ['{"Role":1,"role":2}', undefined],
    ['"a"', undefined],
    ["[1,2,1]", undefined],
    ["{}", undefined],
  ];
  for (const [text, expected] of cases) assert.equal(duplicateMember(text), expected, text);
});
