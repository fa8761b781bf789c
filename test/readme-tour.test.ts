import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./support/process.ts";

/**
 * The README's five-minute tour, run as written. Only what would clash on a shared machine is
 * changed: the ports (8000, 8080) become free ones, the data directory `data/` a temporary one,
 * and `~/.fireworks` a temporary HOME. The commands are read from the README at test time, so a
 * tour that stops working fails here.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");

function tourBlocks(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Five-minute tour");
  assert.ok(start >= 0, "the README has a five-minute tour");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

const children: ChildProcess[] = [];

function shell(script: string, env: Record<string, string>): Started {
  // Its own process group, so that stopping it stops npm and the node it started.
  const child = spawn("bash", ["-c", script], { cwd: ROOT, env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...env }, detached: true });
  children.push(child);
  let text = "";
  child.stdout!.on("data", (d) => (text += d));
  child.stderr!.on("data", (d) => (text += d));
  return { child, output: () => text };
}

async function waitFor(started: Started, marker: string, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!started.output().includes(marker)) {
    if (started.child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} did not start:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function finished(started: Started): Promise<{ code: number | null; output: string }> {
  const code = started.child.exitCode ?? (await new Promise<number | null>((resolve) => started.child.once("exit", resolve)));
  return { code, output: started.output() };
}

test("the README's five-minute tour works as written", { timeout: 240_000 }, async () => {
  const blocks = tourBlocks();
  assert.equal(blocks[0], "npm run example-backend", "step 1 starts the example model server");
  assert.match(blocks[1]!, /^HEARTH_CONFIG=examples\/hearth-config\.json npm start$/, "step 1 starts Hearth with the example configuration");
  const temp = mkdtempSync(join(tmpdir(), "hearth-tour-"));
  const [backendPort, hearthPort] = [await freePort(), await freePort()];
  const config = readFileSync(join(ROOT, "examples", "hearth-config.json"), "utf8").replaceAll("127.0.0.1:8000", `127.0.0.1:${backendPort}`);
  writeFileSync(join(temp, "hearth-config.json"), config);
  const dataDir = join(temp, "data");
  const adapt = (command: string) =>
    command
      .replaceAll("127.0.0.1:8080", `127.0.0.1:${hearthPort}`)
      .replaceAll("examples/hearth-config.json", join(temp, "hearth-config.json"))
      .replaceAll("data/admin-api-key", join(dataDir, "admin-api-key"));
  const env = { HOME: join(temp, "home"), HEARTH_DATA_DIR: dataDir, FIREWORKS_API_BASE: `http://127.0.0.1:${hearthPort}` };
  try {
    const backend = shell(adapt(blocks[0]!), { ...env, PORT: String(backendPort) });
    await waitFor(backend, "example model server on", "npm run example-backend");
    const hearth = shell(adapt(blocks[1]!), { ...env, HEARTH_PORT: String(hearthPort) });
    await waitFor(hearth, "Hearth listening", "npm start");

    // Step 2: the printed link signs the admin in (a session cookie and a redirect into the console).
    const link = /(http:\/\/\S+\/auth\/link\/\S+)/.exec(hearth.output())?.[1];
    assert.ok(link !== undefined && link.startsWith(`http://127.0.0.1:${hearthPort}/`), `first start prints a sign-in link to this server: ${hearth.output()}`);
    const signIn = await fetch(link, { redirect: "manual" });
    assert.ok([302, 303].includes(signIn.status), `the link signs in (status ${signIn.status})`);
    assert.match(signIn.headers.get("set-cookie") ?? "", /HttpOnly/i);

    // Steps 3 to 5 in one shell, as a reader pastes them into one terminal.
    const steps = shell(`set -euo pipefail\n${blocks.slice(2).map(adapt).join("\n")}`, env);
    const { code, output } = await finished(steps);
    assert.equal(code, 0, `the tour's commands succeed:\n${output}`);
    assert.match(output, /tour-bot@my-account\.sa\.hearth\.local/, "the service account and its key are listed");
    assert.match(output, /"content":"You said: Hello, Hearth!"/, "the inference call is answered by the example model server");
    assert.match(output, /CreateApiKey/, "the audit log shows the key's creation");
    assert.match(
      output,
      /accounts\/fireworks\/models\/example-chat\s+tour-bot@my-account\.sa\.hearth\.local/,
      "the usage names the model and the service account",
    );
    assert.match(output, /Total: 1 requests/, "the call is metered");

    // A streamed call through Hearth ends as OpenAI's do: the last piece says why, then [DONE].
    const adminKey = readFileSync(join(dataDir, "admin-api-key"), "utf8").trim();
    const streamed = await fetch(`http://127.0.0.1:${hearthPort}/inference/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "accounts/fireworks/models/example-chat", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    const events = (await streamed.text())
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => e.slice(6));
    assert.equal(events.at(-1), "[DONE]");
    assert.equal(JSON.parse(events.at(-2)!).choices[0].finish_reason, "stop", events.join("\n"));

    // The console page the tour names is served.
    const usagePage = await fetch(`http://127.0.0.1:${hearthPort}/account/usage`);
    assert.equal(usagePage.status, 200);

    // Another link from the operator's shell, which has no HEARTH_PORT: it points at the running server.
    const again = shell("npm run --silent hearth -- signin-link admin@example.com", env);
    const made = await finished(again);
    assert.equal(made.code, 0, made.output);
    assert.match(made.output, new RegExp(`http://127\\.0\\.0\\.1:${hearthPort}/auth/link/`), "the link uses the URL the server recorded");
  } finally {
    for (const child of children) if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
    rmSync(temp, { recursive: true, force: true });
  }
});
