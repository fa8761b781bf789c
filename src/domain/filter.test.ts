import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFilter, type FilterExpr } from "./filter.ts";

/** A compact rendering of the tree, to compare shapes. */
function show(e: FilterExpr | undefined): string {
  if (!e) return "";
  switch (e.kind) {
    case "and":
    case "or":
      return `(${e.items.map(show).join(` ${e.kind.toUpperCase()} `)})`;
    case "not":
      return `NOT ${show(e.item)}`;
    case "compare":
      return `${e.field}${e.op}${e.value.quoted ? JSON.stringify(e.value.text) : e.value.text}`;
  }
}

const CASES: Array<[string, string]> = [
  ["service_account=true", "service_account=true"],
  ['role = "admin"', 'role="admin"'],
  ["role!=admin", "role!=admin"],
  ["create_time>=2026-01-01T00:00:00Z", "create_time>=2026-01-01T00:00:00Z"],
  ["email:example", "email:example"],
  ["a=1 AND b=2", "(a=1 AND b=2)"],
  ["a=1 b=2", "(a=1 AND b=2)"],
  ["a=1 OR b=2", "(a=1 OR b=2)"],
  // AIP-160: OR binds tighter than AND.
  ["a=1 AND b=2 OR c=3", "(a=1 AND (b=2 OR c=3))"],
  ["(a=1 AND b=2) OR c=3", "((a=1 AND b=2) OR c=3)"],
  ["NOT a=1", "NOT a=1"],
  ["-a=1", "NOT a=1"],
  ["NOT (a=1 OR b=2)", "NOT (a=1 OR b=2)"],
  ['resource="accounts/x/users/y"', 'resource="accounts/x/users/y"'],
  ["name='it\\'s'", `name="it's"`],
  ["", ""],
  ["   ", ""],
];

for (const [input, expected] of CASES) {
  test(`parses ${JSON.stringify(input)}`, () => {
    assert.equal(show(parseFilter(input)), expected);
  });
}

const ERRORS: Array<[string, RegExp]> = [
  ["role=", /expected a value after '=' but found end of filter at position 6/],
  ["=admin", /expected a field name but found '=' at position 1/],
  ["role admin", /expected a comparison operator after 'role' but found 'admin' at position 6/],
  ['role="admin', /unterminated string at position 6/],
  ["(role=admin", /expected '\)' but found end of filter at position 12/],
  ["role=admin)", /unexpected '\)' at position 11/],
  ["role!admin", /unexpected '!' \(did you mean '!='\) at position 5/],
  ["a=1 AND", /expected a field name but found end of filter at position 8/],
  ["a=1 OR OR b=2", /expected a field name but found 'OR' at position 8/],
  ["1x=2", /invalid field name '1x' at position 1/],
];

for (const [input, message] of ERRORS) {
  test(`refuses ${JSON.stringify(input)} naming the position`, () => {
    assert.throws(
      () => parseFilter(input),
      (error: Error & { status?: string }) => {
        assert.equal(error.status, "INVALID_ARGUMENT");
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test("deep nesting and huge filters are refused, not recursed into", () => {
  assert.throws(() => parseFilter(`${"(".repeat(100)}a=1${")".repeat(100)}`), /too deeply nested/);
  assert.throws(() => parseFilter("a=1 ".repeat(1000)), /longer than/);
});
