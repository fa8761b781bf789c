import assert from "node:assert/strict";
import { test } from "node:test";
import { scriptMix } from "./unicode-scripts.ts";

test("one script per label, Common and Inherited characters going with any (UTS #39 highly restrictive)", () => {
  for (const ok of ["admin", "админ", "ops-2", "山田taro", "やまだ山田taro", "김철수kim", "ㄅㄆ中文abc", "münchen", "ελλάδα", "", "123"]) {
    assert.equal(scriptMix(ok), undefined, ok);
  }
  const cases: Array<[string, number, string, string]> = [
    ["\u0430dmin", 0, "Cyrillic", "Latin"],
    ["ex\u0430mple", 2, "Cyrillic", "Latin"],
    ["\u0430д\u006dин", 2, "Latin", "Cyrillic"],
    ["paypal\u03bf", 6, "Greek", "Latin"],
    ["山田\u0430", 2, "Cyrillic", "Han"],
    ["김철수やまだ", 3, "Hiragana", "Hangul"],
  ];
  for (const [label, index, script, among] of cases) {
    const mix = scriptMix(label);
    assert.deepEqual(mix && { index: mix.index, script: mix.script, among: mix.among }, { index, script, among }, label);
  }
});
