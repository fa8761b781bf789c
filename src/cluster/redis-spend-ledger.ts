import { randomUUID } from "node:crypto";
import type { SpendDecision, SpendLedger, SpendRequest, SpendReservation } from "../domain/spend-ledger.ts";
import type { RedisClient } from "./redis-client.ts";

/** Counters outlive their month by a few days, then Redis forgets them. */
const COUNTER_TTL_MS = 40 * 86_400_000;

// KEYS: the month's spend counter, the account's reservations (a sorted set: member "id:amount",
// score its expiry). ARGV: now, limit, amount, expiry, id, the store's spend (seeds a missing counter).
// Returns {admitted, spent, reserved}.
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[6], 'PX', ${COUNTER_TTL_MS}) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local spent = tonumber(redis.call('GET', KEYS[1]))
local reserved = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do reserved = reserved + tonumber(string.match(m, ':(%d+)$')) end
if spent + reserved >= tonumber(ARGV[2]) then return {0, tostring(spent), tostring(reserved)} end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5] .. ':' .. ARGV[3])
local keep = tonumber(ARGV[4]) - tonumber(ARGV[1])
if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
return {1, tostring(spent), tostring(reserved)}
`;

// KEYS: the month's counter, the reservations. ARGV: member, cost. A missing counter is left
// missing: the next call seeds it from the store, which already holds this cost.
const SETTLE = `
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[2]) end
return 1
`;

const counterKey = (accountId: string, month: string) => `hearth:spend:${accountId}:${month}`;
const heldKey = (accountId: string) => `hearth:spend-held:${accountId}`;
const member = (r: SpendReservation) => `${r.id}:${r.amountNano}`;

/**
 * Spend reservations shared through Redis: one script checks the month's counter plus the live
 * reservations against the limit and adds the reservation, so processes admit one at a time.
 * `settle` runs after the store has the metered cost and moves it into the counter. `rebuild`
 * (at start) sets the counters from the store, so a call metered by a process that died before
 * it could settle is counted again.
 */
export class RedisSpendLedger implements SpendLedger {
  private readonly client: RedisClient;

  constructor(client: RedisClient) {
    this.client = client;
  }

  /** Sets each account's counter of `month` to its metered spend in the store (nano-dollars). */
  async rebuild(month: string, spentByAccount: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all([...spentByAccount].map(([accountId, spent]) => this.client.set(counterKey(accountId, month), String(spent), { PX: COUNTER_TTL_MS })));
  }

  async reserve(r: SpendRequest): Promise<SpendDecision> {
    const id = randomUUID();
    const [admitted, spent, reserved] = (await this.client.eval(RESERVE, {
      keys: [counterKey(r.accountId, r.month), heldKey(r.accountId)],
      arguments: [String(r.now), String(r.limitNano), String(r.amountNano), String(r.expireTime), id, String(r.spentNano)],
    })) as [number, string, string];
    if (admitted === 1) return { allowed: true, reservation: { accountId: r.accountId, id, amountNano: r.amountNano } };
    return { allowed: false, spentNano: Number(spent), reservedNano: Number(reserved) };
  }

  async settle(reservation: SpendReservation, costNano: number, month: string): Promise<void> {
    await this.client.eval(SETTLE, {
      keys: [counterKey(reservation.accountId, month), heldKey(reservation.accountId)],
      arguments: [member(reservation), String(costNano)],
    });
  }

  async release(reservation: SpendReservation): Promise<void> {
    await this.client.zRem(heldKey(reservation.accountId), member(reservation));
  }
}
