import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { log } from "./stats.ts";

/**
 * Packages only the benchmark compares against (better-auth, Portkey's gateway), installed on
 * first use into bench/.deps (gitignored, with its own package.json) so the repository's
 * dependencies never include them.
 */
export const DEPS_DIR = fileURLToPath(new URL("./.deps/", import.meta.url));

/** The directory of an installed package in bench/.deps. */
export const depDir = (name: string): string => join(DEPS_DIR, "node_modules", name);

/**
 * True when the pinned packages (`name@version`) are there, installing them if needed; otherwise why
 * not. `overrides` pins a transitive dependency (npm's `overrides`, name → exact version) for every
 * package installed here: it is written into bench/.deps/package.json, and an install made without
 * it is redone.
 */
export async function ensureDeps(packages: readonly string[], what: string, overrides: Record<string, string> = {}): Promise<true | string> {
  const manifest = join(DEPS_DIR, "package.json");
  const have = (name: string, version: string) => {
    const file = join(depDir(name), "package.json");
    return existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version === version;
  };
  const missing = packages.filter((spec) => {
    const at = spec.lastIndexOf("@");
    return !have(spec.slice(0, at), spec.slice(at + 1));
  });
  const written = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { overrides?: Record<string, string> }) : {};
  const overridden = Object.entries(overrides).every(([name, version]) => written.overrides?.[name] === version && have(name, version));
  if (missing.length === 0 && overridden) return true;
  log(`installing ${packages.join(" ")} into bench/.deps (once)`);
  mkdirSync(DEPS_DIR, { recursive: true });
  // Its own package.json, so npm installs here and never touches the repository's.
  writeFileSync(manifest, JSON.stringify({ private: true, name: "hearth-bench-deps", ...written, overrides: { ...written.overrides, ...overrides } }));
  try {
    await promisify(execFile)("npm", ["install", "--prefix", DEPS_DIR, "--no-audit", "--no-fund", "--save-exact", ...packages], { timeout: 240_000 });
    return true;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const reason = (e.stderr ?? "").split("\n").find((l) => l.includes("npm error")) ?? e.message.split("\n")[0]!;
    return `could not install ${what} (${reason.trim()})`;
  }
}

/** Imports a package (or one of its exported subpaths) from bench/.deps by its exports map. */
export async function importDep(name: string, subpath = "."): Promise<Record<string, unknown>> {
  const dir = depDir(name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, { default?: string; import?: string }> };
  const entry = pkg.exports[subpath];
  const file = entry?.import ?? entry?.default;
  if (!file) throw new Error(`${name} exports no ${subpath}`);
  return (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
}
