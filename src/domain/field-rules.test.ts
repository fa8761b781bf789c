import assert from "node:assert/strict";
import { test } from "node:test";
import { checkField, FIELD_RULES, refusal } from "./field-rules.ts";

test("a new id follows AIP-122; a stored id may end in '-'", () => {
  for (const ok of ["a", "a--b", "my-model-2", `a${"0".repeat(62)}`]) assert.equal(FIELD_RULES.id.problem(ok), undefined, ok);
  for (const bad of ["a--b-", "a-", "", "1a", "-a", "A", "a_b", `a${"0".repeat(63)}`]) assert.notEqual(FIELD_RULES.id.problem(bad), undefined, bad);
  assert.equal(FIELD_RULES.storedId.problem("a--b-"), undefined);
  assert.equal(refusal(FIELD_RULES.id, "modelId", "a--b-"), `invalid modelId "a--b-": ${FIELD_RULES.id.problem("a--b-")}`);
  assert.equal(new RegExp(FIELD_RULES.id.schema.pattern).test("a--b-"), false, "the documented pattern says the same");
});

test("a refusal names the field and the rule, with the value escaped", () => {
  assert.throws(
    () => checkField(FIELD_RULES.email, "--admin-email", "admin\u200b@example.com"),
    /^ApiError: invalid --admin-email "admin\\u200b@example\.com": U\+200B at position 5/,
  );
  assert.equal(
    refusal(FIELD_RULES.role, "role", "owner"),
    'unknown role "owner": use one of inference-user, contributor, user, admin or custom (with a permissionPreset)',
  );
  assert.equal(refusal(FIELD_RULES.role, "role", "custom"), undefined);
  assert.match(refusal(FIELD_RULES.builtInRole, "jitDefaultRole", "custom")!, /^jitDefaultRole "custom" \(with a permissionPreset\) is given to a user/);
  assert.equal(refusal(FIELD_RULES.role, "role", "admin"), undefined);
  assert.match(refusal(FIELD_RULES.displayName, "displayName", "x".repeat(64))!, /must be shorter than 64 characters$/);
  assert.equal(refusal(FIELD_RULES.displayName, "displayName", "x".repeat(63)), undefined);
  assert.match(refusal(FIELD_RULES.displayName, "displayName", "admin\u200b")!, /found U\+200B at position 5/);
});

test("emails: invisible characters and mixed-script labels are refused, single-script Unicode is not", () => {
  const email = FIELD_RULES.email.problem;
  for (const ok of ["иван@пример.рф", "山田taro@example.jp", "ops@xn--mnchen-3ya.example", "e\u0301mile@example.com", "a.b+c@example.com"]) {
    assert.equal(email(ok), undefined, ok);
  }
  const refused: Array<[string, RegExp]> = [
    ["\u0430dmin@example.com", /^U\+0430 at position 0 is not allowed: a Cyrillic character among Latin ones/],
    ["admin@ex\u0430mple.com", /^U\+0430 at position 8 /],
    ["admin\u200b@example.com", /^U\+200B at position 5 /],
    ["a\u2060b@example.com", /^U\+2060 at position 1 /],
    ["a\u3164b@example.com", /^U\+3164 at position 1 /],
    ["x@xn--exmple-4nf.com", /^U\+0430 in the A-label "xn--exmple-4nf"/],
    ["nope", /^expected an address like name@example\.com$/],
  ];
  for (const [value, want] of refused) assert.match(email(value) ?? "", want, JSON.stringify(value));
});

test("timestamps are RFC 3339 date-times; issuer URLs are canonical https URLs", () => {
  assert.equal(FIELD_RULES.timestamp.problem("2026-01-31T12:00:00Z"), undefined);
  for (const bad of ["tomorrow", "2026-01-31", "2026-02-31T12:00:00Z".replace("02-31", "13-01")])
    assert.notEqual(FIELD_RULES.timestamp.problem(bad), undefined, bad);
  assert.equal(FIELD_RULES.issuerUrl.problem("https://login.example.com"), undefined);
  assert.equal(FIELD_RULES.issuerUrl.problem("http://127.0.0.1:8080/"), undefined, "plain http on loopback, for development");
  assert.equal(
    FIELD_RULES.issuerUrl.problem("HTTPS://Login.Example.com"),
    'write it as "https://login.example.com/", exactly as the provider\'s discovery document names its issuer',
  );
  assert.equal(FIELD_RULES.issuerUrl.problem("http://login.example.com"), "expected an https URL without query or fragment");
  assert.equal(FIELD_RULES.issuerUrl.problem("not a url"), "expected an https URL");
});
