import { RedisScript, type RedisClient } from "./redis-client.ts";
import type { RateLimiter } from "../domain/rate-limiter.ts";
import type { RateDecision } from "../domain/sliding-window.ts";
import { decide, estimate, WINDOW_MS, windowStart } from "../domain/sliding-window.ts";

type Client = RedisClient;

// Atomic check-and-count: the same estimate as sliding-window.ts, evaluated inside Redis so that
// requests from any number of processes are admitted one at a time. ARGV: now, window start, window
// length, limit, amount. Returns {counted, current, previous}.
const TAKE = new RedisScript(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local now, start, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local count = previous * (1 - (now - start) / window) + current
local amount = tonumber(ARGV[5])
if count + amount > limit then return {0, current, previous} end
redis.call('INCRBY', KEYS[1], amount)
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, current, previous}
`);

// KEYS: one window's counter. ARGV: delta. A window already expired stays gone.
const ADJUST = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  local left = redis.call('INCRBY', KEYS[1], ARGV[1])
  if left < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
end
return 1
`);

export class RedisRateLimiter implements RateLimiter {
  private readonly client: Client;

  constructor(client: Client) {
    this.client = client;
  }

  private keys(key: string, start: number): [string, string] {
    return [`hearth:rpm:${key}:${start}`, `hearth:rpm:${key}:${start - WINDOW_MS}`];
  }

  async take(key: string, limit: number, now = Date.now(), amount = 1): Promise<RateDecision> {
    const start = windowStart(now);
    const [counted, current, previous] = (await TAKE.run(this.client, this.keys(key, start), [
      String(now),
      String(start),
      String(WINDOW_MS),
      String(limit),
      String(amount),
    ])) as [number, number, number];
    const decision = decide(previous, current, start, now, limit, amount);
    // The script's verdict stands, whatever rounding says.
    if (counted === 1) return decision.allowed ? decision : { allowed: true, limit, remaining: 0, retryAfterMs: 0 };
    return { ...decision, allowed: false, remaining: 0, retryAfterMs: Math.max(1, decision.retryAfterMs) };
  }

  async adjust(key: string, delta: number, at: number): Promise<void> {
    await ADJUST.run(this.client, [this.keys(key, windowStart(at))[0]], [String(delta)]);
  }

  async used(key: string, now = Date.now()): Promise<number> {
    const start = windowStart(now);
    const [current, previous] = await this.client.mGet(this.keys(key, start));
    return Math.ceil(estimate(Number(previous ?? 0), Number(current ?? 0), start, now));
  }
}
