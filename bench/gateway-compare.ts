import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setQuotaMax } from "../src/service/quotas.ts";
import type { BenchOptions, Sizes } from "./options.ts";
import { postgresUnavailable, scratch, type Scratch } from "./databases.ts";
import { load, type LoadResult } from "./load.ts";
import { openLoop, type OpenLoopResult } from "./open-loop.ts";
import { portkeyRoute, servePortkey } from "./portkey.ts";
import { profileArgs, serveHearth, serveScript, type Child } from "./processes.ts";
import { ACCOUNT_ID, openSeededStore, seedUsers } from "./seed.ts";
import { log, median, micros, ms, perSecond, ratio } from "./stats.ts";
import { met, notRun, type Row } from "./table.ts";

/**
 * Item 7: what an inference call pays for Hearth's gateway. The same chat completion (plain and
 * streamed) against a minimal OpenAI-compatible upstream that answers at once, sent straight to
 * it, through a bare `node:http` forwarding proxy with a keep-alive pool (the physical baseline),
 * through Portkey's open-source gateway, and through `hearth serve` (key check, RPM and spend
 * admission, metering) on SQLite in one process and on PostgreSQL + Redis. Saturation: autocannon,
 * 20 connections, rounds rotating the order; latency: an open-loop client at a fixed rate timing
 * each request with `process.hrtime`.
 */
const CONNECTIONS = 20;
const FIXED_RATE = 500;
const UPSTREAM = fileURLToPath(new URL("./gateway-upstream.ts", import.meta.url));
const PROXY = fileURLToPath(new URL("./forward-proxy.ts", import.meta.url));
const UPSTREAM_KEY = "bench-upstream-key";
const MODEL = "bench-model";
/** Redis database of the bench's shared counters, apart from the default one tests use. */
const REDIS_URL = process.env.HEARTH_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/7";

const TARGETS = { throughput: 0.8, cpu: 1.5, portkey: 3, addedP50Ms: 0.5 };

type Mode = "non-streamed" | "streamed";

/** One way of reaching the upstream: a server process and the request that goes through it. */
interface Path {
  name: string;
  child: Child;
  path: string;
  headers: Record<string, string>;
  body: (mode: Mode) => string;
}

interface Figures {
  saturation: LoadResult[];
  fixed?: OpenLoopResult;
}

const messages = [{ role: "user", content: "Say hello." }];
/** The body OpenAI's API takes (the upstream, the bare proxy, Portkey). */
const openAiBody = (mode: Mode) =>
  JSON.stringify({ model: MODEL, messages, ...(mode === "streamed" ? { stream: true, stream_options: { include_usage: true } } : {}) });
/** The body Hearth's gateway takes: a public model's name; Hearth asks the upstream for usage itself. */
const hearthBody = (mode: Mode) => JSON.stringify({ model: `accounts/fireworks/models/${MODEL}`, messages, ...(mode === "streamed" ? { stream: true } : {}) });

interface HearthSetup {
  label: string;
  dialect: "sqlite" | "postgres";
  redis: boolean;
}
const SETUPS: HearthSetup[] = [
  { label: "SQLite, one process", dialect: "sqlite", redis: false },
  { label: "PostgreSQL + Redis", dialect: "postgres", redis: true },
];

export async function gatewayComparison(options: BenchOptions, size: Sizes): Promise<Row[]> {
  const s = await scratch("gateway");
  const children: Child[] = [];
  const scratches: Scratch[] = [s];
  try {
    const upstream = await serveScript("upstream", (port) => [UPSTREAM, String(port)], s.dataDir, "\n");
    children.push(upstream);
    const upstreamApi = `${upstream.baseUrl}/v1`;
    // Profiled with Hearth under --profile, so that the two profiles can be compared call for call.
    const proxy = await serveScript(
      "forward-proxy",
      (port) => [...profileArgs(options.profile), PROXY, upstream.baseUrl, String(port)],
      s.dataDir,
      "forward proxy listening",
    );
    children.push(proxy);
    const bearer = { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" };
    const paths: Path[] = [
      { name: "upstream alone", child: upstream, path: "/v1/chat/completions", headers: bearer, body: openAiBody },
      { name: "bare proxy", child: proxy, path: "/v1/chat/completions", headers: bearer, body: openAiBody },
    ];
    const portkey = await servePortkey(s.dataDir).catch((error: Error) => `did not start: ${error.message.split("\n")[0]}`);
    if (typeof portkey === "string") log(`Portkey: ${portkey}`);
    else {
      children.push(portkey);
      paths.push({ name: "Portkey", child: portkey, path: "/v1/chat/completions", headers: { ...bearer, ...portkeyRoute(upstreamApi) }, body: openAiBody });
    }
    const skipped: string[] = [];
    for (const setup of SETUPS) {
      if (setup.dialect === "postgres") {
        const why = await postgresUnavailable();
        if (why) {
          skipped.push(`${setup.label}: ${why}`);
          continue;
        }
      }
      const hs = await scratch(`gateway-${setup.dialect}`, setup.dialect);
      scratches.push(hs);
      const { child, key } = await serveGateway(hs, upstreamApi, setup, options.profile);
      children.push(child);
      paths.push({
        name: `Hearth (${setup.label})`,
        child,
        path: "/inference/v1/chat/completions",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: hearthBody,
      });
    }

    const rows: Row[] = [];
    for (const mode of ["non-streamed", "streamed"] as const) {
      const usable: Path[] = [];
      const refused = new Map<string, string>();
      for (const p of paths) {
        const res = await fetch(`${p.child.baseUrl}${p.path}`, { method: "POST", headers: p.headers, body: p.body(mode) });
        const text = await res.text();
        if (res.status === 200) usable.push(p);
        else if (p.name === "Portkey") refused.set(p.name, `answered ${res.status} to a ${mode} request: ${text.slice(0, 80)}`);
        else throw new Error(`${p.name} answered ${res.status} to a ${mode} request: ${text.slice(0, 300)}`);
      }
      for (const [name, why] of refused) log(`${name}: ${why}`);
      const figures = await measure(usable, mode, size);
      rows.push(...rowsFor(mode, figures, refused, skipped));
    }
    return rows;
  } finally {
    for (const c of children.reverse()) await c.stop();
    for (const x of scratches) await x.drop();
  }
}

/** `hearth serve` with one public model on the upstream, a service-account key, and an RPM quota the run cannot reach (checked on every request all the same). */
async function serveGateway(s: Scratch, upstreamApi: string, setup: HearthSetup, profile: boolean): Promise<{ child: Child; key: string }> {
  const config = join(s.dataDir, "platform.json");
  writeFileSync(
    config,
    JSON.stringify({
      backends: [
        {
          name: "bench",
          baseUrl: upstreamApi,
          apiKey: UPSTREAM_KEY,
          models: [{ id: MODEL, inputPricePerMillionTokens: 0.1, outputPricePerMillionTokens: 0.2 }],
        },
      ],
    }),
  );
  const seeded = await openSeededStore(s);
  const [key] = await seedUsers(seeded.store, { users: 1, serviceAccountEvery: 1, keysPerUser: 1, keep: 1, idPrefix: "gw" });
  await setQuotaMax(seeded.store, ACCOUNT_ID, "serverless-inference-rpm", 1_000_000_000);
  await seeded.store.close();
  const child = await serveHearth({ ...s.env, HEARTH_CONFIG: config, ...(setup.redis ? { HEARTH_REDIS_URL: REDIS_URL } : {}) }, { profile });
  return { child, key: key! };
}

async function measure(paths: Path[], mode: Mode, size: Sizes): Promise<Map<string, Figures>> {
  const figures = new Map<string, Figures>(paths.map((p) => [p.name, { saturation: [] }]));
  const saturate = (p: Path, seconds: number) =>
    load({
      url: p.child.baseUrl,
      connections: CONNECTIONS,
      seconds,
      requests: [{ method: "POST", path: p.path, headers: p.headers, body: p.body(mode) }],
      server: p.child,
    });
  log(`${mode}: warming up ${paths.map((p) => p.name).join(", ")}`);
  for (const p of paths) await saturate(p, size.gatewayWarmUpSeconds);
  for (let round = 0; round < size.httpRounds; round++) {
    // Each round starts with a different path, so a burst of other work falls on each in turn.
    const order = paths.map((_, i) => paths[(i + round) % paths.length]!);
    for (const p of order) {
      const r = await saturate(p, size.gatewaySeconds);
      if (r.failed > 0) throw new Error(`${p.name}: ${r.failed} requests failed or were not 2xx`);
      figures.get(p.name)!.saturation.push(r);
      log(
        `${mode} round ${round + 1} ${p.name}: ${perSecond(r.perSecond)}, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, server CPU ${micros(r.cpuMicros)} per request, waited for a CPU ${(100 * r.waitShare).toFixed(0)}%`,
      );
    }
  }
  for (const p of paths) {
    const fixed = (seconds: number) =>
      openLoop({ url: `${p.child.baseUrl}${p.path}`, rate: FIXED_RATE, seconds, method: "POST", headers: p.headers, body: p.body(mode) });
    await fixed(1);
    const r = await fixed(size.gatewaySeconds);
    figures.get(p.name)!.fixed = r;
    const failures = r.failed > 0 ? `; ${r.failed} not answered 2xx: ${JSON.stringify(r.failures)}` : "";
    log(`${mode} at ${FIXED_RATE}/s ${p.name}: p50 ${ms(r.p50)}, p99 ${ms(r.p99)} (sent ${perSecond(r.sentPerSecond)})${failures}`);
  }
  return figures;
}

function rowsFor(mode: Mode, figures: Map<string, Figures>, refused: Map<string, string>, skipped: string[]): Row[] {
  const rps = (name: string) => median(figures.get(name)?.saturation.map((r) => r.perSecond) ?? []);
  const cpu = (name: string) => median(figures.get(name)?.saturation.map((r) => r.cpuMicros) ?? []);
  const p50 = (name: string) => median(figures.get(name)?.saturation.map((r) => r.p50) ?? []);
  const p99 = (name: string) => median(figures.get(name)?.saturation.map((r) => r.p99) ?? []);
  const latencies = (name: string) => `${ms(p50(name))} / ${ms(p99(name))}`;
  const fixed = (name: string) => figures.get(name)?.fixed;
  const fixedText = (name: string) => {
    const f = fixed(name);
    return f ? `${ms(f.p50)} / ${ms(f.p99)}${f.failed > 0 ? ` (${f.failed} of ${f.completed + f.failed} failed)` : ""}` : "—";
  };
  const proxy = "bare proxy";
  const hasPortkey = figures.has("Portkey");
  const rows: Row[] = [
    {
      item: 7,
      what: `${mode} chat completion, req/s at ${CONNECTIONS} connections (median of rounds): the bare forwarding proxy vs the upstream alone`,
      hearth: perSecond(rps(proxy)),
      baseline: perSecond(rps("upstream alone")),
      ratio: ratio(rps(proxy) / rps("upstream alone")),
      target: "—",
      met: "—",
    },
    {
      item: 7,
      what: "  bare proxy p50 / p99 at saturation; at a fixed 500 req/s (open loop, hrtime)",
      hearth: latencies(proxy),
      baseline: fixedText(proxy),
      ratio: "—",
      target: "—",
      met: "—",
    },
    hasPortkey
      ? {
          item: 7,
          what: "  Portkey 1.15.2 (no auth): req/s and server CPU per request",
          hearth: perSecond(rps("Portkey")),
          baseline: micros(cpu("Portkey")),
          ratio: "—",
          target: "—",
          met: "—",
        }
      : notRun(7, `  Portkey 1.15.2, ${mode}`, "—", refused.get("Portkey") ?? "not installed or did not start"),
  ];
  for (const setup of SETUPS) {
    const name = `Hearth (${setup.label})`;
    if (!figures.has(name)) {
      rows.push(notRun(7, `${mode}: Hearth (${setup.label})`, "—", skipped.find((x) => x.startsWith(setup.label)) ?? "not run"));
      continue;
    }
    const added = fixed(name) && fixed(proxy) ? fixed(name)!.p50 - fixed(proxy)!.p50 : NaN;
    rows.push(
      {
        item: 7,
        what: `${mode}: Hearth gateway (${setup.label}) req/s vs the bare forwarding proxy`,
        hearth: perSecond(rps(name)),
        baseline: perSecond(rps(proxy)),
        ratio: ratio(rps(name) / rps(proxy)),
        target: `≥ ${TARGETS.throughput}×`,
        met: met(rps(name) / rps(proxy) >= TARGETS.throughput),
      },
      {
        item: 7,
        what: "  server CPU per request vs the bare proxy (ratio: Hearth ÷ proxy)",
        hearth: micros(cpu(name)),
        baseline: micros(cpu(proxy)),
        ratio: ratio(cpu(name) / cpu(proxy)),
        target: `≤ ${TARGETS.cpu}×`,
        met: met(cpu(name) / cpu(proxy) <= TARGETS.cpu),
      },
      hasPortkey
        ? {
            item: 7,
            what: "  req/s vs Portkey",
            hearth: perSecond(rps(name)),
            baseline: perSecond(rps("Portkey")),
            ratio: ratio(rps(name) / rps("Portkey")),
            target: `≥ ${TARGETS.portkey}×`,
            met: met(rps(name) / rps("Portkey") >= TARGETS.portkey),
          }
        : notRun(7, "  req/s vs Portkey", `≥ ${TARGETS.portkey}×`, refused.get("Portkey") ?? "Portkey did not run"),
      {
        item: 7,
        what: "  p50 / p99 at saturation (autocannon, 1 ms resolution)",
        hearth: latencies(name),
        baseline: latencies(proxy),
        ratio: "—",
        target: "—",
        met: "—",
      },
      {
        item: 7,
        what: `  p50 / p99 at a fixed ${FIXED_RATE} req/s (open loop, hrtime); ratio column: p50 added over the bare proxy`,
        hearth: fixedText(name),
        baseline: fixedText(proxy),
        ratio: Number.isFinite(added) ? `${added >= 0 ? "+" : ""}${ms(added)}` : "—",
        target: `≤ +${TARGETS.addedP50Ms} ms`,
        met: Number.isFinite(added) ? met(added <= TARGETS.addedP50Ms) : "—",
      },
    );
  }
  return rows;
}
