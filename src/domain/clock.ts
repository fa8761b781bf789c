/**
 * The time as the server sees it, in epoch milliseconds. Production uses `systemClock`; tests hand
 * `createHearth` a `ManualClock` to move time on (key rotation grace, expiry notices) without sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that starts at the real time plus `offsetMs` and moves only by `advance` (tests). */
export class ManualClock implements Clock {
  private offsetMs = 0;
  /** Moves the clock on by `ms` milliseconds. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  now(): number {
    return Date.now() + this.offsetMs;
  }
}
