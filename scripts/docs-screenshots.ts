/**
 * `npm run docs:screenshots`: makes the README's pictures (docs/screenshots/*.png) from a fresh
 * tour: the example model server and `hearth serve` on free ports with a temporary data directory,
 * two service accounts with a key each, a few inference calls from each, then the console in headless
 * Chromium (Debian's /usr/bin/chromium), signed in with the first start's one-time link.
 * Tests never write here: their screenshots go to test-output/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { once } from "node:events";
import { launchChromium } from "../test/support/console.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "docs", "screenshots");
const children: ChildProcess[] = [];

/** A free loopback port (not the test helper's: that one registers node:test hooks). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function start(args: string[], env: Record<string, string>, marker: string): Promise<string> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let text = "";
  return new Promise((resolve, reject) => {
    const seen = (d: Buffer) => {
      text += d;
      if (text.includes(marker)) resolve(text);
    };
    child.stdout!.on("data", seen);
    child.stderr!.on("data", seen);
    child.once("exit", () => reject(new Error(`${args.join(" ")} stopped:\n${text}`)));
  });
}

async function call(base: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function main(): Promise<void> {
  const temp = mkdtempSync(join(tmpdir(), "hearth-screenshots-"));
  const [backendPort, hearthPort] = [await freePort(), await freePort()];
  const config = readFileSync(join(ROOT, "examples", "hearth-config.json"), "utf8").replaceAll("127.0.0.1:8000", `127.0.0.1:${backendPort}`);
  writeFileSync(join(temp, "hearth-config.json"), config);
  const base = `http://127.0.0.1:${hearthPort}`;
  try {
    await start([join(ROOT, "examples", "model-server.ts")], { PORT: String(backendPort) }, "example model server on");
    const printed = await start(
      [join(ROOT, "src", "cli", "hearth.ts"), "serve"],
      { HEARTH_PORT: String(hearthPort), HEARTH_DATA_DIR: join(temp, "data"), HEARTH_CONFIG: join(temp, "hearth-config.json"), HEARTH_LOG_LEVEL: "warn" },
      "Hearth listening",
    );
    const admin = readFileSync(join(temp, "data", "admin-api-key"), "utf8").trim();
    const link = /(http:\/\/\S+\/auth\/link\/\S+)/.exec(printed)![1]!;
    const users = `/v1/accounts/my-account/users`;
    for (const [id, role] of [
      ["tour-bot", "inference-user"],
      ["nightly-evals", "inference-user"],
    ] as const) {
      await call(base, admin, "POST", `${users}?userId=${id}`, { serviceAccount: true, role });
      const { key } = await call(base, admin, "POST", `${users}/${id}/apiKeys`, { apiKey: { displayName: `${id} key` } });
      const calls = id === "tour-bot" ? 6 : 3;
      for (let i = 0; i < calls; i++) {
        const content = `Hello, Hearth! Call ${i + 1} from ${id}: ${"tell me more ".repeat(4 * (i + 1))}`;
        await call(base, key, "POST", "/inference/v1/chat/completions", {
          model: "accounts/fireworks/models/example-chat",
          messages: [{ role: "user", content }],
        });
      }
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(link);
      await page.waitForURL((url) => url.pathname.startsWith("/account"));
      mkdirSync(OUT, { recursive: true });
      for (const [name, path] of [
        ["usage", "/account/usage"],
        ["audit-log", "/account/audit-log"],
        ["users", "/account/users"],
      ] as const) {
        await page.goto(`${base}${path}`);
        await page.waitForLoadState("networkidle");
        await page.screenshot({ path: join(OUT, `${name}.png`) });
        console.log(`docs/screenshots/${name}.png`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    for (const child of children) child.kill("SIGTERM");
    rmSync(temp, { recursive: true, force: true });
  }
}

await main();
