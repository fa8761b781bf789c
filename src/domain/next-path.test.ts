import assert from "node:assert/strict";
import { test } from "node:test";
import { safeNextPath } from "./next-path.ts";

/** Each `next` a sign-in may carry, and where the browser is sent (issue 13: open redirect after sign-in). */
const NEXT: Array<[string | undefined | null, string]> = [
  [undefined, "/"],
  [null, "/"],
  ["/account/users", "/account/users"],
  ["/account/users?filter=a#top", "/account/users?filter=a#top"],
  ["/ok/../x", "/x"],
  // The reproductions: each normalises to a network-path reference ("//evil.example/...").
  ["/.//evil.example/phish", "/"],
  ["/..//evil.example", "/"],
  ["/%2e//evil.example", "/"],
  ["/./%2e%2e//evil.example", "/"],
  ["/%2E%2E//evil.example", "/"],
  // Backslashes, raw or encoded, read as "/" by browsers (and by proxies that decode).
  ["/\\evil.example", "/"],
  ["/%5Cevil.example", "/"],
  ["/%5cevil.example", "/"],
  ["/%2F/evil.example", "/"],
  ["/%2f%2fevil.example", "/"],
  ["//evil.example", "/"],
  ["///evil.example", "/"],
  // Tabs and newlines are dropped by URL parsing: "/\t/evil.example" would become "//evil.example".
  ["/\t/evil.example", "/"],
  ["/\n/evil.example", "/"],
  ["/\r\n/evil.example", "/"],
  ["/%09/evil.example", "/"],
  ["https://evil.example", "/"],
  ["http:evil.example", "/"],
  ["javascript:alert(1)", "/"],
  ["evil.example", "/"],
  ["/%E0%A4%A", "/"],
  [`/${"a".repeat(1100)}`, "/"],
  [`/${"a".repeat(1000)}`, `/${"a".repeat(1000)}`],
];

for (const [input, expected] of NEXT) {
  test(`next ${JSON.stringify(input?.slice(0, 40))} leads to ${JSON.stringify(expected.slice(0, 40))}`, () => {
    assert.equal(safeNextPath(input), expected);
  });
}

test("whatever next is, the result stays on Hearth's origin", () => {
  const samples = ["/.//x", "/..//x", "/%2e//x", "/\\x", "/%5Cx", "/%2F/x", "/a/../..//x", "/./%2e%2e//x", "/?//x", "/#//x"];
  for (const next of samples) {
    const url = new URL(safeNextPath(next), "https://hearth.example");
    assert.equal(url.origin, "https://hearth.example", next);
  }
});
