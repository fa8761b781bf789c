import type { ListRequest } from "../store/list.ts";
import type { Deps } from "./context.ts";

/**
 * A list request that may filter on `unused_days` (days since a key or principal last
 * authenticated): it counts to `deps.clock.now()`, and this process's key uses not yet written
 * behind (`LastUsedRecorder`) are written first, so a key used a moment ago is not listed as unused.
 * Other processes' uses arrive within their flush interval (HEARTH_LAST_USED_FLUSH_MS).
 */
export async function atUsageTime(deps: Deps, req: ListRequest): Promise<ListRequest> {
  if (req.filter?.includes("unused_days")) await deps.lastUsed.flush();
  return { ...req, now: deps.clock.now() };
}
