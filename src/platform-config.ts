import { quoted } from "./domain/display-text.ts";
import { duplicateMember } from "./domain/json-duplicate-member.ts";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { isValidId } from "./domain/ids.ts";
import { MODEL_KINDS, type ModelKind } from "./domain/model-kind.ts";

/**
 * The operator's platform file (`HEARTH_CONFIG`, JSON): the OpenAI-compatible backends Hearth
 * proxies to, the public models they serve and the gateway's limits. Parsed once at start-up
 * into a frozen object; a bad file stops start-up with a sentence naming the problem.
 *
 * A backend credential lives only here (or in the environment variable the file names): it is
 * added to upstream requests and never appears in a response, a log line or an audit payload.
 */
const idText = (what: string) => z.string().refine(isValidId, `${what} must be 1-63 lowercase letters, digits or '-', starting with a letter`);

const price = z.number().min(0).max(1_000_000);

const publicModel = z.strictObject({
  id: idText("model id"),
  displayName: z.string().max(63).optional(),
  /** The model name the backend knows (e.g. `meta-llama/Llama-3.1-8B-Instruct`); default the id. */
  upstreamModel: z.string().min(1).max(256).optional(),
  inputPricePerMillionTokens: price.default(0),
  outputPricePerMillionTokens: price.default(0),
  /** What one call may cost at most, USD: reserved against monthly-spend-usd when a request gives no max_tokens. */
  maxCostPerRequestUsd: z.number().positive().max(1_000_000).optional(),
  /** Fireworks' `Model.kind`: `EMBEDDING_MODEL` serves `/embeddings` only; the default serves completions. */
  kind: z.enum(MODEL_KINDS).default("HF_BASE_MODEL"),
});

const backend = z
  .strictObject({
    name: idText("backend name"),
    /** The OpenAI base URL, e.g. `http://127.0.0.1:8000/v1`: requests go to `{baseUrl}/chat/completions`. */
    baseUrl: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
    /** Sent upstream as `Authorization: Bearer …`; prefer `apiKeyEnv` so the file holds no secret. */
    apiKey: z.string().min(1).optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .optional(),
    timeoutMs: z.number().int().min(100).max(3_600_000).default(120_000),
    models: z.array(publicModel).default([]),
    /** The upstream model names an account's own models may name on this backend: `*` any run of characters, `{account}` the account's id. */
    accountUpstreamModels: z.array(z.string().min(1).max(256)).min(1).default(["*"]),
  })
  .refine((b) => !(b.apiKey && b.apiKeyEnv), "give apiKey or apiKeyEnv, not both");

const fileSchema = z.strictObject({
  /** Public models are named `accounts/{publicAccountId}/models/{id}` and visible to every account. */
  publicAccountId: idText("publicAccountId").default("fireworks"),
  backends: z.array(backend).default([]),
  datasets: z
    .strictObject({
      /** Largest single upload, bytes (the account's dataset-storage-bytes quota applies as well). */
      maxUploadBytes: z
        .number()
        .int()
        .min(1)
        .default(1024 ** 3),
    })
    .default({ maxUploadBytes: 1024 ** 3 }),
  deployments: z
    .strictObject({
      /** How long a deployment's readiness probe of its backend may take. */
      probeTimeoutMs: z.number().int().min(50).max(120_000).default(5_000),
      /** How often each process probes the backends of FAILED deployments again (0: never). */
      recheckFailedMs: z.union([z.literal(0), z.number().int().min(100).max(86_400_000)]).default(60_000),
    })
    .default({ probeTimeoutMs: 5_000, recheckFailedMs: 60_000 }),
});

export interface PublicModel {
  readonly id: string;
  readonly displayName: string;
  readonly upstreamModel: string;
  readonly inputPricePerMillionTokens: number;
  readonly outputPricePerMillionTokens: number;
  readonly maxCostPerRequestUsd: number | undefined;
  readonly kind: ModelKind;
}

export interface Backend {
  readonly name: string;
  /** Without a trailing slash. */
  readonly baseUrl: string;
  /** The upstream credential; undefined when the backend needs none. Never serialise a Backend. */
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  readonly models: readonly PublicModel[];
  /** The patterns of `accountUpstreamModels`, as written (`mayServeAccountModel` applies them). */
  readonly accountUpstreamModels: readonly string[];
}

/** Each backend's patterns compiled per account, on first use. */
const compiledPatterns = new WeakMap<Backend, Map<string, RegExp[]>>();

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One `accountUpstreamModels` pattern for `accountId`, as a whole-string regular expression. */
const patternFor = (pattern: string, accountId: string): RegExp =>
  new RegExp(
    `^${pattern
      .split("{account}")
      .map((part) => part.split("*").map(escapeRegExp).join("[\\s\\S]*"))
      .join(escapeRegExp(accountId))}$`,
  );

/**
 * Whether an account's own model may name `upstreamModel` on `backend`: it matches one of the
 * backend's `accountUpstreamModels` patterns (`*`: any run of characters; `{account}`: `accountId`).
 * With `["{account}/*"]` an operator keeps each account to its own namespace, so that no account
 * names a public model's upstream (at a price of its own) or another account's.
 */
export function mayServeAccountModel(backend: Backend, accountId: string, upstreamModel: string): boolean {
  if (backend.accountUpstreamModels.length === 1 && backend.accountUpstreamModels[0] === "*") return true;
  let byAccount = compiledPatterns.get(backend);
  if (!byAccount) compiledPatterns.set(backend, (byAccount = new Map()));
  let patterns = byAccount.get(accountId);
  if (!patterns) byAccount.set(accountId, (patterns = backend.accountUpstreamModels.map((p) => patternFor(p, accountId))));
  return patterns.some((pattern) => pattern.test(upstreamModel));
}

export interface PlatformConfig {
  readonly publicAccountId: string;
  readonly backends: ReadonlyMap<string, Backend>;
  /** Public models by id. */
  readonly publicModels: ReadonlyMap<string, PublicModel & { readonly backend: string }>;
  readonly maxUploadBytes: number;
  readonly probeTimeoutMs: number;
  /** How often FAILED deployments' backends are probed again, in milliseconds; 0: never. */
  readonly recheckFailedMs: number;
}

class PlatformConfigError extends Error {}

function fail(message: string): never {
  throw new PlatformConfigError(`invalid HEARTH_CONFIG: ${message}`);
}

/** Parses the platform file's text; `env` resolves `apiKeyEnv`. */
export function parsePlatformConfig(text: string, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`the file is not valid JSON (${(error as Error).message})`);
  }
  // JSON.parse keeps the last of a field given twice: a backend's baseUrl or a price would be the second silently.
  const twice = duplicateMember(text);
  if (twice !== undefined) fail(`the file gives field ${quoted(twice.slice(0, 100))} twice in one object: give it once`);
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `field "${issue.path.join(".")}" ` : "";
    fail(`${where}${issue.message}`);
  }
  const file = parsed.data;
  const backends = new Map<string, Backend>();
  const publicModels = new Map<string, PublicModel & { backend: string }>();
  for (const b of file.backends) {
    if (backends.has(b.name)) fail(`backend "${b.name}" is declared twice`);
    let apiKey = b.apiKey;
    if (b.apiKeyEnv !== undefined) {
      apiKey = env[b.apiKeyEnv];
      if (!apiKey) fail(`backend "${b.name}" names apiKeyEnv ${b.apiKeyEnv}, which is not set`);
    }
    const models = b.models.map((m) =>
      Object.freeze({
        id: m.id,
        displayName: m.displayName ?? m.id,
        upstreamModel: m.upstreamModel ?? m.id,
        inputPricePerMillionTokens: m.inputPricePerMillionTokens,
        outputPricePerMillionTokens: m.outputPricePerMillionTokens,
        maxCostPerRequestUsd: m.maxCostPerRequestUsd,
        kind: m.kind,
      }),
    );
    for (const m of models) {
      if (publicModels.has(m.id)) fail(`public model "${m.id}" is declared by two backends`);
      publicModels.set(m.id, Object.freeze({ ...m, backend: b.name }));
    }
    backends.set(
      b.name,
      Object.freeze({
        name: b.name,
        baseUrl: b.baseUrl.replace(/\/+$/, ""),
        apiKey,
        timeoutMs: b.timeoutMs,
        models: Object.freeze(models),
        accountUpstreamModels: Object.freeze(b.accountUpstreamModels),
      }),
    );
  }
  return Object.freeze({
    publicAccountId: file.publicAccountId,
    backends,
    publicModels,
    maxUploadBytes: file.datasets.maxUploadBytes,
    probeTimeoutMs: file.deployments.probeTimeoutMs,
    recheckFailedMs: file.deployments.recheckFailedMs,
  });
}

/** Reads and parses the file named by `HEARTH_CONFIG`; without one, no backends and default limits. */
export function loadPlatformConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  if (!path) return parsePlatformConfig("{}", env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    fail(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parsePlatformConfig(text, env);
}
