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
  /** Share of the run the server was runnable but waiting for a CPU (when a server process was given). */
  waitShare: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds?: number;
  /** Stop after this many requests instead of after a duration. */
  amount?: number;
  requests: autocannon.Request[];
  /** The server process, whose CPU time and run-queue wait are read before and after the load. */
  server?: { cpuSeconds(): number; waitSeconds(): number };
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = options.server?.cpuSeconds() ?? NaN;
  const waitBefore = options.server?.waitSeconds() ?? NaN;
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
  const cpu = (options.server?.cpuSeconds() ?? NaN) - cpuBefore;
  const wait = (options.server?.waitSeconds() ?? NaN) - waitBefore;
  const ok = result["2xx"];
  return {
    perSecond: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed: ok,
    failed: result.non2xx + result.errors + result.timeouts,
    cpuMicros: (cpu / ok) * 1e6,
    waitShare: wait / seconds,
  };
}

/** A GET that sends the next key of `keys` (round robin) with each request. */
export function rotatingBearer(path: string, keys: readonly string[]): autocannon.Request[] {
  return rotatingHeader(
    path,
    "authorization",
    keys.map((k) => `Bearer ${k}`),
  );
}

/** A GET that sends the next of `values` (round robin) in header `name` with each request. */
export function rotatingHeader(path: string, name: string, values: readonly string[]): autocannon.Request[] {
  let i = 0;
  return [
    {
      method: "GET",
      path,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, [name]: values[i++ % values.length]! } }),
    },
  ];
}
