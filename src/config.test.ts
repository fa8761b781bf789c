import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "./config.ts";

test("a whole-number setting is read from decimal digits", () => {
  assert.equal(loadConfig({ HEARTH_PORT: "8081" }).port, 8081);
  assert.equal(loadConfig({ HEARTH_PORT: "0" }).port, 0);
  assert.equal(loadConfig({ HEARTH_BODY_LIMIT: "4096" }).bodyLimit, 4096);
  assert.equal(loadConfig({}).port, 8080, "unset: the default");
});

test("another spelling of a number (hex, binary, exponent, a space, a fraction) stops start-up naming the setting", () => {
  for (const value of ["0x1F90", "0b1", "1e3", " 8080", "8080 ", "8080.0", "+8080", "-0"]) {
    assert.throws(() => loadConfig({ HEARTH_PORT: value }), { message: "invalid configuration: HEARTH_PORT must be a whole number in decimal digits" }, value);
  }
  assert.throws(() => loadConfig({ HEARTH_BODY_LIMIT: "1e6" }), {
    message: /^invalid configuration: HEARTH_BODY_LIMIT must be a whole number in decimal digits$/,
  });
  assert.throws(() => loadConfig({ HEARTH_PORT: "99999" }), { message: /^invalid configuration: HEARTH_PORT must be at most 65535$/ });
  assert.throws(() => loadConfig({ HEARTH_BODY_LIMIT: "1000" }), { message: /^invalid configuration: HEARTH_BODY_LIMIT must be at least 1024$/ });
  assert.throws(() => loadConfig({ HEARTH_LOG_LEVEL: "loud" }), {
    message: /^invalid configuration: HEARTH_LOG_LEVEL must be one of "silent", "error", "warn", "info", "debug"$/,
  });
});
