/** Small numeric functions shared by the items: percentiles, rates, formatting. */

/** The p-th percentile (0–100) of the samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** 12345.6 → "12,346". */
export const count = (n: number): string => Math.round(n).toLocaleString("en-US");

/** A rate: "12,346/s". */
export const perSecond = (n: number): string => `${count(n)}/s`;

/** A rate per CPU-second with the wall-clock rate beside it. */
export const perCpuSecond = (r: { perSecond: number; perCpuSecond: number }): string => `${count(r.perCpuSecond)}/CPU-s (wall ${count(r.perSecond)}/s)`;

/** Milliseconds with a precision that suits the size. */
export function ms(n: number): string {
  if (!Number.isFinite(n)) return "—";
  return n < 1 ? `${n.toFixed(3)} ms` : n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

/** Microseconds, whole. */
export const micros = (n: number): string => (Number.isFinite(n) ? `${count(n)} µs` : "—");

export const ratio = (n: number): string => (Number.isFinite(n) ? (n >= 100 ? `${count(n)}×` : `${n.toFixed(2)}×`) : "—");

export const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export interface Rate {
  /** Calls per second of wall-clock time. */
  perSecond: number;
  /**
   * Calls per second of this process's CPU time (user + system): what one core does when it is
   * not shared, and barely moved by other work on the machine.
   */
  perCpuSecond: number;
  calls: number;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs `fn` repeatedly for about `seconds`, awaiting each call. */
export async function rateOver(seconds: number, fn: (i: number) => unknown): Promise<Rate> {
  const start = performance.now();
  const cpu = cpuSeconds();
  const end = start + seconds * 1000;
  let calls = 0;
  // Check the clock every 256 calls so the loop measures the work, not performance.now().
  while (true) {
    for (let j = 0; j < 256; j++) await fn(calls++);
    if (performance.now() >= end) break;
  }
  return { perSecond: calls / ((performance.now() - start) / 1000), perCpuSecond: calls / (cpuSeconds() - cpu), calls };
}

/** Like rateOver, for a synchronous function (no await per call). */
export function syncRateOver(seconds: number, fn: (i: number) => unknown): Rate {
  const start = performance.now();
  const cpu = cpuSeconds();
  const end = start + seconds * 1000;
  let calls = 0;
  while (true) {
    for (let j = 0; j < 4096; j++) fn(calls++);
    if (performance.now() >= end) break;
  }
  return { perSecond: calls / ((performance.now() - start) / 1000), perCpuSecond: calls / (cpuSeconds() - cpu), calls };
}

/** Latencies of `n` sequential awaited calls, in milliseconds. */
export async function latencies(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
