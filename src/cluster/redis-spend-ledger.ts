import { randomUUID } from "node:crypto";
import { monthStartDay } from "../domain/pricing.ts";
import {
  accountScope,
  keyScope,
  type MeteredCall,
  type SpendDecision,
  type SpendLedger,
  type SpendRequest,
  type SpendReservation,
} from "../domain/spend-ledger.ts";
import type { Store } from "../store/store.ts";
import { spendByAccountSince, spendByKeySince } from "../store/usage.ts";
import { RedisScript, type RedisClient } from "./redis-client.ts";
import { writeMeteredUsage } from "./metered-usage.ts";
import { scopeSpendOf, scopesOf } from "./spend-scopes.ts";

/** Counters outlive their month by a few days, then Redis forgets them. */
const COUNTER_TTL_MS = 40 * 86_400_000;

// KEYS: per scope, its month's spend counter then its reservations (a sorted set: member
// "id:amount", score its expiry). ARGV: now, amount, expiry, id, then each scope's limit.
// Returns {0, i} when scope i has no counter (seed it and retry), {1} when admitted, else
// {2, i, spent, reserved} for the scope i that refused. Nothing is held unless every scope has room.
const RESERVE = new RedisScript(`
local n = #KEYS / 2
for i = 1, n do
  if redis.call('EXISTS', KEYS[2 * i - 1]) == 0 then return {0, i} end
end
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', ARGV[1])
  local spent = tonumber(redis.call('GET', KEYS[2 * i - 1]))
  local reserved = 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2 * i], 0, -1)) do reserved = reserved + tonumber(string.match(m, ':(%d+)$')) end
  if spent + reserved >= tonumber(ARGV[4 + i]) then return {2, i, tostring(spent), tostring(reserved)} end
end
local keep = tonumber(ARGV[3]) - tonumber(ARGV[1])
for i = 1, n do
  redis.call('ZADD', KEYS[2 * i], ARGV[3], ARGV[4] .. ':' .. ARGV[2])
  if redis.call('PTTL', KEYS[2 * i]) < keep then redis.call('PEXPIRE', KEYS[2 * i], keep) end
end
return {1}
`);

// KEYS: a counter. ARGV: the store's spend. Sets it only when missing (a concurrent seed wins).
const SEED = new RedisScript(`return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ${COUNTER_TTL_MS})`);

// Settles a batch of calls. KEYS: per call, the counters to add its cost to, then its reservation
// sets. ARGV: per call, four values: cost, reservation member, number of counters, number of sets.
// A missing counter is left missing: its seed reads the store, which already holds this cost.
const SETTLE = new RedisScript(`
local k = 1
for a = 1, #ARGV, 4 do
  local cost, member = ARGV[a], ARGV[a + 1]
  for i = 1, tonumber(ARGV[a + 2]) do
    if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('INCRBY', KEYS[k], cost) end
    k = k + 1
  end
  for i = 1, tonumber(ARGV[a + 3]) do
    redis.call('ZREM', KEYS[k], member)
    k = k + 1
  end
end
return 1
`);

/** Calls settled by one run of SETTLE: a batch of many runs as a few scripts, none holding Redis long. */
const SETTLE_CHUNK = 256;

// KEYS: reservation sets. ARGV: the member now, the member grown. The expiry (score) is kept.
const GROW = new RedisScript(`
for i = 1, #KEYS do
  local expiry = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if expiry then
    redis.call('ZREM', KEYS[i], ARGV[1])
    redis.call('ZADD', KEYS[i], expiry, ARGV[2])
  end
end
return 1
`);

// KEYS: reservation sets. ARGV: the member, its new expiry, how long the sets must live (ms). Only
// a member still held is moved (XX), so a settled or lapsed reservation stays gone.
const RENEW = new RedisScript(`
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], ARGV[1]) then
    redis.call('ZADD', KEYS[i], 'XX', 'GT', ARGV[2], ARGV[1])
    if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
  end
end
return 1
`);

const counterKey = (scope: string, month: string) => `hearth:spend:${scope}:${month}`;
const heldKey = (scope: string) => `hearth:spend-held:${scope}`;
const member = (r: SpendReservation) => `${r.id}:${r.amountNano}`;

/**
 * Spend reservations shared through Redis: one script checks, for every scope of the call, the
 * month's counter plus the live reservations against the limit and holds the reservation in all,
 * so processes admit one at a time in one round trip. `commit` writes the usage to the store, then
 * moves each cost into the counters. `rebuild` (at start) sets the counters from the store, so a
 * call metered by a process that died before it could settle is counted again; a counter that is
 * missing (Redis restarted) is seeded from the store by the call that finds it so.
 */
export class RedisSpendLedger implements SpendLedger {
  private readonly client: RedisClient;
  private readonly store: Store;

  constructor(client: RedisClient, store: Store) {
    this.client = client;
    this.store = store;
  }

  /** Sets each account's and key's counter of `month` to its metered spend in the store (nano-dollars). */
  async rebuild(month: string): Promise<void> {
    const scopes = [
      ...[...(await spendByAccountSince(this.store.db, month))].map(([id, spent]) => [accountScope(id), spent] as const),
      ...[...(await spendByKeySince(this.store.db, month))].map(([id, spent]) => [keyScope(id), spent] as const),
    ];
    await Promise.all(scopes.map(([scope, spent]) => this.client.set(counterKey(scope, month), String(spent), { PX: COUNTER_TTL_MS })));
  }

  async reserve(r: SpendRequest): Promise<SpendDecision> {
    const id = randomUUID();
    const keys = r.scopes.flatMap((s) => [counterKey(s.scope, r.month), heldKey(s.scope)]);
    const args = [String(r.now), String(r.amountNano), String(r.expireTime), id, ...r.scopes.map((s) => String(s.limitNano))];
    for (let attempt = 1; ; attempt++) {
      const answer = (await RESERVE.run(this.client, keys, args)) as [number, number?, string?, string?];
      if (answer[0] === 1) return { allowed: true, reservation: { id, scopes: r.scopes.map((s) => s.scope), amountNano: r.amountNano, month: r.month } };
      const s = r.scopes[answer[1]! - 1]!;
      if (answer[0] === 2) return { allowed: false, scope: s.scope, limitNano: s.limitNano, spentNano: Number(answer[2]), reservedNano: Number(answer[3]) };
      if (attempt > r.scopes.length + 1) throw new Error(`the spend counter of ${s.scope} keeps disappearing from Redis (evicted?)`);
      await SEED.run(this.client, [counterKey(s.scope, r.month)], [String(await scopeSpendOf(this.store.db, s.scope, r.month))]);
    }
  }

  async commit(calls: MeteredCall[]): Promise<void> {
    await writeMeteredUsage(this.store, calls);
    // One script per chunk of calls, all sent at once (node-redis pipelines them). The usage is
    // stored: a failure here must not fail the commit (it would be written again). The counters miss
    // these costs until the next start rebuilds them; the reservations lapse.
    const runs: Array<Promise<unknown>> = [];
    for (let from = 0; from < calls.length; from += SETTLE_CHUNK) {
      const keys: string[] = [];
      const args: string[] = [];
      for (const call of calls.slice(from, from + SETTLE_CHUNK)) {
        const month = monthStartDay(Date.parse(call.day));
        const counters = scopesOf(call).map((scope) => counterKey(scope, month));
        const held = call.reservation ? call.reservation.scopes.map(heldKey) : [];
        keys.push(...counters, ...held);
        args.push(String(call.costNano), call.reservation ? member(call.reservation) : "", String(counters.length), String(held.length));
      }
      runs.push(SETTLE.run(this.client, keys, args));
    }
    await Promise.allSettled(runs);
  }

  async grow(reservation: SpendReservation, amountNano: number): Promise<void> {
    const before = member(reservation);
    reservation.amountNano = amountNano;
    await GROW.run(this.client, reservation.scopes.map(heldKey), [before, member(reservation)]);
  }

  async release(reservation: SpendReservation): Promise<void> {
    await Promise.all(reservation.scopes.map((scope) => this.client.zRem(heldKey(scope), member(reservation))));
  }
  async renew(reservation: SpendReservation, expireTime: number): Promise<void> {
    const keep = String(Math.max(1, expireTime - Date.now()));
    await RENEW.run(this.client, reservation.scopes.map(heldKey), [member(reservation), String(expireTime), keep]);
  }
}
