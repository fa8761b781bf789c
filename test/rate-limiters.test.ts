import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { PgRateLimiter } from "../src/cluster/pg-rate-limiter.ts";
import { newRedisClient, type RedisClient } from "../src/cluster/redis-client.ts";
import { RedisRateLimiter } from "../src/cluster/redis-rate-limiter.ts";
import { WINDOW_MS } from "../src/domain/sliding-window.ts";
import { MemoryRateLimiter } from "../src/cluster/memory-rate-limiter.ts";
import type { RateLimiter } from "../src/domain/rate-limiter.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { DIALECTS, freshDatabase } from "./support/hearth.ts";

/**
 * Every rate limiter, the same behaviour: exact admission under concurrency (two limiter instances
 * stand for two processes where the backend is shared), refusals that are not counted, and the
 * previous minute weighted into the next.
 */
interface Subject {
  name: string;
  /** Two limiters over one shared backend (one for memory: it is per process). */
  make(): Promise<{ limiters: RateLimiter[]; close(): Promise<void> }>;
}

const subjects: Subject[] = [{ name: "memory", make: async () => ({ limiters: [new MemoryRateLimiter()], close: async () => undefined }) }];
if (DIALECTS.includes("postgres")) {
  subjects.push({
    name: "PostgreSQL",
    make: async () => {
      const db = await freshDatabase("postgres");
      const stores: Store[] = [await openStore({ databaseUrl: db.env.DATABASE_URL }), await openStore({ databaseUrl: db.env.DATABASE_URL })];
      return {
        limiters: stores.map((s) => new PgRateLimiter(s)),
        close: async () => {
          await Promise.all(stores.map((s) => s.close()));
          await db.drop();
        },
      };
    },
  });
  subjects.push({
    name: "Redis",
    make: async () => {
      const clients: RedisClient[] = [newRedisClient("redis://127.0.0.1:6379"), newRedisClient("redis://127.0.0.1:6379")];
      await Promise.all(clients.map((c) => c.connect()));
      return { limiters: clients.map((c) => new RedisRateLimiter(c)), close: async () => void (await Promise.all(clients.map((c) => c.close()))) };
    },
  });
}

for (const subject of subjects) {
  describe(`${subject.name} rate limiter`, () => {
    let limiters: RateLimiter[];
    let close: () => Promise<void>;
    before(async () => {
      ({ limiters, close } = await subject.make());
    });
    after(() => close());
    const key = () => `test-${randomBytes(6).toString("hex")}`;
    // A fixed instant early in a minute, so no test straddles a window boundary.
    const T = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS + 1_000;

    test("50 concurrent requests against a limit of 20 admit exactly 20, over every instance", async () => {
      const k = key();
      const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => limiters[i % limiters.length]!.take(k, 20, T)));
      assert.equal(decisions.filter((d) => d.allowed).length, 20);
      for (const d of decisions.filter((x) => !x.allowed)) {
        assert.equal(d.remaining, 0);
        assert.ok(d.retryAfterMs > 0);
      }
      assert.equal(await limiters[0]!.used(k, T), 20, "refusals are not counted");
    });

    test("remaining counts down", async () => {
      const k = key();
      const first = await limiters[0]!.take(k, 3, T);
      const second = await limiters.at(-1)!.take(k, 3, T);
      assert.deepEqual([first.remaining, second.remaining], [2, 1]);
    });

    test("the previous minute weighs on the next in proportion to its overlap", async () => {
      const k = key();
      for (let i = 0; i < 10; i++) assert.ok((await limiters[0]!.take(k, 10, T)).allowed);
      // Halfway through the next minute, half of the previous minute's 10 still count.
      const half = T - 1_000 + WINDOW_MS + WINDOW_MS / 2;
      const admitted = (await Promise.all(Array.from({ length: 10 }, () => limiters.at(-1)!.take(k, 10, half)))).filter((d) => d.allowed).length;
      assert.equal(admitted, 5);
    });
  });
}

if (DIALECTS.includes("postgres")) {
  test("Redis: a script flushed from Redis' cache (a restart, SCRIPT FLUSH) is sent again, and its call still counts", async () => {
    const client: RedisClient = newRedisClient("redis://127.0.0.1:6379");
    await client.connect();
    try {
      const limiter = new RedisRateLimiter(client);
      const k = `test-${randomBytes(6).toString("hex")}`;
      assert.ok((await limiter.take(k, 2)).allowed);
      await client.scriptFlush();
      const second = await limiter.take(k, 2);
      assert.deepEqual([second.allowed, second.remaining], [true, 0]);
      assert.equal((await limiter.take(k, 2)).allowed, false);
      assert.equal(await limiter.used(k), 2);
    } finally {
      await client.close();
    }
  });
}
