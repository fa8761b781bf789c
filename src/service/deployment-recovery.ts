/**
 * @module FAILED deployments recover by themselves once their backend answers again: every
 * `deployments.recheckFailedMs` of HEARTH_CONFIG (default 60 s; 0: never) each process probes the
 * backends of up to 100 FAILED deployments, each backend once, and records READY on those whose
 * backend now answers, as an update's probe would (`recordProbeAnswer`: unless the deployment was changed
 * or deleted meanwhile). A backend still down leaves its deployments FAILED with their reason.
 */
import { failedDeployments } from "../store/deployments.ts";
import { probeBackendNamed, recordProbeAnswer } from "./deployments.ts";
import type { Deps } from "./context.ts";

/** FAILED deployments probed per round; the next round takes the rest (longest-failed first). */
const PER_ROUND = 100;

/**
 * One round: probes the backends of FAILED deployments and records READY where they answer.
 * @returns how many deployments became READY.
 */
async function recheckFailedDeployments(deps: Deps): Promise<number> {
  const rows = await failedDeployments(deps.store.db, PER_ROUND);
  const answers = new Map<string, Promise<string | undefined>>();
  let recovered = 0;
  for (const row of rows) {
    let answer = answers.get(row.backend);
    if (!answer) answers.set(row.backend, (answer = probeBackendNamed(deps, row.backend)));
    // Still down: left FAILED with its reason as it is (no new update time a round).
    if ((await answer) !== undefined) continue;
    if (await recordProbeAnswer(deps, row, undefined)) recovered++;
  }
  return recovered;
}

/** Runs `recheckFailedDeployments` every `deployments.recheckFailedMs`; the returned function stops it once the round in progress ended. */
export function startDeploymentRecovery(deps: Deps, log: (error: unknown) => void): () => Promise<void> {
  const every = deps.config.platform.recheckFailedMs;
  if (every === 0) return async () => {};
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= recheckFailedDeployments(deps)
      .then(() => undefined, log)
      .finally(() => (running = undefined));
  };
  const timer = setInterval(run, every).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
