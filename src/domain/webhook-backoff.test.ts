import assert from "node:assert/strict";
import { test } from "node:test";
import { nextAttemptTime, RETRY_WINDOW_MS } from "./webhook-backoff.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

test("retries double from the base delay, at most 6 hours apart, for a day, with a last attempt at the deadline", () => {
  const base = 30_000;
  const deadline = RETRY_WINDOW_MS;
  let now = 0;
  const gaps: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const next = nextAttemptTime(now, attempt, base, deadline);
    if (next === null) break;
    gaps.push(next - now);
    now = next;
  }
  assert.deepEqual(gaps.slice(0, 5), [30_000, MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE]);
  assert.ok(gaps.every((g) => g <= 6 * HOUR));
  assert.equal(now, deadline, "the last attempt is at the deadline, a day after the first");
  assert.equal(gaps.length, 13, "14 attempts in all");
});
