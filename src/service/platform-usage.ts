import { monthStartDay, usdFromNano } from "../domain/pricing.ts";
import type { QuotaId } from "../domain/quotas.ts";
import { datasetTotals } from "../store/datasets.ts";
import { countDeployments } from "../store/deployments.ts";
import type { Db } from "../store/store.ts";
import { spendSince } from "../store/usage.ts";

/**
 * Usage of the platform quotas, computed from the store (counts, stored bytes, metered spend in
 * USD); undefined for quotas this module does not own ("serverless-inference-rpm" is the rate
 * limiter's).
 */
export async function platformUsage(db: Db, accountId: string, id: QuotaId): Promise<number | undefined> {
  switch (id) {
    case "deployments":
      return countDeployments(db, accountId);
    case "datasets":
      return (await datasetTotals(db, accountId)).count;
    case "dataset-storage-bytes":
      return (await datasetTotals(db, accountId)).bytes;
    case "monthly-spend-usd":
      return Math.round(usdFromNano(await spendSince(db, accountId, monthStartDay(Date.now()))) * 1e6) / 1e6;
    default:
      return undefined;
  }
}
