/**
 * @module FAILED deployments recover by themselves once their backend answers again: every
 * `deployments.recheckFailedMs` of HEARTH_CONFIG (default 60 s; 0: never) each process probes the
 * backends of up to 100 FAILED deployments, each backend once, and records READY on those whose
 * backend now answers, as an update's probe would (`recordProbe`: unless the deployment was changed
 * or deleted meanwhile). A backend still down leaves its deployments FAILED with their reason.
 */
import { failedDeployments, recordProbe } from "../store/deployments.ts";
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
    const backend = deps.config.platform.backends.get(row.backend);
    if (!backend) continue;
    let answer = answers.get(backend.name);
    if (!answer) answers.set(backend.name, (answer = deps.probeBackend(backend, deps.config.platform.probeTimeoutMs)));
    if ((await answer) !== undefined) continue;
    if (await recordProbe(deps.store.db, row, { state: "READY", status_message: "", update_time: Date.now() })) {
      recovered++;
      await deps.cluster.invalidator.account(row.account_id);
    }
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
