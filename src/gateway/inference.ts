import { ApiError, failedPrecondition, invalidArgument, notFound, type StatusName } from "../domain/errors.ts";
import { costNano, monthStartDay, NANO_PER_USD, usdFromNano, type Prices } from "../domain/pricing.ts";
import { deploymentName, modelName, parseInferenceModel, type InferenceTarget, type ModelRef } from "../domain/resource-names.ts";
import type { ModelKind } from "../domain/model-kind.ts";
import { mayServeAccountModel, type Backend } from "../platform-config.ts";
import { limitsKeyOf, type Principal } from "../domain/principal.ts";
import { accountScope, keyScope, type SpendDecision, type SpendLedger, type SpendReservation, type SpendScope } from "../domain/spend-ledger.ts";
import type { RateDecision } from "../domain/sliding-window.ts";
import type { Ctx, Deps } from "../service/context.ts";
import { checkNamedModel, refuseUnlessNamed, requireAllowedModel } from "./key-restrictions.ts";
import { crossesQuotaThreshold, noteQuotaUse } from "../service/quota-thresholds.ts";

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

/** A 429 `rate_limit_exceeded`: `limit` names the window that refused, as the message does (`quota "serverless-inference-rpm"`, `API key limit "rpm"` or `"tpm"`). */
export class RateRefusal extends InferenceRefusal {
  readonly limit: string;

  constructor(limit: string, message: string, headers: Record<string, string>) {
    super("RESOURCE_EXHAUSTED", message, "rate_limit_error", "rate_limit_exceeded", headers);
    this.limit = limit;
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
    const row = await deps.inferenceCache.model(deps.store.db, ref.accountId, ref.modelId);
    const backend = row && deps.config.platform.backends.get(row.backend);
    // Made before the operator narrowed the backend's accountUpstreamModels: not served.
    if (backend && !mayServeAccountModel(backend, ref.accountId, row.upstream_model))
      throw failedPrecondition(`model "${name}" names upstream model "${row.upstream_model}", which backend "${row.backend}" no longer serves to this account`);
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
 * The targets of public models by the exact `model` text that named them (one per public model:
 * only its resource name parses to it), per platform file, which does not change while the server
 * runs: a public model's call resolves without parsing or building anything.
 */
const publicTargets = new WeakMap<Deps["config"]["platform"], Map<string, Target>>();

/**
 * Resolves an inference request's `model` (a model, `model#deployment`, or a deployment) to a
 * backend, the upstream model name and the prices (the caller has checked that the principal may
 * run inference). The model's kind must fit `path`: `/embeddings` takes an `EMBEDDING_MODEL` only, the
 * completions endpoints every other kind (400 otherwise, naming the endpoint to use).
 */
export async function resolveTarget(deps: Deps, ctx: Ctx, text: unknown, path: InferencePath): Promise<Target> {
  if (text === undefined || text === "") throw invalidArgument("model is required, e.g. accounts/my-account/models/my-model");
  if (typeof text !== "string") {
    const given = text === null ? "null" : Array.isArray(text) ? "an array" : `a ${typeof text}`;
    throw invalidArgument(`model must be a string naming a model or deployment, e.g. accounts/my-account/models/my-model, not ${given}`);
  }
  const platform = deps.config.platform;
  let known = publicTargets.get(platform);
  if (!known) publicTargets.set(platform, (known = new Map()));
  const cached = known.get(text);
  if (cached) {
    requireKindFits(ctx.principal, text, cached.model, cached.kind, path);
    return cached;
  }
  const parsed = parseInferenceModel(text);
  const target = await targetOf(deps, ctx.principal, parsed, path, text);
  if (!parsed.deployment && parsed.model!.accountId === platform.publicAccountId) known.set(text, Object.freeze(target));
  return target;
}

/**
 * The model's kind must fit the endpoint (see `resolveTarget`); throws 400 naming the endpoint to
 * use — to a key that may call the model (`requested`: the request's `model`): to any other, the
 * kind of a model outside its allowedModels is not told (404, `requireAllowedModel`).
 */
function requireKindFits(principal: Principal, requested: string, model: string, kind: ModelKind, path: InferencePath): void {
  const embeds = kind === "EMBEDDING_MODEL";
  if (embeds === (path === "/embeddings")) return;
  requireAllowedModel(principal, model, requested);
  throw invalidArgument(
    embeds
      ? `model "${model}" is an embedding model (kind EMBEDDING_MODEL): use /embeddings`
      : `model "${model}" is not an embedding model (kind ${kind}): use /chat/completions or /completions`,
  );
}

/** Where a parsed `model` goes for `path`: see `resolveTarget`. */
async function targetOf(deps: Deps, principal: Principal, target: InferenceTarget, path: InferencePath, requested: string): Promise<Target> {
  // A key limited to allowedModels is refused a model it may not call before anything is read.
  const named = checkNamedModel(principal, target, requested);
  let info: ModelInfo;
  let backendName: string;
  if (target.deployment) {
    const { accountId, deploymentId } = target.deployment;
    const name = deploymentName(accountId, deploymentId);
    const row = accountId === principal.accountId ? await deps.inferenceCache.deployment(deps.store.db, accountId, deploymentId) : undefined;
    if (!row) throw refuseUnlessNamed(named, requested, notFound(`deployment "${name}" not found`));
    // What the deployment serves and why it is down are told only to a key that may call it.
    requireAllowedModel(principal, row.model, requested);
    if (target.model && modelName(target.model.accountId, target.model.modelId) !== row.model) {
      throw invalidArgument(`deployment "${name}" serves ${row.model}, not ${modelName(target.model.accountId, target.model.modelId)}`);
    }
    if (row.state !== "READY") {
      throw failedPrecondition(`deployment "${name}" is ${row.state}${row.status_message ? `: ${row.status_message}` : ""}`);
    }
    const ref = parseInferenceModel(row.model).model!;
    info = await lookupModel(deps, principal, ref);
    backendName = row.backend;
    // An account's own model on another backend than its own: that backend's accountUpstreamModels
    // hold too (a model may have been re-pointed, or the backend narrowed, since the deployment).
    const runsOn = deps.config.platform.backends.get(backendName);
    if (runsOn && ref.accountId !== deps.config.platform.publicAccountId && !mayServeAccountModel(runsOn, ref.accountId, info.upstreamModel))
      throw failedPrecondition(
        `deployment "${name}" runs ${info.name} (upstream model "${info.upstreamModel}") on backend "${backendName}", which does not serve it to this account`,
      );
  } else {
    info = await lookupModel(deps, principal, target.model!);
    backendName = info.backend;
  }
  requireKindFits(principal, requested, info.name, info.kind, path);
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

/** Reserved for a call without `max_tokens` whose model declares no `maxCostPerRequestUsd` (docs/inference.md). */
const DEFAULT_MAX_COST_PER_REQUEST_USD = 1;

/** A reservation lapses this long after the backend's time-out, when its process died before settling it. */
const RESERVATION_GRACE_MS = 60_000;

const wholeCount = (value: unknown): number | undefined => (typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined);

/**
 * How many prompts a completions `prompt` holds: OpenAI's legacy API takes a batch, an array of
 * strings or of token arrays, and answers each (a flat array of token ids is one prompt). Chat
 * has none: one.
 */
function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0 || prompt.every((p) => typeof p === "number")) return 1;
  return prompt.length;
}

/**
 * What a call may generate, as its body asks: `choices`, the larger of OpenAI's `n` and the legacy
 * completions' `best_of` (every candidate is generated and billed; default 1) for each prompt of a
 * completions batch (`promptCount`), and `maxTokens` per
 * choice, the larger of `max_tokens` and `max_completion_tokens` when both are sent (a backend may
 * read either: the legacy completions API knows only `max_tokens`), undefined when neither is
 * (a limit of 0 counts as none). The gateway has refused values that are not whole numbers before
 * (proxy.ts: ≥ 1 for the choices, ≥ 0 for the token limits).
 */
function outputBound(body: Record<string, unknown>): { choices: number; maxTokens: number | undefined } {
  const choices = Math.max(wholeCount(body.n) ?? 1, wholeCount(body.best_of) ?? 1) * promptCount(body.prompt);
  const limits = [wholeCount(body.max_tokens), wholeCount(body.max_completion_tokens)].filter((v) => v !== undefined);
  return { choices, maxTokens: limits.length ? Math.max(...limits) : undefined };
}

/**
 * The upper bound of a call's cost that admission reserves, nano-dollars: the prompt estimate at
 * the input price plus `outputBound`'s tokens at the output price; without a token limit, the
 * model's `maxCostPerRequestUsd`, else $1. Either is for each choice asked for. An embedding
 * produces no tokens: it reserves its `input` at one token per UTF-8 byte of its JSON (no
 * byte-level tokenizer makes more). A free model reserves nothing.
 */
export function reservationNano(target: Target, promptTokens: number, body: Record<string, unknown>): number {
  if (target.prices.inputPricePerMillionTokens === 0 && target.prices.outputPricePerMillionTokens === 0) return 0;
  if (target.kind === "EMBEDDING_MODEL") return costNano(target.prices, Buffer.byteLength(JSON.stringify(body.input ?? "")), 0);
  const { choices, maxTokens } = outputBound(body);
  if (maxTokens !== undefined) return costNano(target.prices, promptTokens, maxTokens * choices);
  return Math.round((target.maxCostPerRequestUsd ?? DEFAULT_MAX_COST_PER_REQUEST_USD) * NANO_PER_USD) * choices;
}

/**
 * Output tokens a call without `max_tokens` (or `max_completion_tokens`) reserves against its key's
 * `tpm`: the ceiling assumed for a model that declares none (docs/performance.md).
 */
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

/**
 * The tokens a call holds against its key's `tpm` until it ends: the prompt estimate plus
 * `outputBound`'s tokens (else `DEFAULT_MAX_OUTPUT_TOKENS`) for each choice; an embedding, its prompt alone.
 */
export function reservedTokens(target: Target, promptTokens: number, body: Record<string, unknown>): number {
  if (target.kind === "EMBEDDING_MODEL") return promptTokens;
  const { choices, maxTokens } = outputBound(body);
  return promptTokens + (maxTokens ?? DEFAULT_MAX_OUTPUT_TOKENS) * choices;
}

/** Tokens a call took from its key's `tpm` window, to reconcile with what it used when it ends. */
interface TokenHold {
  key: string;
  tokens: number;
  /** When they were taken (Unix ms): the window they count in. */
  at: number;
}

/** An admitted call: the rate headers to answer with, the spend it holds until it is metered, and the tokens it holds. */
export interface Admission {
  headers: Record<string, string>;
  reservation: SpendReservation;
  tokens: TokenHold | undefined;
  /** How long the reservation lives past the call's last sign of life (the backend's time-out plus RESERVATION_GRACE_MS), ms. */
  holdMs: number;
  /** When `keepHeld` next renews the reservation (epoch ms). */
  renewAt: number;
}

/**
 * How often a living call renews its reservation, at most: less than RESERVATION_GRACE_MS, so that
 * however a backend spaces its chunks (up to its time-out apart, else the call ends), a renewal
 * comes before the hold lapses (`holdMs` = time-out + grace after the last renewal).
 */
const RENEW_EVERY_MS = RESERVATION_GRACE_MS / 2;

/**
 * A living call keeps its spend held: called at each sign of life (a chunk from the backend),
 * it renews the reservation's expiry to `holdMs` from `now` once RENEW_EVERY_MS has passed since
 * the last renewal, so a stream that outlives its backend's time-out plus a minute never lets its
 * reservation lapse (and admit calls past the limit), while renewals cost one ledger call per
 * RENEW_EVERY_MS. A failed renewal is logged by the caller's `onError` and tried again at the next sign.
 */
export function keepHeld(ledger: SpendLedger, admission: Admission, now: number, onError: (error: unknown) => void): void {
  if (now < admission.renewAt) return;
  admission.renewAt = now + RENEW_EVERY_MS;
  ledger.renew(admission.reservation, now + admission.holdMs).catch((error: unknown) => {
    admission.renewAt = now;
    onError(error);
  });
}

const usd = (nano: number) => `$${usdFromNano(nano).toFixed(6)}`;

/**
 * Admits one inference request, or refuses it; a refused request takes nothing. Everything it
 * reads is in memory (the account's quotas: `InferenceCache`; the key's limits: its principal),
 * and the counters are shared across processes (`Cluster`), all asked at once:
 * - spend: a reservation of `amountNano` against the account's `monthly-spend-usd` and the key's
 *   `monthlySpendUsd` (admitted while, in each, the month's metered spend plus the reservations in
 *   flight stay under the limit; else 402 `insufficient_quota`);
 * - one request from the key's `rpm` and the account's `serverless-inference-rpm` windows, and
 *   `tokens` from the key's `tpm` window (sliding windows of a minute; else 429).
 * When one refuses, what the others took is given back.
 */
export async function admit(deps: Deps, principal: Principal, target: Target, amountNano: number, tokens: number, now = Date.now()): Promise<Admission> {
  const accountId = principal.accountId;
  const month = monthStartDay(now);
  const quotas = await deps.inferenceCache.quotas(deps.store.db, accountId);
  // A key's limit of 0 is no limit of its own (the API's "cleared"): only the account's quotas apply.
  const own = (principal.apiKeyId && principal.restrictions) || {};
  const limits = {
    rpm: own.rpm ? own.rpm : undefined,
    tpm: own.tpm ? own.tpm : undefined,
    monthlySpendUsd: own.monthlySpendUsd ? own.monthlySpendUsd : undefined,
  };
  const scopes: SpendScope[] = [{ scope: accountScope(accountId), limitNano: quotas.spendUsd * NANO_PER_USD }];
  // Counted under the key it shares counters with (its rotation chain's first, or the limited key it was made through).
  const counted = limitsKeyOf(principal);
  if (limits.monthlySpendUsd !== undefined) scopes.push({ scope: keyScope(counted), limitNano: Math.round(limits.monthlySpendUsd * NANO_PER_USD) });
  const rates: Array<{ key: string; limit: number; amount: number; name: string }> = [];
  if (limits.rpm !== undefined) rates.push({ key: `rpm:${counted}`, limit: limits.rpm, amount: 1, name: "rpm" });
  rates.push({ key: accountId, limit: quotas.rpm, amount: 1, name: "serverless-inference-rpm" });
  // A call reserving more than the whole window could never run: it holds the window instead.
  if (limits.tpm !== undefined) rates.push({ key: `tpm:${counted}`, limit: limits.tpm, amount: Math.min(tokens, limits.tpm), name: "tpm" });
  const ledger = deps.cluster.spendLedger;
  const holdMs = target.backend.timeoutMs + RESERVATION_GRACE_MS;
  const request = {
    scopes,
    // Capped so that every ledger stores it (PostgreSQL's bigint): any larger amount holds the whole budget all the same.
    amountNano: Math.min(amountNano, Number.MAX_SAFE_INTEGER),
    month,
    expireTime: now + holdMs,
    now,
  };
  // One array of calls, awaited at once: the spend decision first, then the rates' in `rates` order.
  const calls: Array<Promise<SpendDecision | RateDecision>> = [ledger.reserve(request)];
  for (const r of rates) calls.push(deps.rateLimiter.take(r.key, r.limit, now, r.amount));
  const answers = await Promise.all(calls);
  let spend = answers.shift() as SpendDecision;
  const decisions = answers as RateDecision[];
  if (!spend.allowed) {
    // This process's ended calls hold their spend until their batch is written: write it, and
    // decide again on what was spent (a refusal is rare; it names the metered amount).
    await deps.cluster.meter.flush().catch(() => undefined);
    spend = await ledger.reserve(request);
  }
  const refused = decisions.findIndex((d) => !d.allowed);
  if (!spend.allowed || refused !== -1) {
    await Promise.all([
      spend.allowed ? ledger.release(spend.reservation) : undefined,
      ...rates.map((r, i) => (decisions[i]!.allowed ? deps.rateLimiter.adjust(r.key, -r.amount, now) : undefined)),
    ]);
  }
  const account = decisions[rates.findIndex((r) => r.key === accountId)]!;
  if (!spend.allowed) {
    const held = spend.reservedNano > 0 ? ` (and ${usd(spend.reservedNano)} reserved by calls in flight)` : "";
    const spent = `${usd(spend.spentNano)} spent this month${held} of $${usdFromNano(spend.limitNano)}`;
    throw new InferenceRefusal(
      "RESOURCE_EXHAUSTED",
      spend.scope === scopes[0]!.scope ? `quota "monthly-spend-usd" exceeded: ${spent}` : `API key limit "monthlySpendUsd" exceeded: ${spent}`,
      "insufficient_quota",
      "insufficient_quota",
      rateHeaders(quotas.rpm, 0, true),
      402,
    );
  }
  if (refused !== -1) {
    const rate = rates[refused]!;
    const decision = decisions[refused] as RateDecision;
    const message =
      rate.name === "serverless-inference-rpm"
        ? `quota "serverless-inference-rpm" exceeded: the account may send ${rate.limit} inference requests per minute`
        : rate.name === "rpm"
          ? `API key limit "rpm" exceeded: the key may send ${rate.limit} inference requests per minute`
          : `API key limit "tpm" exceeded: the key may use ${rate.limit} tokens per minute and this request reserves ${rate.amount}`;
    throw new RateRefusal(rate.name === "serverless-inference-rpm" ? `quota "serverless-inference-rpm"` : `API key limit "${rate.name}"`, message, {
      ...rateHeaders(rate.amount === 1 ? rate.limit : quotas.rpm, 0, true),
      "retry-after": String(Math.ceil(decision.retryAfterMs / 1000)),
    });
  }
  // quota.threshold webhook event when this request takes the account's minute window to 80 % or 100 %; off the response path.
  const used = account.limit - account.remaining;
  if (crossesQuotaThreshold(used - 1, used, account.limit))
    void noteQuotaUse(deps, deps.store.db, accountId, "serverless-inference-rpm", used - 1, used, account.limit).catch(() => undefined);
  // The tighter of the request windows is the one a client should pace itself by.
  const keyRpm = limits.rpm !== undefined ? decisions[0]! : undefined;
  const shown = keyRpm && keyRpm.remaining < account.remaining ? keyRpm : account;
  const tpm = rates.find((r) => r.name === "tpm");
  return {
    headers: rateHeaders(shown.limit, shown.remaining, false),
    reservation: spend.reservation,
    tokens: tpm ? { key: tpm.key, tokens: tpm.amount, at: now } : undefined,
    holdMs,
    renewAt: now + RENEW_EVERY_MS,
  };
}
