#!/usr/bin/env node
// firectl launcher. Plain JavaScript so that it starts on any Node >= 18 (a global install may run
// under an older system Node): firectl itself is TypeScript, run by a Node that strips types — this
// process when it can, otherwise the Node 24 the package installs as its `node` dev dependency.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = fileURLToPath(new URL("../src/cli/firectl/main.ts", import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
// Type stripping is on by default from Node 23.6 and 22.18.
const stripsTypes = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);

if (stripsTypes) {
  // Older releases announce type stripping as experimental on every run; that is noise for a CLI.
  const emit = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    if (String(warning).includes("Type Stripping")) return;
    return emit.call(process, warning, ...rest);
  };
  const { run } = await import(pathToFileURL(main).href);
  process.exitCode = await run(process.argv);
} else {
  const node = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(node)) {
    process.stderr.write(
      `firectl: Node ${process.versions.node} cannot run TypeScript and ${node} is missing; run 'npm install' in the firectl package, or use Node 22.18 or later\n`,
    );
    process.exit(2);
  }
  const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (error) => {
    process.stderr.write(`firectl: cannot start ${node}: ${error.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
