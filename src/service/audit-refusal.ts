import type { Operation } from "./audit.ts";
import type { Ctx } from "./context.ts";

/**
 * Names the operation a refused or failed attempt is audited as, then rethrows the error: the
 * router writes the one entry (see `auditRefused`). For work that cannot run inside one
 * transaction: a streamed upload, an inference call.
 */
export function auditRefusal(ctx: Ctx, op: Operation, error: unknown): never {
  ctx.operation = op;
  throw error;
}
