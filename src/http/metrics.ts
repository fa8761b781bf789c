import type { FastifyInstance } from "fastify";
import { Counter, Histogram, Registry } from "prom-client";
import type { Deps } from "../service/context.ts";
import { takeFastVerifications } from "./verify-fast-path.ts";
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
    // Key checks answered in front of the framework (src/http/verify-fast-path.ts) pass no hook: counted here.
    collect() {
      const fast = takeFastVerifications(deps);
      if (fast > 0) this.labels("GET", "/verifyApiKey", "200").inc(fast);
    },
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
    if (reply.statusCode === 429) {
      const quota = typeof payload === "string" ? /quota \\"([a-z0-9-]+)\\"/.exec(payload)?.[1] : undefined;
      rejections.inc({ quota: quota ?? (/authentication attempts/.test(String(payload)) ? "auth-throttle" : "other") });
    }
    done(null, payload);
  });
  // The labelled children, looked up once per route and status rather than hashed on every request.
  const children = new Map<string, { count: { inc(): void }; time: { observe(seconds: number): void } }>();
  app.addHook("onResponse", (request, reply, done) => {
    // The route pattern, not the URL: ids must not explode the label space.
    const route = request.routeOptions.url ?? "unmatched";
    const status = String(reply.statusCode);
    const key = `${request.method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = { count: requests.labels(request.method, route, status), time: latency.labels(request.method, route) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(reply.elapsedTime / 1000);
    done();
  });
  return registry;
}
