import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { open, parseSecretKey, seal } from "./secret-box.ts";

const key = randomBytes(32);

test("a sealed secret opens with the same key and context, and its text is not in the sealed form", () => {
  const sealed = seal(key, "client-secret-value", "identity-provider:acme/corp");
  assert.ok(!sealed.includes("client-secret-value"));
  assert.equal(open(key, sealed, "identity-provider:acme/corp"), "client-secret-value");
});

test("sealing twice gives different ciphertexts (random nonce)", () => {
  assert.notEqual(seal(key, "x", "c"), seal(key, "x", "c"));
});

test("a sealed secret does not open under another key, another context, or after tampering", () => {
  const sealed = seal(key, "s3cret", "identity-provider:acme/corp");
  assert.equal(open(randomBytes(32), sealed, "identity-provider:acme/corp"), undefined);
  assert.equal(open(key, sealed, "identity-provider:acme/other"), undefined);
  const parts = sealed.split(".");
  const body = Buffer.from(parts[2]!, "base64url");
  body[0]! ^= 1;
  assert.equal(open(key, [parts[0], parts[1], body.toString("base64url"), parts[3]].join("."), "identity-provider:acme/corp"), undefined);
  assert.equal(open(key, "v1.garbage", "identity-provider:acme/corp"), undefined);
});

test("a configured key is 64 hex characters or base64 of 32 bytes; anything else is refused", () => {
  const bytes = randomBytes(32);
  assert.deepEqual(parseSecretKey(bytes.toString("hex")), bytes);
  assert.deepEqual(parseSecretKey(bytes.toString("base64")), bytes);
  assert.deepEqual(parseSecretKey(bytes.toString("base64url")), bytes);
  for (const bad of ["", "short", "zz".repeat(32), randomBytes(16).toString("hex"), randomBytes(31).toString("base64")]) {
    assert.equal(parseSecretKey(bad), undefined, bad);
  }
});
