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

test("the backend key is removed in every easily decoded spelling: JSON escapes, percent, hex, base64 at each alignment", () => {
  const key = "sk-live/SECRETsecret+key=99";
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const spellings = [
    "\\u0073k-live\\/SECRET\\u0073ecret+key=99",
    "\\u0073k-live/SECRET\\u0073ecret+key=99",
    "sk-live%2FSECRETsecret%2Bkey%3D99",
    "sk-live%2fSECRETsecret%2bkey%3d99",
    Buffer.from(key).toString("hex"),
    Buffer.from(key).toString("hex").toUpperCase(),
    b64(key),
    Buffer.from(key).toString("base64url"),
    b64(`Bearer ${key}`),
    b64(`x:${key}`),
    b64(`ab${key}`),
  ];
  for (const spelling of spellings) {
    const out = redactKey(`before ${spelling} after`, key);
    assert.equal(out, "before [redacted] after", spelling);
  }
  assert.equal(redactKey("an ordinary 100% answer with a \\n in it", key), "an ordinary 100% answer with a \\n in it");
});

test("error text loses bearer-looking tokens also when percent-, base64- or hex-encoded", () => {
  const b64 = Buffer.from("Authorization: Bearer abcdefghijklmnop").toString("base64");
  assert.equal(redactUpstreamText(`saw ${b64} here`, undefined), "saw [redacted] here");
  assert.equal(redactUpstreamText("saw Bearer%20abc%2Edef%2Dghi here", undefined), "saw Bearer%20[redacted] here");
  assert.equal(redactUpstreamText(`saw ${Buffer.from("Bearer abcdefgh").toString("hex")} here`, undefined), "saw [redacted] here");
  assert.equal(redactUpstreamText("request 0123456789abcdef0123456789abcdef failed", undefined), "request 0123456789abcdef0123456789abcdef failed");
});

test("the key without its kind prefix (sk-, sk-proj-, fw_) is removed too, in its spellings; a short remainder is not searched for", () => {
  const key = "sk-backend-SECRET-KEY-12345";
  for (const spelling of ["backend-SECRET-KEY-12345", Buffer.from("backend-SECRET-KEY-12345").toString("base64"), "backend-\\u0053ECRET-KEY-12345"]) {
    assert.equal(redactKey(`: token=${spelling} end`, key), ": token=[redacted] end", spelling);
  }
  assert.equal(redactKey("x sk-proj-AAAABBBBCCCCDDDDEEEE y AAAABBBBCCCCDDDDEEEE z", "sk-proj-AAAABBBBCCCCDDDDEEEE"), "x [redacted] y [redacted] z");
  assert.equal(redactKey("id fw_0123456789abcdef01 was", "fw_0123456789abcdef01"), "id [redacted] was");
  assert.equal(redactKey("an answer about 12345678 and sk-", "sk-12345678"), "an answer about 12345678 and sk-", "8 characters are not secret enough to hunt");
});
