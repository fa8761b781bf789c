import assert from "node:assert/strict";
import { test } from "node:test";
import { digestKey, generateKey, hasValidChecksum, keyPrefixOf, newKeyId } from "./api-key-format.ts";
import { isValidId } from "./ids.ts";

test("a new key has the prefix, 28 base62 characters and a valid checksum", () => {
  const k = generateKey("hk_");
  assert.match(k.key, /^hk_[0-9A-Za-z]{28}$/);
  assert.ok(hasValidChecksum(k.key));
  assert.equal(k.digest, digestKey(k.key));
  assert.ok(k.key.startsWith(k.displayPrefix));
  assert.ok(k.displayPrefix.length < 12, "the shown prefix reveals only a few characters");
});

test("keys are random: a thousand are distinct", () => {
  const keys = new Set(Array.from({ length: 1000 }, () => generateKey().key));
  assert.equal(keys.size, 1000);
});

test("a single mistyped character fails the checksum", () => {
  const { key } = generateKey();
  for (let i = 3; i < key.length; i++) {
    const swapped = key.slice(0, i) + (key[i] === "a" ? "b" : "a") + key.slice(i + 1);
    assert.equal(hasValidChecksum(swapped), false, `position ${i}`);
  }
});

test("a key keeps its checksum under its own prefix, whichever the configured one is", () => {
  const fw = generateKey("fw_").key;
  assert.ok(hasValidChecksum(fw));
  assert.ok(hasValidChecksum(generateKey("hearth12_").key));
  assert.equal(keyPrefixOf(fw), "fw_");
  assert.equal(keyPrefixOf("eyJhbGciOi.x.y"), undefined);
});

test("wrong prefix, wrong length and foreign characters fail before any lookup", () => {
  const { key } = generateKey();
  assert.equal(hasValidChecksum(`sk_${key.slice(3)}`), false, "the checksum covers the prefix");
  assert.equal(hasValidChecksum(`Hk_${key.slice(3)}`), false, "a prefix outside the syntax");
  assert.equal(hasValidChecksum(key.slice(0, -1)), false);
  assert.equal(hasValidChecksum(`${key}x`), false);
  assert.equal(hasValidChecksum(key.replace(/.$/, "!")), false);
  assert.equal(hasValidChecksum(""), false);
});

test("the digest is SHA-256 hex and never contains the key", () => {
  const { key, digest } = generateKey();
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.ok(!digest.includes(key.slice(3)));
});

test("key ids are valid resource ids", () => {
  for (let i = 0; i < 200; i++) assert.ok(isValidId(newKeyId()));
});
