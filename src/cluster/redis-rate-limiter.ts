import type { RedisClient } from "./redis-client.ts";
import type { RateLimiter } from "../domain/rate-limiter.ts";
import type { RateDecision } from "../domain/sliding-window.ts";
import { decide, estimate, WINDOW_MS, windowStart } from "../domain/sliding-window.ts";

type Client = RedisClient;

// Atomic check-and-count: the same estimate as sliding-window.ts, evaluated inside Redis so that
// requests from any number of processes are admitted one at a time. Returns {counted, current, previous}.
const TAKE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local now, start, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local count = previous * (1 - (now - start) / window) + current
if count + 1 > limit then return {0, current, previous} end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, current, previous}
`;

export class RedisRateLimiter implements RateLimiter {
  private readonly client: Client;

  constructor(client: Client) {
    this.client = client;
  }

  private keys(key: string, start: number): [string, string] {
    return [`hearth:rpm:${key}:${start}`, `hearth:rpm:${key}:${start - WINDOW_MS}`];
  }

  async take(key: string, limit: number, now = Date.now()): Promise<RateDecision> {
    const start = windowStart(now);
    const [, current, previous] = (await this.client.eval(TAKE, {
      keys: this.keys(key, start),
      arguments: [String(now), String(start), String(WINDOW_MS), String(limit)],
    })) as [number, number, number];
    return decide(previous, current, start, now, limit);
  }

  async used(key: string, now = Date.now()): Promise<number> {
    const start = windowStart(now);
    const [current, previous] = await this.client.mGet(this.keys(key, start));
    return Math.ceil(estimate(Number(previous ?? 0), Number(current ?? 0), start, now));
  }
}
