import autocannon from "autocannon";

/** HTTP load from this process with autocannon, reduced to the figures the table needs. */
export interface LoadResult {
  /** Completed 2xx responses per second. */
  perSecond: number;
  p50: number;
  p99: number;
  completed: number;
  failed: number;
  /** CPU time the server spent per completed request, in microseconds (when a server process was given). */
  cpuMicros: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds?: number;
  /** Stop after this many requests instead of after a duration. */
  amount?: number;
  requests: autocannon.Request[];
  /** The server's CPU clock, read before and after the load. */
  serverCpuSeconds?: () => number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = options.serverCpuSeconds?.() ?? NaN;
  const started = performance.now();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
    requests: options.requests,
    timeout: 30,
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = (options.serverCpuSeconds?.() ?? NaN) - cpuBefore;
  const ok = result["2xx"];
  return {
    perSecond: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed: ok,
    failed: result.non2xx + result.errors + result.timeouts,
    cpuMicros: (cpu / ok) * 1e6,
  };
}

/** A GET that sends the next key of `keys` (round robin) with each request. */
export function rotatingBearer(path: string, keys: readonly string[]): autocannon.Request[] {
  let i = 0;
  return [
    {
      method: "GET",
      path,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${keys[i++ % keys.length]}` } }),
    },
  ];
}
