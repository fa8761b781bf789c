import { Agent, request } from "node:http";
import { percentile } from "./stats.ts";

/**
 * An open-loop load generator: requests leave at a fixed rate whatever the server's answers do
 * (a closed loop like autocannon's waits for each answer, hiding queueing), and each one is timed
 * with `process.hrtime` from the moment it is sent until its last body byte, at microsecond
 * resolution (autocannon rounds latencies to whole milliseconds).
 */
export interface OpenLoopOptions {
  url: string;
  /** Requests per second to send. */
  rate: number;
  seconds: number;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

export interface OpenLoopResult {
  /** Latency percentiles, in milliseconds. */
  p50: number;
  p99: number;
  /** Requests sent and answered 2xx, and those that were not. */
  completed: number;
  failed: number;
  /** The failures by status code (`error` for a connection error). */
  failures: Record<string, number>;
  /** Requests actually sent per second (below `rate` when this process fell behind). */
  sentPerSecond: number;
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const total = Math.max(1, Math.round(o.rate * o.seconds));
  const intervalNs = 1e9 / o.rate;
  const latencies: number[] = [];
  let failed = 0;
  const failures: Record<string, number> = {};
  const fail = (why: string) => {
    failed++;
    failures[why] = (failures[why] ?? 0) + 1;
  };
  let answered = 0;
  let sent = 0;
  const started = process.hrtime.bigint();
  let lastSent = started;
  const headers = { ...o.headers, ...(o.body !== undefined ? { "content-length": String(Buffer.byteLength(o.body)) } : {}) };
  await new Promise<void>((resolve) => {
    const finish = () => {
      if (++answered === total) resolve();
    };
    const fire = () => {
      const t0 = process.hrtime.bigint();
      lastSent = t0;
      const req = request({ host: url.hostname, port: url.port, method: o.method, path: url.pathname + url.search, headers, agent }, (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          if (res.statusCode! >= 200 && res.statusCode! < 300) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          else fail(String(res.statusCode));
          finish();
        });
      });
      req.on("error", () => {
        fail("error");
        finish();
      });
      req.end(o.body);
    };
    const tick = () => {
      // Every request whose send time has come leaves now; a late timer sends the backlog at once.
      const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - started) / intervalNs) + 1);
      while (sent < due) {
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    completed: latencies.length,
    failed,
    failures,
    sentPerSecond: sent / (Number(lastSent - started) / 1e9 || 1),
  };
}
