// Launcher of the package's commands. Plain JavaScript so that it starts on any Node >= 18 (a global
// install may run under an older system Node): the commands are TypeScript, run by a Node that
// strips types — this process when it can, otherwise the Node 24 the package installs as its `node`
// dev dependency. `main` is a module exporting `run(argv): Promise<number>`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export async function launch(name, mainUrl) {
  const main = fileURLToPath(mainUrl);
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
        `${name}: Node ${process.versions.node} cannot run TypeScript and ${node} is missing; run 'npm install' in the hearth package, or use Node 22.18 or later\n`,
      );
      process.exit(2);
    }
    const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
    child.on("error", (error) => {
      process.stderr.write(`${name}: cannot start ${node}: ${error.message}\n`);
      process.exit(1);
    });
    child.on("exit", (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      } else process.exit(code ?? 1);
    });
  }
}
