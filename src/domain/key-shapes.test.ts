import assert from "node:assert/strict";
import { test } from "node:test";
import { mistyped } from "../../test/support/fixtures.ts";
import { generateKey } from "./api-key-format.ts";
import { invalidArgument } from "./errors.ts";
import { withoutKeys } from "./key-shapes.ts";

test("an error message never quotes an API key, whole, mistyped or under another prefix", () => {
  const { key } = generateKey("hk_");
  const other = generateKey("fw_").key;
  for (const value of [key, mistyped(key), key.slice(0, 24), other]) {
    const error = invalidArgument(`invalid keyId "${value}": use 1-63 lowercase letters`);
    assert.ok(!error.message.includes(value.slice(3)), error.message);
    assert.match(error.message, /invalid keyId "[a-z]+_\[redacted\]": use/);
  }
});

test("ordinary text is left alone: ids, emails, snake_case names, short runs after an underscore", () => {
  for (const text of ['unknown field "expire_time" in apiKey', 'invalid userId "a--b-"', 'quota "api-keys-per-user" exceeded', "x_1234567890123456789"]) {
    assert.equal(withoutKeys(text), text);
  }
});
