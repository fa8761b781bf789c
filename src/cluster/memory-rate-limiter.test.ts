import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryRateLimiter } from "./memory-rate-limiter.ts";

const MINUTE = 60_000;

test("a fresh window admits exactly the limit; a refusal takes nothing", async () => {
  const limiter = new MemoryRateLimiter();
  const t = 10 * MINUTE;
  for (let i = 0; i < 5; i++) assert.equal((await limiter.take("acct", 5, t)).allowed, true);
  const refused = await limiter.take("acct", 5, t);
  assert.deepEqual(refused, { allowed: false, limit: 5, remaining: 0, retryAfterMs: MINUTE });
  assert.equal(await limiter.used("acct", t), 5);
  assert.equal((await limiter.take("other", 5, t)).remaining, 4, "accounts are counted apart");
});

test("the previous minute still counts for the part of it that overlaps the last 60 seconds", async () => {
  const limiter = new MemoryRateLimiter();
  const t = 10 * MINUTE;
  for (let i = 0; i < 10; i++) await limiter.take("acct", 10, t + 59_000);
  // A quarter into the next minute, 75% of the 10 still count: 2 more fit.
  const next = t + MINUTE + MINUTE / 4;
  assert.equal((await limiter.take("acct", 10, next)).allowed, true);
  assert.equal((await limiter.take("acct", 10, next)).allowed, true);
  assert.equal((await limiter.take("acct", 10, next)).allowed, false);
  // Two minutes later nothing of it is left.
  assert.equal((await limiter.take("acct", 10, t + 3 * MINUTE)).remaining, 9);
});
