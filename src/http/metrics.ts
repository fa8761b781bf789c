import type { FastifyInstance } from "fastify";
import { Counter, Histogram, Registry } from "prom-client";
import type { Deps } from "../service/context.ts";
import { groupCommitStats } from "../store/group-commit.ts";

/**
 * Prometheus metrics of one process: requests and latencies by route, key-verification cache
 * hits and misses, quota and throttle rejections. One registry per app (tests build many apps).
 */
export function installMetrics(app: FastifyInstance, deps: Deps): Registry {
  const registry = new Registry();
  const requests = new Counter({
    name: "hearth_http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "hearth_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method and route",
    labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const rejections = new Counter({
    name: "hearth_quota_rejections_total",
    help: "Requests refused with RESOURCE_EXHAUSTED, by quota (or 'auth-throttle')",
    labelNames: ["quota"],
    registers: [registry],
  });
  new Counter({
    name: "hearth_key_cache_hits_total",
    help: "API-key verifications answered from the in-memory cache",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.keyCache.hits);
    },
  });
  new Counter({
    name: "hearth_key_cache_misses_total",
    help: "API-key verifications that needed a store lookup",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.keyCache.misses);
    },
  });

  new Counter({
    name: "hearth_store_group_commit_changes_total",
    help: "Audited changes run through SQLite's group commit (several share one transaction, each in a savepoint)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(groupCommitStats(deps.store).changes);
    },
  });
  new Counter({
    name: "hearth_store_group_commit_transactions_total",
    help: "Transactions SQLite's group commit ran (changes ÷ transactions: the average batch)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(groupCommitStats(deps.store).transactions);
    },
  });

  // Hooks on every request take callbacks rather than async functions: no promise per hook.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (reply.statusCode === 429) rejections.inc({ quota: refusedBy(payload) });
    done(null, payload);
  });
  // The labelled children, looked up once per route and status rather than hashed on every request.
  const children = new Map<string, { count: { inc(): void }; time: { observe(seconds: number): void } }>();
  const answered = (method: string, route: string, statusCode: number, ms: number) => {
    const status = String(statusCode);
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = { count: requests.labels(method, route, status), time: latency.labels(method, route) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(ms / 1000);
  };
  app.addHook("onResponse", (request, reply, done) => {
    // The route pattern, not the URL: ids must not explode the label space.
    answered(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime);
    done();
  });
  fastPathAnswers.set(deps, (method, route, status, ms, body) => {
    answered(method, route, status, ms);
    if (status === 429) rejections.inc({ quota: refusedBy(body) });
  });
  return registry;
}

/** The quota a 429's JSON body names (`quota \"…\"` in its message), "auth-throttle", or "other". */
function refusedBy(payload: unknown): string {
  const quota = typeof payload === "string" ? /quota \\"([a-z0-9-]+)\\"/.exec(payload)?.[1] : undefined;
  return quota ?? (/authentication attempts/.test(String(payload)) ? "auth-throttle" : "other");
}

/** Where a fast path reports an answer: method, route pattern, status, time to answer (milliseconds), the body when it is a string. */
type AnswerSink = (method: string, route: string, status: number, ms: number, body: string) => void;

const fastPathAnswers = new WeakMap<Deps, AnswerSink>();

/**
 * Counts and times an answer written in front of the framework (src/http/fast-path-server.ts),
 * which passes none of its hooks, as `onResponse` does for the others: `hearth_http_requests_total`,
 * `hearth_http_request_duration_seconds` and, for a 429, `hearth_quota_rejections_total`. `route`
 * is the route's pattern as the framework names it; `ms` milliseconds.
 */
export function countFastPathAnswer(deps: Deps, method: string, route: string, status: number, ms: number, body = ""): void {
  fastPathAnswers.get(deps)?.(method, route, status, ms, body);
}
