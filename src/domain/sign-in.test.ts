import assert from "node:assert/strict";
import { test } from "node:test";
import { generateKey } from "./api-key-format.ts";
import { digestToken, domainAllowed, isApiKeyShaped, isLoopbackHost, isTokenShaped, looksLikeJwt, newToken, safeNextPath, tokensEqual } from "./sign-in.ts";

test("tokens are 256-bit base64url strings, stored as a SHA-256 digest that does not contain them", () => {
  const t = newToken();
  assert.ok(isTokenShaped(t));
  assert.notEqual(newToken(), t);
  assert.match(digestToken(t), /^[0-9a-f]{64}$/);
  assert.ok(!digestToken(t).includes(t));
  assert.ok(!isTokenShaped(`${t}x`));
  assert.ok(!isTokenShaped("../etc/passwd"));
});

test("token comparison is exact", () => {
  const t = newToken();
  assert.ok(tokensEqual(t, t));
  assert.ok(!tokensEqual(t, newToken()));
  assert.ok(!tokensEqual(t, t.slice(1)));
});

test("a bearer token goes to the API-key check only when it carries a key prefix (any, not only the configured one) and is not a JWT", () => {
  const key = generateKey("hk_").key;
  assert.ok(isApiKeyShaped(key));
  assert.ok(isApiKeyShaped(`fw_${key.slice(3)}`), "a key of another prefix still goes to the key verifier");
  assert.ok(!isApiKeyShaped("opaque-access-token"));
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  assert.ok(looksLikeJwt(jwt));
  assert.ok(!isApiKeyShaped(jwt));
  assert.ok(!isApiKeyShaped("hk_a.b.c"), "a JWT-shaped token is never an API key");
  assert.ok(!looksLikeJwt("a.b"));
  assert.ok(!looksLikeJwt("a..c"));
});

const NEXT: Array<[string | undefined, string]> = [
  [undefined, "/"],
  ["", "/"],
  ["/account/users", "/account/users"],
  ["/a?b=c#d", "/a?b=c#d"],
  ["https://evil.example/", "/"],
  ["//evil.example/x", "/"],
  ["/\\evil.example", "/"],
  ["\\\\evil.example", "/"],
  ["javascript:alert(1)", "/"],
  ["/ok/../../x", "/x"],
  ["/\tevil", "/"],
  ["relative/path", "/"],
];

for (const [input, expected] of NEXT) {
  test(`next ${JSON.stringify(input)} becomes ${JSON.stringify(expected)} (same origin only)`, () => {
    assert.equal(safeNextPath(input), expected);
  });
}

test("JIT provisioning is limited to the tenant domains, or to the account email's domain when none are set", () => {
  assert.ok(domainAllowed("a@corp.example", ["corp.example"], "admin@other.example"));
  assert.ok(domainAllowed("a@CORP.example", ["corp.example"], "admin@other.example"));
  assert.ok(!domainAllowed("a@evil.example", ["corp.example"], "admin@corp.example"));
  assert.ok(!domainAllowed("a@sub.corp.example", ["corp.example"], "admin@corp.example"));
  assert.ok(domainAllowed("a@corp.example", [], "admin@corp.example"));
  assert.ok(!domainAllowed("a@evil.example", [], "admin@corp.example"));
});

test("only loopback hosts may be plain-http issuers", () => {
  for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"]) assert.ok(isLoopbackHost(h), h);
  for (const h of ["example.com", "10.0.0.1", "localhost.evil.example", "127.0.0.1.evil.example"]) assert.ok(!isLoopbackHost(h), h);
});
