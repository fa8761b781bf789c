import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalIssuer, issuerKey } from "./issuer-identifier.ts";

test("an issuer in its canonical spelling is kept exactly, with or without a trailing slash on an empty path", () => {
  for (const issuer of ["https://accounts.google.com", "https://tenant.auth0.com/", "https://login.example/realms/corp", "http://127.0.0.1:33623"]) {
    assert.equal(canonicalIssuer(issuer), issuer);
  }
});

test("every other spelling of the same issuer has another canonical form (the reviewer's clone spellings)", () => {
  const cases: Array<[string, string]> = [
    ["HTTP://127.0.0.1:33623", "http://127.0.0.1:33623/"],
    ["http://127.0.0.1:033623", "http://127.0.0.1:33623/"],
    ["http://127.0.0.1:33623/.", "http://127.0.0.1:33623/"],
    ["http://127.0.0.1:33623/./", "http://127.0.0.1:33623/"],
    ["http://0x7f.1:33623", "http://127.0.0.1:33623/"],
    ["http://127.1:33623", "http://127.0.0.1:33623/"],
    ["https://Login.Example:443/a/../b", "https://login.example/b"],
  ];
  for (const [given, canonical] of cases) {
    assert.equal(canonicalIssuer(given), canonical, given);
    assert.notEqual(canonicalIssuer(given), given);
  }
  assert.equal(canonicalIssuer("not a url"), undefined);
});

test("spellings of one issuer share one key: a trailing slash, case and dot segments do not make a new pair", () => {
  const key = issuerKey("http://127.0.0.1:33623");
  for (const variant of [
    "http://127.0.0.1:33623/",
    "HTTP://127.0.0.1:33623",
    "http://127.0.0.1:033623",
    "http://127.0.0.1:33623/./",
    "http://0x7f.1:33623",
    "http://127.1:33623//",
  ]) {
    assert.equal(issuerKey(variant), key, variant);
  }
  assert.notEqual(issuerKey("https://login.example/realms/a"), issuerKey("https://login.example/realms/b"));
});
