import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { MemorySpendLedger } from "../src/cluster/memory-spend-ledger.ts";
import { PgSpendLedger } from "../src/cluster/pg-spend-ledger.ts";
import { accountScope, type SpendLedger, type SpendReservation } from "../src/domain/spend-ledger.ts";
import { keepHeld, type Admission } from "../src/gateway/inference.ts";
import { monthStartDay } from "../src/domain/pricing.ts";
import { CLUSTER_MODES } from "./support/cluster-modes.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * A long stream keeps its spend held. A reservation lapses its backend's time-out plus a minute
 * after admission, for a process that died before settling it; a stream that was still running
 * then lost its hold, and with three $1 streams alive past that, a $3 key limit admitted three more
 * calls ($6 metered). Now every sign of life from the backend renews the hold (`keepHeld`, at most
 * once per half its lifetime), in each ledger: process memory, PostgreSQL, Redis.
 */
const MODES: Array<{ name: string; dialect: "sqlite" | "postgres"; env: Record<string, string> }> = [
  { name: "process memory", dialect: "sqlite", env: {} },
  ...CLUSTER_MODES.map((m) => ({ name: m.name, dialect: "postgres" as const, env: m.env })),
];

/**
 * A fresh ledger of the kind `h` runs with: a PostgreSQL ledger sweeps lapsed holds at most once a
 * minute of the times it is given, so each test's times start from its own first sweep (the times
 * below are a minute or more apart for that reason).
 */
function freshLedger(h: TestHearth): SpendLedger {
  const running = h.deps.cluster.spendLedger;
  if (running instanceof MemorySpendLedger) return new MemorySpendLedger(h.deps.store);
  if (running instanceof PgSpendLedger) return new PgSpendLedger(h.deps.store);
  return running; // Redis: lapsed holds go at every admission, in its script.
}

for (const mode of MODES) {
  describe(`spend reservations of living calls are renewed (${mode.name})`, () => {
    let h: TestHearth;
    let ledger: SpendLedger;
    before(async () => {
      h = await startHearth(mode.dialect, mode.env);
    });
    after(() => h.stop());

    const month = monthStartDay(Date.now());
    /** What `scope` holds at `now`: a request against a limit of 0 is always refused, and says. */
    const heldIn = async (scope: string, now: number): Promise<number> => {
      const d = await ledger.reserve({ scopes: [{ scope, limitNano: 0 }], amountNano: 1, month, expireTime: now + 1, now });
      assert.equal(d.allowed, false);
      return (d as { reservedNano: number }).reservedNano;
    };
    const reserve = async (scope: string, amountNano: number, expireTime: number, now: number): Promise<SpendReservation> => {
      const d = await ledger.reserve({ scopes: [{ scope, limitNano: 1_000_000 }], amountNano, month, expireTime, now });
      assert.equal(d.allowed, true, JSON.stringify(d));
      return (d as { reservation: SpendReservation }).reservation;
    };

    test("a renewed reservation counts past its first expiry; one never renewed lapses; a released one stays gone", async () => {
      ledger = freshLedger(h);
      const scope = accountScope(`renew-${randomUUID()}`);
      const now = Date.now();
      const living = await reserve(scope, 600, now + 1_000, now);
      const dead = await reserve(scope, 300, now + 1_000, now);
      await ledger.renew(living, now + 1_000_000);
      assert.equal(await heldIn(scope, now + 100_000), 600, "the renewed one holds, the other lapsed");
      await ledger.release(living);
      await ledger.renew(living, now + 2_000_000);
      await ledger.renew(dead, now + 2_000_000);
      assert.equal(await heldIn(scope, now + 200_000), 0, "renewing what was released or lapsed holds nothing");
    });

    test("a renewal never shortens a hold", async () => {
      ledger = freshLedger(h);
      const scope = accountScope(`renew-${randomUUID()}`);
      const now = Date.now();
      const r = await reserve(scope, 500, now + 1_000_000, now);
      await ledger.renew(r, now + 1_000);
      assert.equal(await heldIn(scope, now + 100_000), 500);
      await ledger.release(r);
    });

    test("keepHeld renews at most every 30 s, each time to the hold's whole lifetime from the sign of life", async () => {
      ledger = freshLedger(h);
      const scope = accountScope(`renew-${randomUUID()}`);
      const t0 = Date.now();
      const holdMs = 100_000;
      const reservation = await reserve(scope, 700, t0 + holdMs, t0);
      const admission: Admission = { headers: {}, reservation, tokens: undefined, holdMs, renewAt: t0 + holdMs / 2 };
      const failures: unknown[] = [];
      keepHeld(ledger, admission, t0 + 10_000, (e) => failures.push(e));
      assert.equal(admission.renewAt, t0 + holdMs / 2, "too early: nothing renewed");
      keepHeld(ledger, admission, t0 + 60_000, (e) => failures.push(e));
      assert.equal(admission.renewAt, t0 + 90_000, "the next renewal is due within the grace minute, whatever the time-out");
      await new Promise((r) => setTimeout(r, 200)); // the renewal is not awaited by the stream
      assert.equal(await heldIn(scope, t0 + 120_000), 700, "held past the first expiry (t0 + 100 s)");
      assert.equal(await heldIn(scope, t0 + 190_000), 0, "and lapses once the call stops showing life (t0 + 160 s)");
      assert.deepEqual(failures, []);
    });
  });
}
