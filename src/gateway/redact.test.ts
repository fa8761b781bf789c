import assert from "node:assert/strict";
import { test } from "node:test";
import { redactKey, redactUpstreamText } from "./redact.ts";

const KEY = "sk-test-4f9a8b7c6d5e4f3a2b1c";

test("an echoed backend credential and bearer-looking tokens are removed from upstream error text", () => {
  const cases: Array<[string, string | undefined, string]> = [
    [`you sent authorization=Bearer ${KEY}`, KEY, "you sent authorization=Bearer [redacted]"],
    [`you sent authorization=Bearer ${KEY}`, undefined, "you sent authorization=Bearer [redacted]"],
    [`bad key ${KEY}`, undefined, "bad key [redacted]"],
    ["Authorization: bearer abc.def-ghi", undefined, "Authorization: bearer [redacted]"],
    ["header was Basic dXNlcjpwYXNz==", undefined, "header was Basic [redacted]"],
    ['{"api_key": "hunter2hunter2"}', undefined, '{"api_key": "[redacted]"}'],
    ["x-api-key=abcdef123456&q=1", undefined, "x-api-key=[redacted]&q=1"],
    ["my-own-backend-secret leaked", "my-own-backend-secret", "[redacted] leaked"],
    ["max_tokens must be at most 4096", KEY, "max_tokens must be at most 4096"],
    ["the GPU caught fire", KEY, "the GPU caught fire"],
  ];
  for (const [input, key, want] of cases) assert.equal(redactUpstreamText(input, key), want, input);
});

test("a short backend key is not searched for in relayed text", () => {
  assert.equal(redactKey("the cat sat", "cat"), "the cat sat");
  assert.equal(redactKey(`x ${KEY} y ${KEY}`, KEY), "x [redacted] y [redacted]");
});
