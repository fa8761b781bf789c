/**
 * Inference gateway overhead: the same OpenAI-compatible upstream called directly and through
 * Hearth's gateway (authentication, role check, monthly-spend and rpm quotas, metering all on),
 * in the same run, with autocannon as the load generator in its own process.
 *
 *   npx node bench/gateway.ts [--quick] [--stream] [--connections N] [--seconds S]
 *
 * Prints p50/p99 latency and throughput of both, the latency the gateway adds and the throughput
 * ratio. Uses SQLite in a temporary directory, or PostgreSQL when DATABASE_URL is set.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.ts";
import { bootstrap, createHearth } from "../src/server.ts";
import { setQuotaMax } from "../src/service/quotas.ts";

interface Options {
  quick: boolean;
  stream: boolean;
  connections: number;
  seconds: number;
}

function options(argv: string[]): Options {
  const o: Options = { quick: false, stream: false, connections: 32, seconds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") Object.assign(o, { quick: true, seconds: 3 });
    else if (a === "--stream") o.stream = true;
    else if (a === "--connections") o.connections = Number(argv[++i]);
    else if (a === "--seconds") o.seconds = Number(argv[++i]);
    else throw new Error(`unknown option ${a}; usage: npx node bench/gateway.ts [--quick] [--stream] [--connections N] [--seconds S]`);
  }
  if (!(o.connections > 0 && o.seconds > 0)) throw new Error("--connections and --seconds take positive numbers");
  return o;
}

const AUTOCANNON = fileURLToPath(new URL("../node_modules/autocannon/autocannon.js", import.meta.url));
const UPSTREAM = fileURLToPath(new URL("./gateway-upstream.ts", import.meta.url));

interface Result {
  p50: number;
  p99: number;
  rps: number;
  total: number;
  bad: number;
}

/** One autocannon run in a child process, so load generation does not share Hearth's event loop. */
async function load(url: string, body: string, headers: Record<string, string>, o: Options, seconds = o.seconds): Promise<Result> {
  const args = [AUTOCANNON, "--json", "-c", String(o.connections), "-d", String(seconds), "-m", "POST", "-b", body];
  for (const [k, v] of Object.entries({ "content-type": "application/json", ...headers })) args.push("-H", `${k}=${v}`);
  args.push(url);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`autocannon failed (${code}): ${err}`);
  const r = JSON.parse(out) as {
    latency: { p50: number; p99: number };
    requests: { average: number; total: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, total: r.requests.total, bad: r.non2xx + r.errors + r.timeouts };
}

async function startUpstream(): Promise<{ baseUrl: string; stop: () => void }> {
  const child = spawn(process.execPath, [UPSTREAM], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout, "data")) as [Buffer];
  return { baseUrl: `http://127.0.0.1:${Number(String(line).trim())}/v1`, stop: () => child.kill() };
}

const fmt = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-gateway-"));
  const upstream = await startUpstream();
  const configFile = join(dir, "platform.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      backends: [
        {
          name: "bench",
          baseUrl: upstream.baseUrl,
          apiKey: "bench-upstream-key",
          models: [{ id: "bench-model", inputPricePerMillionTokens: 0.1, outputPricePerMillionTokens: 0.2 }],
        },
      ],
    }),
  );
  const config = loadConfig({ ...process.env, HEARTH_DATA_DIR: dir, HEARTH_CONFIG: configFile, HEARTH_LOG_LEVEL: "silent" });
  const hearth = await createHearth(config);
  const printed: string[] = [];
  await bootstrap(hearth.deps, (l) => printed.push(l));
  const admin = printed.map((l) => l.trim()).find((l) => l.startsWith(config.keyPrefix))!;
  await hearth.app.listen({ host: "127.0.0.1", port: 0 });
  const gateway = `http://127.0.0.1:${(hearth.app.server.address() as { port: number }).port}`;
  try {
    // The default 6000 rpm would stop the benchmark itself; the check still runs on every request.
    await setQuotaMax(hearth.deps.store, config.accountId, "serverless-inference-rpm", 1_000_000_000);
    const call = (method: string, path: string, body: unknown) =>
      hearth.app.inject({ method: method as "POST", url: path, headers: { authorization: `Bearer ${admin}` }, payload: body as object });
    await call("POST", `/v1/accounts/${config.accountId}/users?userId=bench`, { serviceAccount: true, role: "user" });
    const key = JSON.parse((await call("POST", `/v1/accounts/${config.accountId}/users/bench/apiKeys`, { apiKey: {} })).body).key as string;

    const messages = [{ role: "user", content: "Say hello." }];
    const extra = o.stream ? { stream: true } : {};
    const direct = JSON.stringify({ model: "bench-model", messages, ...extra, ...(o.stream ? { stream_options: { include_usage: true } } : {}) });
    const viaGateway = JSON.stringify({ model: "accounts/fireworks/models/bench-model", messages, ...extra });
    const upstreamHeaders = { authorization: "Bearer bench-upstream-key" };
    const gatewayHeaders = { authorization: `Bearer ${key}` };

    // Long enough for the JIT to settle: the first thousand requests cost several times the rest.
    const warmUp = Math.min(3, o.seconds);
    process.stderr.write(`warming up ${warmUp} s (${o.connections} connections)…\n`);
    await load(`${upstream.baseUrl}/chat/completions`, direct, upstreamHeaders, o, warmUp);
    await load(`${gateway}/inference/v1/chat/completions`, viaGateway, gatewayHeaders, o, warmUp);
    process.stderr.write(`measuring ${o.seconds} s each…\n`);
    const d = await load(`${upstream.baseUrl}/chat/completions`, direct, upstreamHeaders, o);
    const cpu = process.cpuUsage();
    const g = await load(`${gateway}/inference/v1/chat/completions`, viaGateway, gatewayHeaders, o);
    const used = process.cpuUsage(cpu);

    const usage = JSON.parse((await call("GET", `/v1/accounts/${config.accountId}/billingUsage`, undefined)).body) as { total: { requestCount: number } };
    console.log(
      `\nInference gateway overhead (${o.stream ? "streamed" : "plain"} chat completions, ${o.connections} connections, ${o.seconds} s, store: ${hearth.deps.store.dialect})\n`,
    );
    console.log("                      p50 ms    p99 ms     req/s   non-2xx");
    console.log(`  upstream directly  ${fmt(d.p50).padStart(7)}  ${fmt(d.p99).padStart(8)}  ${d.rps.toFixed(0).padStart(8)}  ${String(d.bad).padStart(8)}`);
    console.log(`  through Hearth     ${fmt(g.p50).padStart(7)}  ${fmt(g.p99).padStart(8)}  ${g.rps.toFixed(0).padStart(8)}  ${String(g.bad).padStart(8)}`);
    console.log(`\n  added latency: p50 +${fmt(g.p50 - d.p50)} ms, p99 +${fmt(g.p99 - d.p99)} ms`);
    console.log(`  throughput ratio (gateway / direct): ${(g.rps / d.rps).toFixed(2)}`);
    console.log(`  Hearth CPU per gateway request: ${((used.user + used.system) / 1000 / g.total).toFixed(3)} ms`);
    console.log(`  requests metered: ${usage.total.requestCount} (every gateway request of the run, warm-up included)`);
  } finally {
    await hearth.close();
    upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
