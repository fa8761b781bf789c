/**
 * Failed authentications per client address. The credential is always checked first: a good one
 * is served whatever the address did before, so junk sent from a shared address (NAT, a proxy's
 * `auth_request`) cannot lock its other users out. Past `slowAfter` failures in a window each
 * further failure is answered more slowly; past `blockAfter` a failure is answered 429 until the
 * window ends. Refusals are audited in aggregate: the first few attempts on an account one by
 * one, the rest as one summary entry per address and window, so a flood cannot flood the audit log.
 *
 * A check that costs a call to someone else (a refresh at the identity provider) cannot wait to
 * learn whether it fails: `attempt` counts every such call under its own key before it is made.
 */
export interface ThrottleOptions {
  slowAfter: number;
  blockAfter: number;
  windowMs: number;
}

/** How many refused attempts per address, account and window are audited one by one. */
const AUDITED_ONE_BY_ONE = 3;
const MAX_ADDRESSES = 100_000;
const MAX_DELAY_MS = 2_000;

interface Window {
  start: number;
  failures: number;
  /** Attempts per account not audited one by one, summarised when the window closes. */
  suppressed: Map<string, number>;
  audited: Map<string, number>;
}

export interface Summary {
  accountId: string;
  clientIp: string;
  suppressed: number;
  windowStart: number;
}

export class AuthThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly options: ThrottleOptions;
  private readonly onSummary: (s: Summary) => Promise<void>;
  private readonly writing = new Set<Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: ThrottleOptions, onSummary: (s: Summary) => Promise<void>) {
    this.options = options;
    this.onSummary = onSummary;
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(100, options.windowMs / 2)).unref();
  }

  private current(ip: string, now: number): Window | undefined {
    const w = this.windows.get(ip);
    if (w && now - w.start >= this.options.windowMs) {
      this.close(ip, w);
      return undefined;
    }
    return w;
  }

  private close(ip: string, w: Window): void {
    this.windows.delete(ip);
    for (const [accountId, suppressed] of w.suppressed) {
      const write = this.onSummary({ accountId, clientIp: ip, suppressed, windowStart: w.start }).finally(() => this.writing.delete(write));
      this.writing.add(write);
    }
  }

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  blockedFor(ip: string, now: number = Date.now()): number {
    const w = this.current(ip, now);
    if (!w || w.failures < this.options.blockAfter) return 0;
    return Math.ceil((w.start + this.options.windowMs - now) / 1000);
  }

  /**
   * Records a failure; returns whether this attempt on `accountId` should be audited one by one,
   * and how long to hold the answer.
   */
  fail(ip: string, accountId: string | undefined, now: number = Date.now()): { audit: boolean; delayMs: number } {
    let w = this.current(ip, now);
    if (!w) {
      if (this.windows.size >= MAX_ADDRESSES) {
        const [oldestIp, oldest] = this.windows.entries().next().value!;
        this.close(oldestIp, oldest);
      }
      w = { start: now, failures: 0, suppressed: new Map(), audited: new Map() };
      this.windows.set(ip, w);
    }
    w.failures++;
    let audit = false;
    if (accountId !== undefined) {
      const audited = w.audited.get(accountId) ?? 0;
      if (audited < AUDITED_ONE_BY_ONE) {
        w.audited.set(accountId, audited + 1);
        audit = true;
      } else {
        w.suppressed.set(accountId, (w.suppressed.get(accountId) ?? 0) + 1);
      }
    }
    const over = w.failures - this.options.slowAfter;
    return { audit, delayMs: over > 0 ? Math.min(over * 100, MAX_DELAY_MS) : 0 };
  }

  /**
   * Counts an attempt under `key` (e.g. an address and an identity provider) before it is made:
   * `retryAfter` seconds > 0 when the key is over `blockAfter` in this window (the attempt is not
   * made, nor counted), else how long to hold it. Checking and counting are one step, so attempts
   * racing each other cannot all slip under the limit.
   */
  attempt(key: string, now: number = Date.now()): { retryAfter: number; delayMs: number } {
    const retryAfter = this.blockedFor(key, now);
    if (retryAfter > 0) return { retryAfter, delayMs: 0 };
    return { retryAfter: 0, delayMs: this.fail(key, undefined, now).delayMs };
  }

  /** Closes every window that has ended (and, with `all`, every window): summaries are emitted. */
  sweep(now: number, all = false): void {
    for (const [ip, w] of this.windows) {
      if (all || now - w.start >= this.options.windowMs) this.close(ip, w);
    }
  }

  /** Stops sweeping and writes the summaries of every open window. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweep(Date.now(), true);
    await Promise.all(this.writing);
  }
}
