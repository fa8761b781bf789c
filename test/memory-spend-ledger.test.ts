import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MemorySpendLedger } from "../src/cluster/memory-spend-ledger.ts";
import { accountScope, type SpendDecision, type SpendReservation } from "../src/domain/spend-ledger.ts";
import { openStore } from "../src/store/store.ts";

const MONTH = "2026-12-01";
const scope = accountScope("acme");

function reservationOf(decision: SpendDecision): SpendReservation {
  assert.equal(decision.allowed, true, JSON.stringify(decision));
  return (decision as { reservation: SpendReservation }).reservation;
}

/** What the scope holds at `now`: a request against a limit of 0 is always refused, and its refusal says. */
async function heldIn(ledger: MemorySpendLedger, now: number): Promise<number> {
  const d = await ledger.reserve({ scopes: [{ scope, limitNano: 0 }], amountNano: 1, month: MONTH, expireTime: now + 60_000, now });
  assert.equal(d.allowed, false);
  return (d as { reservedNano: number }).reservedNano;
}

/** Runs `check` against a fresh ledger over a fresh SQLite store, then removes the store. */
async function withLedger(check: (ledger: MemorySpendLedger) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-ledger-"));
  const store = await openStore({ dataDir });
  try {
    await check(new MemorySpendLedger(store));
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test("the single-process spend ledger counts what is held as reservations come, grow, go and lapse", () =>
  withLedger(async (ledger) => {
    const now = 1_000_000;
    const reserve = (amountNano: number, expireTime: number, at = now) =>
      ledger.reserve({ scopes: [{ scope, limitNano: 1_000 }], amountNano, month: MONTH, expireTime, now: at });

    const held = (at = now) => heldIn(ledger, at);

    const a = reservationOf(await reserve(400, now + 60_000));
    const lapsing = reservationOf(await reserve(300, now + 10));
    // 700 held of 1,000: still room, so a third is admitted and takes the scope past its limit.
    reservationOf(await reserve(400, now + 60_000));
    assert.deepEqual(await reserve(1, now + 60_000), { allowed: false, scope, limitNano: 1_000, spentNano: 0, reservedNano: 1_100 });

    await ledger.release(a);
    assert.equal(await held(), 700);

    // Past its expiry, the reservation whose process never settled it no longer counts.
    const later = now + 20;
    assert.equal(await held(later), 400);
    const b = reservationOf(await reserve(100, later + 60_000, later));
    assert.equal(await held(later), 500);
    await ledger.release(lapsing); // settling a lapsed reservation later takes nothing off twice
    assert.equal(await held(later), 500);

    await ledger.grow(b, 250);
    assert.equal(await held(later), 650);
    await ledger.release(b);
    await ledger.release(b); // releasing twice takes nothing off twice
    assert.equal(await held(later), 400);
  }));

test("a reservation grown past 2^53 nano-dollars (a backend reporting huge usage) and then released takes nothing else held with it", () =>
  withLedger(async (ledger) => {
    const now = 1_000_000;
    reservationOf(await ledger.reserve({ scopes: [{ scope, limitNano: 1_000 }], amountNano: 400, month: MONTH, expireTime: now + 60_000, now }));
    const big = reservationOf(await ledger.reserve({ scopes: [{ scope, limitNano: 1_000 }], amountNano: 100, month: MONTH, expireTime: now + 60_000, now }));
    // The call ended costing more than it reserved: its reservation grows to the cost. The ledger
    // must stay exact whatever it is asked, although relay.ts caps a growth at 2^53 - 1.
    await ledger.grow(big, 2 ** 60);
    await ledger.release(big);
    assert.equal(await heldIn(ledger, now), 400, "the 400 still held must still count");
    // With it lost, a call against a 300 limit is admitted although 400 is held.
    const d = await ledger.reserve({ scopes: [{ scope, limitNano: 300 }], amountNano: 1, month: MONTH, expireTime: now + 60_000, now });
    assert.equal(d.allowed, false);
  }));
