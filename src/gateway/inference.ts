import { ApiError, failedPrecondition, invalidArgument, notFound, type StatusName } from "../domain/errors.ts";
import { monthStartDay, NANO_PER_USD, usdFromNano, type Prices } from "../domain/pricing.ts";
import { deploymentName, modelName, parseInferenceModel, type ModelRef } from "../domain/resource-names.ts";
import type { Backend } from "../platform-config.ts";
import type { Principal } from "../domain/principal.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { authorize } from "../service/permissions.ts";
import { getDeployment } from "../store/deployments.ts";
import { getModel } from "../store/models.ts";
import { inferenceLimits } from "../store/usage.ts";

/** An ApiError that also says which OpenAI error `type` and `code` a client should see. */
export class InferenceRefusal extends ApiError {
  readonly openaiType: string;
  readonly openaiCode: string;

  constructor(status: StatusName, message: string, openaiType: string, openaiCode: string, headers: Record<string, string> = {}) {
    super(status, message, headers);
    this.openaiType = openaiType;
    this.openaiCode = openaiCode;
  }
}

/** Where a request goes and what it costs. */
export interface Target {
  /** The model's resource name, as metered. */
  model: string;
  backend: Backend;
  upstreamModel: string;
  prices: Prices;
}

interface ModelInfo extends Prices {
  name: string;
  backend: string;
  upstreamModel: string;
}

async function lookupModel(deps: Deps, principal: Principal, ref: ModelRef): Promise<ModelInfo> {
  const name = modelName(ref.accountId, ref.modelId);
  const { publicAccountId, publicModels } = deps.config.platform;
  if (ref.accountId === publicAccountId) {
    const m = publicModels.get(ref.modelId);
    if (m)
      return {
        name,
        backend: m.backend,
        upstreamModel: m.upstreamModel,
        inputPricePerMillionTokens: m.inputPricePerMillionTokens,
        outputPricePerMillionTokens: m.outputPricePerMillionTokens,
      };
  } else if (ref.accountId === principal.accountId) {
    const row = await getModel(deps.store.db, ref.accountId, ref.modelId);
    if (row)
      return {
        name,
        backend: row.backend,
        upstreamModel: row.upstream_model,
        inputPricePerMillionTokens: row.input_price,
        outputPricePerMillionTokens: row.output_price,
      };
  }
  // Another account's model reads exactly like a missing one.
  throw notFound(`model "${name}" not found`);
}

/**
 * Resolves an inference request's `model` (a model, `model#deployment`, or a deployment) to a
 * backend, the upstream model name and the prices. The principal must be allowed to run inference.
 */
export async function resolveTarget(deps: Deps, ctx: Ctx, text: unknown): Promise<Target> {
  authorize(ctx, "inference.run");
  const principal = ctx.principal;
  if (typeof text !== "string" || text === "") throw invalidArgument("model is required, e.g. accounts/my-account/models/my-model");
  const target = parseInferenceModel(text);
  let info: ModelInfo;
  let backendName: string;
  if (target.deployment) {
    const { accountId, deploymentId } = target.deployment;
    const name = deploymentName(accountId, deploymentId);
    const row = accountId === principal.accountId ? await getDeployment(deps.store.db, accountId, deploymentId) : undefined;
    if (!row) throw notFound(`deployment "${name}" not found`);
    if (target.model && modelName(target.model.accountId, target.model.modelId) !== row.model) {
      throw invalidArgument(`deployment "${name}" serves ${row.model}, not ${modelName(target.model.accountId, target.model.modelId)}`);
    }
    if (row.state !== "READY") throw failedPrecondition(`deployment "${name}" is ${row.state}${row.status_message ? `: ${row.status_message}` : ""}`);
    const ref = parseInferenceModel(row.model).model!;
    info = await lookupModel(deps, principal, ref);
    backendName = row.backend;
  } else {
    info = await lookupModel(deps, principal, target.model!);
    backendName = info.backend;
  }
  const backend = deps.config.platform.backends.get(backendName);
  if (!backend) throw failedPrecondition(`backend "${backendName}" of model "${info.name}" is not configured on this server`);
  return { model: info.name, backend, upstreamModel: info.upstreamModel, prices: info };
}

function rateHeaders(limit: number, remaining: number, over: boolean): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": String(limit),
    "x-ratelimit-remaining-requests": String(remaining),
    "x-ratelimit-over-limit": over ? "yes" : "no",
  };
}

/**
 * Admits one inference request for the account, or refuses it with 429: first the month's metered
 * spend against `monthly-spend-usd`, then one request from the account-wide
 * `serverless-inference-rpm` window (a refused request takes nothing). Returns the rate headers.
 */
export async function admit(deps: Deps, principal: Principal, now = Date.now()): Promise<Record<string, string>> {
  const accountId = principal.accountId;
  const limits = await inferenceLimits(deps.store.db, accountId, monthStartDay(now));
  const spent = limits.spentNano;
  if (spent >= limits.spendUsd * NANO_PER_USD) {
    throw new InferenceRefusal(
      "RESOURCE_EXHAUSTED",
      `quota "monthly-spend-usd" exceeded: $${usdFromNano(spent).toFixed(6)} spent this month of $${limits.spendUsd}`,
      "insufficient_quota",
      "insufficient_quota",
      rateHeaders(limits.rpm, 0, true),
    );
  }
  const decision = await deps.rateLimiter.take(accountId, limits.rpm, now);
  if (!decision.allowed) {
    throw new InferenceRefusal(
      "RESOURCE_EXHAUSTED",
      `quota "serverless-inference-rpm" exceeded: the account may send ${limits.rpm} inference requests per minute`,
      "rate_limit_error",
      "rate_limit_exceeded",
      { ...rateHeaders(limits.rpm, 0, true), "retry-after": String(Math.ceil(decision.retryAfterMs / 1000)) },
    );
  }
  return rateHeaders(decision.limit, decision.remaining, false);
}
