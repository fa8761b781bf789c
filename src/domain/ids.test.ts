import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "./errors.ts";
import { checkEmail, checkId, idFromEmail, isValidId, serviceAccountEmail } from "./ids.ts";
import { idFromName } from "./resource-names.ts";

test("valid ids: lowercase letters, digits and '-', 1-63 characters, starting with a letter", () => {
  for (const ok of ["a", "my-service-account", "a1", "x".repeat(63)]) assert.ok(isValidId(ok), ok);
  for (const bad of ["", "1a", "-a", "A", "a_b", "a.b", "x".repeat(64), "a b", "é"]) assert.ok(!isValidId(bad), bad);
});

test("regression: a new id ends with a letter or digit (AIP-122), while a stored 'a--b-' still names its resource", () => {
  assert.throws(() => checkId("a--b-", "userId"), /^ApiError: invalid userId "a--b-": .*ending with a letter or digit \(AIP-122\)/);
  assert.equal(checkId("a--b", "userId"), "a--b");
  assert.ok(isValidId("a--b-"));
  assert.equal(idFromName("accounts/acme/users/a--b-", "accounts/acme/users", "user"), "a--b-");
});

test("ids derived from internationalised emails are valid and distinct", () => {
  assert.equal(idFromEmail("иван@пример.рф"), "xn--80adrw-xn--e1afmkfd-xn--p1ai");
  assert.notEqual(idFromEmail("иван@пример.рф"), idFromEmail("олег@пример.рф"));
  for (const email of ["иван@пример.рф", "山田taro@example.jp", "e\u0301mile@example.com"]) assert.ok(checkId(idFromEmail(email), "userId"), email);
});

test("a resource may be named by id or by full name", () => {
  assert.equal(idFromName("bob", "accounts/acme/users", "user"), "bob");
  assert.equal(idFromName("accounts/acme/users/bob", "accounts/acme/users", "user"), "bob");
  assert.throws(() => idFromName("accounts/other/users/bob", "accounts/acme/users", "user"), ApiError);
  assert.throws(() => idFromName("Bob", "accounts/acme/users", "user"), /invalid user "Bob"/);
});

test("ids derived from emails are valid ids", () => {
  assert.equal(idFromEmail("Alice.Smith@Example.com"), "alice-smith-example-com");
  assert.ok(isValidId(idFromEmail("9lives@cats.io")));
  assert.ok(isValidId(idFromEmail(`${"a".repeat(80)}@b.co`)));
});

test("service-account emails follow {id}@{account}.{domain}", () => {
  assert.equal(serviceAccountEmail("my-service-account", "my-account", "sa.fireworks.ai"), "my-service-account@my-account.sa.fireworks.ai");
});

test("emails are checked and lowercased", () => {
  assert.equal(checkEmail("Ops@Acme.Example"), "ops@acme.example");
  for (const bad of ["nope", "a@b", "a b@c.d", "@c.d"]) assert.throws(() => checkEmail(bad), /invalid email/);
  // Issue 13: what an identity provider may assert must pass the same check as POST /users.
  for (const bad of ["x@evil.test@corp.example", '"odd name"@corp.example', "a\r\nb@corp.example", "a\u001bb@corp.example", "a\u007f@corp.example"]) {
    assert.throws(() => checkEmail(bad), /invalid email/, JSON.stringify(bad));
  }
});

test("regression: emails holding bidi, zero-width, space or mixed-script characters are refused, naming the character", () => {
  const cases: Array<[string, string]> = [
    ["gpj.exe\u202e@example.com", "U+202E at position 7"],
    ["admin\u200b@example.com", "U+200B at position 5"],
    ["moc.elpmaxe\u202e@example.com", "U+202E at position 11"],
    ["admin@ex\u0430mple.com", "U+0430 at position 8"],
    ["a\u2066b@example.com", "U+2066 at position 1"],
    ["a\ufeffb@example.com", "U+FEFF at position 1"],
    ["a\u00a0b@example.com", "U+00A0 at position 1"],
  ];
  for (const [bad, where] of cases) {
    assert.throws(
      () => checkEmail(bad, "admin email"),
      (e: Error) => e.message.includes(`invalid admin email`) && e.message.includes(where),
      JSON.stringify(bad),
    );
    assert.throws(
      () => checkEmail(bad),
      (e: Error) => /^[\x20-\x7e]*$/.test(e.message),
      "the message shows the character escaped",
    );
  }
  assert.equal(checkEmail("ops@xn--mnchen-3ya.example"), "ops@xn--mnchen-3ya.example");
});
