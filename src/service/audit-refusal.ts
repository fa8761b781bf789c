import { audited, type Operation } from "./audit.ts";
import type { Ctx, Deps } from "./context.ts";

/**
 * Records a refused or failed attempt by an authenticated principal (audit entry with the error's
 * status, nothing else written), then rethrows the error. For work that cannot run inside one
 * transaction: a streamed upload, an inference call.
 */
export async function auditRefusal(deps: Deps, ctx: Ctx, op: Operation, error: unknown): Promise<never> {
  await audited(deps, ctx, op, () => Promise.reject(error)).catch(() => undefined);
  throw error;
}
