import assert from "node:assert/strict";
import { test } from "node:test";
import { monthStartDay, utcDay } from "./pricing.ts";

test("utcDay answers each instant's UTC day, also across day, month, year and leap-day edges in any order", () => {
  const instants = [
    0,
    86_399_999,
    86_400_000,
    -1,
    Date.UTC(2024, 1, 29, 12),
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1),
    Date.UTC(2026, 11, 31, 0, 0, 0, 1),
  ];
  for (const ms of [...instants, ...instants.toReversed(), ...instants]) assert.equal(utcDay(ms), new Date(ms).toISOString().slice(0, 10), String(ms));
  assert.equal(monthStartDay(Date.UTC(2026, 11, 31, 23, 59, 59, 999)), "2026-12-01");
  assert.equal(monthStartDay(Date.UTC(2027, 0, 1)), "2027-01-01");
});
