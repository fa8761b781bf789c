import { ApiError, failedPrecondition, invalidArgument, notFound, type StatusName } from "../domain/errors.ts";
import { costNano, monthStartDay, NANO_PER_USD, usdFromNano, type Prices } from "../domain/pricing.ts";
import { deploymentName, modelName, parseInferenceModel, type ModelRef } from "../domain/resource-names.ts";
import type { ModelKind } from "../domain/model-kind.ts";
import type { Backend } from "../platform-config.ts";
import type { Principal } from "../domain/principal.ts";
import type { SpendReservation } from "../domain/spend-ledger.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { authorize } from "../service/permissions.ts";
import { getDeployment } from "../store/deployments.ts";
import { getModel } from "../store/models.ts";
import { inferenceLimits } from "../store/usage.ts";

/**
 * An ApiError that also says which OpenAI error `type` and `code` a client should see, and, when
 * the gateway answers another HTTP status than the control plane would, that status (402 for an
 * exhausted budget, as Fireworks answers it: OpenAI's SDKs do not retry a 402).
 */
export class InferenceRefusal extends ApiError {
  readonly openaiType: string;
  readonly openaiCode: string;
  private readonly httpStatus: number | undefined;

  constructor(status: StatusName, message: string, openaiType: string, openaiCode: string, headers: Record<string, string> = {}, httpStatus?: number) {
    super(status, message, headers);
    this.openaiType = openaiType;
    this.openaiCode = openaiCode;
    this.httpStatus = httpStatus;
  }

  override get httpCode(): number {
    return this.httpStatus ?? super.httpCode;
  }
}

/** The OpenAI-compatible endpoints the gateway proxies, as paths under the backend's `baseUrl`. */
export type InferencePath = "/chat/completions" | "/completions" | "/embeddings";

/** Where a request goes and what it costs. */
export interface Target {
  /** The model's resource name, as metered. */
  model: string;
  kind: ModelKind;
  backend: Backend;
  upstreamModel: string;
  prices: Prices;
  /** The model's `maxCostPerRequestUsd` (public models, HEARTH_CONFIG), if it declares one. */
  maxCostPerRequestUsd: number | undefined;
}

/** A model a principal may use, as the gateway needs it. */
interface ModelInfo extends Prices {
  name: string;
  backend: string;
  upstreamModel: string;
  kind: ModelKind;
  /** Creation time, Unix ms; 0 for a public model (HEARTH_CONFIG says none). */
  createTime: number;
  maxCostPerRequestUsd?: number | undefined;
}

/**
 * The model `ref` names, when the principal may use it: a public model (HEARTH_CONFIG) or one of
 * its own account's; any other reads as missing (404), so that other accounts' models stay unseen.
 */
export async function lookupModel(deps: Deps, principal: Principal, ref: ModelRef): Promise<ModelInfo> {
  const name = modelName(ref.accountId, ref.modelId);
  const { publicAccountId, publicModels } = deps.config.platform;
  if (ref.accountId === publicAccountId) {
    const m = publicModels.get(ref.modelId);
    if (m)
      return {
        name,
        backend: m.backend,
        upstreamModel: m.upstreamModel,
        kind: m.kind,
        createTime: 0,
        inputPricePerMillionTokens: m.inputPricePerMillionTokens,
        outputPricePerMillionTokens: m.outputPricePerMillionTokens,
        maxCostPerRequestUsd: m.maxCostPerRequestUsd,
      };
  } else if (ref.accountId === principal.accountId) {
    const row = await getModel(deps.store.db, ref.accountId, ref.modelId);
    if (row)
      return {
        name,
        backend: row.backend,
        upstreamModel: row.upstream_model,
        kind: "HF_BASE_MODEL",
        createTime: row.create_time,
        inputPricePerMillionTokens: row.input_price,
        outputPricePerMillionTokens: row.output_price,
      };
  }
  // Another account's model reads exactly like a missing one.
  throw notFound(`model "${name}" not found`);
}

/**
 * Resolves an inference request's `model` (a model, `model#deployment`, or a deployment) to a
 * backend, the upstream model name and the prices. The principal must be allowed to run inference,
 * and the model's kind must fit `path`: `/embeddings` takes an `EMBEDDING_MODEL` only, the
 * completions endpoints every other kind (400 otherwise, naming the endpoint to use).
 */
export async function resolveTarget(deps: Deps, ctx: Ctx, text: unknown, path: InferencePath): Promise<Target> {
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
  const embeds = info.kind === "EMBEDDING_MODEL";
  if (embeds !== (path === "/embeddings")) {
    throw invalidArgument(
      embeds
        ? `model "${info.name}" is an embedding model (kind EMBEDDING_MODEL): use /embeddings`
        : `model "${info.name}" is not an embedding model (kind ${info.kind}): use /chat/completions or /completions`,
    );
  }
  const backend = deps.config.platform.backends.get(backendName);
  if (!backend) throw failedPrecondition(`backend "${backendName}" of model "${info.name}" is not configured on this server`);
  return { model: info.name, kind: info.kind, backend, upstreamModel: info.upstreamModel, prices: info, maxCostPerRequestUsd: info.maxCostPerRequestUsd };
}

function rateHeaders(limit: number, remaining: number, over: boolean): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": String(limit),
    "x-ratelimit-remaining-requests": String(remaining),
    "x-ratelimit-over-limit": over ? "yes" : "no",
  };
}

/** Reserved for a call without `max_tokens` whose model declares no `maxCostPerRequestUsd` (README). */
const DEFAULT_MAX_COST_PER_REQUEST_USD = 1;

/** A reservation lapses this long after the backend's time-out, when its process died before settling it. */
const RESERVATION_GRACE_MS = 60_000;

/**
 * The upper bound of a call's cost that admission reserves, nano-dollars: the prompt estimate at
 * the input price plus `max_tokens` (or `max_completion_tokens`) at the output price; without
 * either, the model's `maxCostPerRequestUsd`, else $1. Either is for each of the `n` choices asked
 * for (OpenAI's `n`, default 1: every choice is generated and billed). An embedding produces no tokens: it
 * reserves its `input` at one token per UTF-8 byte of its JSON (no byte-level tokenizer makes
 * more). A free model reserves nothing.
 */
export function reservationNano(target: Target, promptTokens: number, body: Record<string, unknown>): number {
  if (target.prices.inputPricePerMillionTokens === 0 && target.prices.outputPricePerMillionTokens === 0) return 0;
  if (target.kind === "EMBEDDING_MODEL") return costNano(target.prices, Buffer.byteLength(JSON.stringify(body.input ?? "")), 0);
  const choices = typeof body.n === "number" && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === "number" && Number.isInteger(max) && max > 0) return costNano(target.prices, promptTokens, max * choices);
  return Math.round((target.maxCostPerRequestUsd ?? DEFAULT_MAX_COST_PER_REQUEST_USD) * NANO_PER_USD) * choices;
}

/** An admitted call: the rate headers to answer with and the spend it holds until it ends. */
export interface Admission {
  headers: Record<string, string>;
  reservation: SpendReservation;
}

/**
 * Admits one inference request for the account, or refuses it: first a reservation of
 * `amountNano` against `monthly-spend-usd` (admitted while the month's metered spend plus the
 * reservations in flight stay under the limit; else 402 `insufficient_quota`), then one request
 * from the account-wide `serverless-inference-rpm` window (else 429, and the reservation is
 * released). A refused request takes nothing.
 */
export async function admit(deps: Deps, principal: Principal, target: Target, amountNano: number, now = Date.now()): Promise<Admission> {
  const accountId = principal.accountId;
  const month = monthStartDay(now);
  const limits = await inferenceLimits(deps.store.db, accountId, month);
  const ledger = deps.cluster.spendLedger;
  const spend = await ledger.reserve({
    accountId,
    limitNano: limits.spendUsd * NANO_PER_USD,
    // Capped so that every ledger stores it (PostgreSQL's bigint): any larger amount holds the whole budget all the same.
    amountNano: Math.min(amountNano, Number.MAX_SAFE_INTEGER),
    spentNano: limits.spentNano,
    month,
    expireTime: now + target.backend.timeoutMs + RESERVATION_GRACE_MS,
    now,
  });
  if (!spend.allowed) {
    const held = spend.reservedNano > 0 ? ` (and $${usdFromNano(spend.reservedNano).toFixed(6)} reserved by calls in flight)` : "";
    throw new InferenceRefusal(
      "RESOURCE_EXHAUSTED",
      `quota "monthly-spend-usd" exceeded: $${usdFromNano(spend.spentNano).toFixed(6)} spent this month${held} of $${limits.spendUsd}`,
      "insufficient_quota",
      "insufficient_quota",
      rateHeaders(limits.rpm, 0, true),
      402,
    );
  }
  const decision = await deps.rateLimiter.take(accountId, limits.rpm, now);
  if (!decision.allowed) {
    await ledger.release(spend.reservation);
    throw new InferenceRefusal(
      "RESOURCE_EXHAUSTED",
      `quota "serverless-inference-rpm" exceeded: the account may send ${limits.rpm} inference requests per minute`,
      "rate_limit_error",
      "rate_limit_exceeded",
      { ...rateHeaders(limits.rpm, 0, true), "retry-after": String(Math.ceil(decision.retryAfterMs / 1000)) },
    );
  }
  return { headers: rateHeaders(decision.limit, decision.remaining, false), reservation: spend.reservation };
}
