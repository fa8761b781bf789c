import { quoted } from "../../../domain/display-text.ts";
import { duplicateMember } from "../../../domain/json-duplicate-member.ts";
import { readFileSync } from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import { ACCELERATOR_TYPES } from "../../../domain/deployment-spec.ts";
import { LOAD_TARGET_KEYS } from "../../../domain/autoscaling-policy.ts";
import { MULTI_REGIONS, PRECISIONS, REGIONS } from "../../../domain/deployment-options.ts";
import { parseBool, parseDuration, parseInt32, parseList, parseTime } from "../parsers.ts";
import type { Deployment } from "../../../http/resources/deployment.ts";
import { runs, type Context } from "../context.ts";
import { apiFailure, CliError, usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { deploymentRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";
import { deploymentName } from "../../../domain/resource-names.ts";
import { isJsonObject } from "../../../domain/json-object.ts";

/** `firectl deployment …`: a model bound to a backend; READY once the backend answers. */
export const deploymentNoun: Noun = { name: "deployment", aliases: ["deployments"], description: "deployments: a model on a backend" };

function parseAcceleratorType(value: string): string {
  if (!(ACCELERATOR_TYPES as readonly string[]).includes(value)) throw new InvalidArgumentError(`use one of ${ACCELERATOR_TYPES.join(", ")}`);
  return value;
}

function parsePrecision(value: string): string {
  if (!(PRECISIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`use one of ${PRECISIONS.join(", ")}`);
  return value;
}

/**
 * `--region`, as Fireworks' "Regions" page writes it: a multi-region (GLOBAL, US, EUROPE, APAC) or
 * one region (e.g. US_IOWA_1); returns the Deployment's `placement`.
 */
function parseRegion(value: string): { multiRegion: string } | { region: string } {
  if ((MULTI_REGIONS as readonly string[]).includes(value)) return { multiRegion: value };
  if ((REGIONS as readonly string[]).includes(value)) return { region: value };
  throw new InvalidArgumentError(`use a multi-region (${MULTI_REGIONS.join(", ")}) or a region (${REGIONS.join(", ")})`);
}

/** A decimal number as people write one (`0.8`, `5`, `-1`): `Number()` would also read `0x1`, `1e0` or ` 1`. */
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * `--load-targets key=value[,key=value…]` (Fireworks' "Autoscaling" page): each key one of
 * LOAD_TARGET_KEYS, each value a decimal number; the server checks their ranges.
 */
function parseLoadTargets(value: string): Record<string, number> {
  const targets: Record<string, number> = {};
  for (const pair of parseList(value)) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    const number = pair.slice(at + 1);
    if (at < 1 || !(LOAD_TARGET_KEYS as readonly string[]).includes(key) || !DECIMAL.test(number))
      throw new InvalidArgumentError(`expected key=number pairs separated by commas, keys among ${LOAD_TARGET_KEYS.join(", ")} (e.g. default=0.8)`);
    targets[key] = Number(number);
  }
  return targets;
}

/** A JSON file of Deployment fields (`--file`, Fireworks' "deployment-config.json"): an object, read whole. */
function readDeploymentFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw usageError(`--file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`--file ${path}: not JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(value)) throw usageError(`--file ${path}: expected a JSON object of Deployment fields`);
  // JSON.parse keeps the last of a field given twice; the server refuses such a body, so does the file.
  const twice = duplicateMember(text);
  if (twice !== undefined) throw usageError(`--file ${path}: field ${quoted(twice.slice(0, 100))} is given twice in one object: give it once`);
  return value;
}

/** The body from `--file` (if any) with the flags given on top (an `autoscalingPolicy` merged field by field). */
function withFile(file: string | undefined, flags: Record<string, unknown>): Record<string, unknown> {
  const body = file ? readDeploymentFile(file) : {};
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const given = body[key];
    body[key] =
      isJsonObject(value) && isJsonObject(given) ? { ...given, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) } : value;
  }
  return body;
}

/** States a deployment passes through on its way to READY, FAILED or DELETED. */
const PASSING = new Set(["CREATING", "UPDATING", "DELETING", "STATE_UNSPECIFIED"]);
const POLL_MS = 1000;

/**
 * `--wait`: polls the deployment (each second) until it leaves its passing states or, for a
 * deletion, is DELETED or gone, within `timeout` (a protobuf Duration, Fireworks' default 1h);
 * a deployment that ends FAILED is an API failure naming its reason.
 * @throws CliError (exit 1) on FAILED or when the time runs out.
 */
async function waitFor(ctx: Context, accountId: string, id: string, timeout: string, deleting: boolean): Promise<Deployment | undefined> {
  const deadline = Date.now() + Number(timeout.slice(0, -1)) * 1000;
  for (;;) {
    let d: Deployment | undefined;
    try {
      d = await ctx.send<Deployment>({ method: "GET", path: paths.deployment(accountId, id) });
    } catch (error) {
      if (deleting && error instanceof CliError && error.status === "NOT_FOUND") return undefined;
      throw error;
    }
    const state = d.state ?? "";
    if (deleting ? state === "DELETED" : !PASSING.has(state)) {
      if (state === "FAILED") throw apiFailure(`deployment ${d.name} is FAILED: ${d.status?.message ?? ""}`);
      return d;
    }
    if (Date.now() >= deadline) throw apiFailure(`deployment ${d.name} is still ${state} after --wait-timeout ${timeout}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** `--wait` and `--wait-timeout`, as Fireworks' firectl names them. */
const withWait = (command: Command, what: string): Command =>
  command
    .option("--wait", `wait until the deployment ${what}`)
    .addOption(new Option("--wait-timeout <duration>", "how long --wait waits, e.g. 30m (default 1h0m0s)").argParser(parseDuration).default("3600s"));

/** `KEY=VALUE` (repeatable `--annotation`), collected into one object. */
function collectAnnotation(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const at = value.indexOf("=");
  if (at < 1) throw new InvalidArgumentError("expected KEY=VALUE");
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function deploymentFields(d: Deployment): string {
  const annotations = Object.entries(d.annotations ?? {}).map(([k, v]) => `${k}=${v}`);
  return renderFields([
    ["Name", d.name],
    ["Display Name", d.displayName ?? ""],
    ["Description", d.description ?? ""],
    ["Base Model", d.baseModel ?? ""],
    ["Backend", d.backend ?? ""],
    ["State", d.state ?? ""],
    ["Status", d.status?.message ? `${d.status.code ?? ""}: ${d.status.message}` : (d.status?.code ?? "")],
    ["Min Replica Count", String(d.minReplicaCount ?? 0)],
    ["Max Replica Count", String(d.maxReplicaCount ?? 0)],
    ["Replica Count", String(d.replicaCount ?? 0)],
    ["Accelerator Type", d.acceleratorType ?? ""],
    ["Accelerator Count", d.acceleratorCount === undefined ? "" : String(d.acceleratorCount)],
    ["Deployment Shape", d.deploymentShape ?? ""],
    ["Precision", d.precision ?? ""],
    [
      "Placement",
      Object.values(d.placement ?? {})
        .flat()
        .join(","),
    ],
    ["Enable Addons", String(d.enableAddons ?? false)],
    ["Draft Model", d.draftModel ?? ""],
    ["Draft Token Count", d.draftTokenCount === undefined ? "" : String(d.draftTokenCount)],
    ["Ngram Speculation Length", d.ngramSpeculationLength === undefined ? "" : String(d.ngramSpeculationLength)],
    ["Enable Session Affinity", String(d.enableSessionAffinity ?? false)],
    ["Long Prompt", String(d.autoTune?.longPrompt ?? false)],
    ["Scale Up Window", d.autoscalingPolicy?.scaleUpWindow ?? ""],
    ["Scale Down Window", d.autoscalingPolicy?.scaleDownWindow ?? ""],
    ["Scale To Zero Window", d.autoscalingPolicy?.scaleToZeroWindow ?? ""],
    [
      "Load Targets",
      Object.entries(d.autoscalingPolicy?.loadTargets ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    ],
    ["Annotations", annotations.join(", ")],
    ["Created By", d.createdBy ?? ""],
    ["Create Time", localTime(d.createTime)],
    ["Update Time", localTime(d.updateTime)],
    ...(d.deleteTime ? ([["Delete Time", localTime(d.deleteTime)]] as const) : []),
    ...(d.purgeTime ? ([["Purge Time", localTime(d.purgeTime)]] as const) : []),
  ]);
}

const COLUMNS: ReadonlyArray<Column<Deployment>> = [
  ["ID", (d) => idOf(d.name)],
  ["BASE MODEL", (d) => d.baseModel ?? ""],
  ["BACKEND", (d) => d.backend ?? ""],
  ["STATE", (d) => d.state ?? ""],
  ["REPLICAS", (d) => `${d.replicaCount ?? 0} (${d.minReplicaCount ?? 0}-${d.maxReplicaCount ?? 0})`],
  ["CREATED BY", (d) => d.createdBy ?? ""],
];

interface WaitFlags {
  wait?: boolean;
  waitTimeout: string;
}

interface Flags {
  file?: string;
  deploymentId?: string;
  displayName?: string;
  description?: string;
  backend?: string;
  baseModel?: string;
  minReplicaCount?: number;
  maxReplicaCount?: number;
  acceleratorType?: string;
  acceleratorCount?: number;
  deploymentShape?: string;
  annotation?: Record<string, string>;
  scaleUpWindow?: string;
  scaleDownWindow?: string;
  scaleToZeroWindow?: string;
  loadTargets?: Record<string, number>;
  precision?: string;
  region?: { multiRegion: string } | { region: string };
  enableAddons?: boolean;
  draftModel?: string;
  draftTokenCount?: number;
  ngramSpeculationLength?: number;
  enableSessionAffinity?: boolean;
  longPrompt?: boolean;
  expireTime?: string;
}

/** The flags create and update share, named as Fireworks' firectl names them. */
const withFlags = (command: Command): Command =>
  command
    .option("--file <path>", "a JSON file of Deployment fields (as the REST API names them); flags given too take precedence")
    .option("--display-name <name>", "display name (under 64 characters)")
    .option("--description <text>", "description of the deployment")
    .option("--backend <name>", "backend to serve it on (default: the model's own)")
    .addOption(new Option("--min-replica-count <n>", "minimum number of replicas (desired state; default 0)").argParser(parseInt32))
    .addOption(new Option("--max-replica-count <n>", "maximum number of replicas (desired state; default max(min, 1))").argParser(parseInt32))
    .addOption(new Option("--accelerator-type <type>", `accelerator per replica: ${ACCELERATOR_TYPES.join(", ")}`).argParser(parseAcceleratorType))
    .addOption(new Option("--accelerator-count <n>", "number of accelerators per replica").argParser(parseInt32))
    .option("--deployment-shape <shape>", "deployment shape, e.g. accounts/fireworks/deploymentShapes/my-shape")
    .addOption(new Option("--annotation <key=value>", "annotation (repeatable)").argParser(collectAnnotation))
    .addOption(new Option("--scale-up-window <duration>", "wait after more load before scaling up, e.g. 30s (default 30s)").argParser(parseDuration))
    .addOption(new Option("--scale-down-window <duration>", "wait after less load before scaling down, e.g. 10m (default 10m)").argParser(parseDuration))
    .addOption(
      new Option("--scale-to-zero-window <duration>", "idle time before scaling to zero when min replicas is 0, at least 5m (default 1h)").argParser(
        parseDuration,
      ),
    )
    .addOption(
      new Option("--load-targets <key=value,...>", `scaling thresholds: ${LOAD_TARGET_KEYS.join(", ")} (default default=0.8)`).argParser(parseLoadTargets),
    )
    // Serving options (desired state, stored and shown; Hearth runs no GPU).
    .addOption(new Option("--precision <precision>", `precision to serve the model in: ${PRECISIONS.join(", ")}`).argParser(parsePrecision))
    .addOption(
      new Option("--region <region>", "where it must run: GLOBAL (the default), US, EUROPE, APAC, or a region such as US_IOWA_1").argParser(parseRegion),
    )
    .addOption(new Option("--enable-addons [bool]", "allow PEFT add-ons (LoRA) on the deployment").argParser(parseBool))
    .option("--draft-model <model>", "draft model for speculative decoding: a model id of this account (else the public one) or a full name")
    .addOption(
      new Option("--draft-token-count <n>", "tokens per speculative step (required with --draft-model or --ngram-speculation-length)").argParser(parseInt32),
    )
    .addOption(new Option("--ngram-speculation-length <n>", "n-gram speculation from the input instead of a draft model").argParser(parseInt32))
    .addOption(new Option("--enable-session-affinity [bool]", "sticky routing by the request's user field").argParser(parseBool))
    .addOption(new Option("--long-prompt [bool]", "optimize for long prompts (autoTune.longPrompt)").argParser(parseBool))
    .addOption(
      new Option(
        "--expire-time <time>",
        'when Fireworks would delete the deployment, "YYYY-MM-DD[ HH:MM:SS]": refused, Hearth does not expire deployments',
      ).argParser(parseTime),
    );

/** The request body fields the flags set (undefined: not given). */
const bodyOf = (o: Flags) => ({
  displayName: o.displayName,
  description: o.description,
  backend: o.backend,
  minReplicaCount: o.minReplicaCount,
  maxReplicaCount: o.maxReplicaCount,
  acceleratorType: o.acceleratorType,
  acceleratorCount: o.acceleratorCount,
  deploymentShape: o.deploymentShape,
  annotations: o.annotation,
  autoscalingPolicy:
    (o.scaleUpWindow ?? o.scaleDownWindow ?? o.scaleToZeroWindow ?? o.loadTargets)
      ? { scaleUpWindow: o.scaleUpWindow, scaleDownWindow: o.scaleDownWindow, scaleToZeroWindow: o.scaleToZeroWindow, loadTargets: o.loadTargets }
      : undefined,
  precision: o.precision,
  placement: o.region,
  enableAddons: o.enableAddons,
  draftModel: o.draftModel,
  draftTokenCount: o.draftTokenCount,
  ngramSpeculationLength: o.ngramSpeculationLength,
  enableSessionAffinity: o.enableSessionAffinity,
  autoTune: o.longPrompt === undefined ? undefined : { longPrompt: o.longPrompt },
  expireTime: o.expireTime,
});

const create: Verb = {
  noun: "deployment",
  verb: "create",
  summary: "deploy a model; READY once its backend answers, FAILED with the reason otherwise (quota: deployments)",
  examples: [
    "firectl deployment create accounts/my-account/models/my-llama --deployment-id my-dep",
    "firectl deployment create accounts/fireworks/models/llama-v3p1-8b-instruct --min-replica-count 0 --max-replica-count 2 --accelerator-type NVIDIA_H100_80GB",
    "firectl deployment create llama-v3p1-8b-instruct --min-replica-count 0 --max-replica-count 3 --scale-to-zero-window 1h --load-targets concurrent_requests=5",
    "firectl deployment create accounts/fireworks/models/llama-v3p1-8b-instruct --region US --precision FP8 --enable-addons",
  ],
  define: (command) =>
    runs<Flags & WaitFlags & { disableSpeculativeDecoding?: boolean }>(
      withWait(
        withFlags(
          command
            .argument("<model>", "model name, or an id: this account's model of that id, else the public model")
            .option("--deployment-id <id>", "id of the new deployment (generated by the server when absent)")
            .option("--disable-speculative-decoding", "no speculative decoding from the base model's defaults (Hearth's models bring none)"),
        ),
        "is READY (FAILED: exit 1)",
      ),
      async (ctx, [model], o) => {
        const body = withFile(o.file, { ...bodyOf(o), baseModel: model });
        const accountId = await ctx.accountId();
        const query = { deploymentId: o.deploymentId, ...(o.disableSpeculativeDecoding ? { disableSpeculativeDecoding: "true" } : {}) };
        const request = { method: "POST", path: paths.deployments(accountId), query, body } as const;
        await ctx.call<Deployment>(request, async (d) =>
          ctx.show(o.wait ? ((await waitFor(ctx, accountId, idOf(d.name), o.waitTimeout, false)) ?? d) : d, deploymentFields),
        );
      },
    ),
};

const get: Verb = {
  noun: "deployment",
  verb: "get",
  summary: "show a deployment",
  examples: ["firectl deployment get my-dep"],
  define: (command) =>
    runs(command.argument("<deployment>", "deployment id or name"), async (ctx, [value]) => {
      const ref = deploymentRef(value ?? "");
      await ctx.call<Deployment>({ method: "GET", path: paths.deployment(await ctx.accountId(ref), ref.id) }, (d) => ctx.show(d, deploymentFields));
    }),
};

const listDeployments: Verb = {
  noun: "deployment",
  verb: "list",
  summary: "list the account's deployments",
  examples: ["firectl deployment list", "firectl deployment list --filter 'state=READY'", "firectl deployment list --show-deleted"],
  define: (command) =>
    runs<ListFlags & { showDeleted?: boolean }>(
      withListFlags(command, "'state=READY'").option("--show-deleted", "include DELETED deployments (until purged)"),
      async (ctx, _args, flags) => {
        const query = flags.showDeleted ? { showDeleted: "true" } : {};
        await list<Deployment>(ctx, { method: "GET", path: paths.deployments(await ctx.accountId()), query }, "deployments", flags, (items) =>
          renderTable(COLUMNS, items),
        );
      },
    ),
};

const update: Verb = {
  noun: "deployment",
  verb: "update",
  summary: "change a deployment; one that is not READY is probed again (its creator, or a user or admin)",
  examples: ["firectl deployment update my-dep --display-name prod", "firectl deployment update my-dep --base-model accounts/my-account/models/other"],
  define: (command) =>
    runs<Flags>(
      withFlags(command.argument("<deployment>", "deployment id or name").option("--base-model <model>", "model to serve instead")),
      async (ctx, [value], o) => {
        const patch = withFile(o.file, { ...bodyOf(o), baseModel: o.baseModel });
        if (Object.keys(patch).length === 0) throw usageError("nothing to update: pass at least one flag or --file; see 'firectl deployment update --help'");
        const ref = deploymentRef(value ?? "");
        await ctx.call<Deployment>({ method: "PATCH", path: paths.deployment(await ctx.accountId(ref), ref.id), body: patch }, (d) =>
          ctx.show(d, deploymentFields),
        );
      },
    ),
};

const remove: Verb = {
  noun: "deployment",
  verb: "delete",
  summary: `delete a deployment (its creator, or a user or admin): restorable with 'firectl deployment undelete' until purged; --hard purges it at once`,
  examples: ["firectl deployment delete my-dep", "firectl deployment delete my-dep --hard"],
  define: (command) =>
    runs<{ hard?: boolean; ignoreChecks?: boolean } & WaitFlags>(
      withWait(
        command
          .argument("<deployment>", "deployment id or name")
          .option("--hard", "purge the deployment at once (no undelete)")
          .option("--ignore-checks", "accepted for Fireworks scripts; Hearth has no in-use check to skip"),
        "is deleted",
      ),
      async (ctx, [value], o) => {
        const ref = deploymentRef(value ?? "");
        const accountId = await ctx.accountId(ref);
        const query = o.hard ? { hard: "true" } : {};
        await ctx.call({ method: "DELETE", path: paths.deployment(accountId, ref.id), query }, async (answer) => {
          if (o.wait) await waitFor(ctx, accountId, ref.id, o.waitTimeout, true);
          ctx.show(answer, () => `Deleted deployment ${deploymentName(accountId, ref.id)}${o.hard ? " for good" : ""}.\n`);
        });
      },
    ),
};

const scale: Verb = {
  noun: "deployment",
  verb: "scale",
  summary: "set the replica count a deployment asks for, within its min and max (desired state: Hearth runs no GPU)",
  examples: ["firectl deployment scale my-dep --replica-count=3", "firectl deployment scale accounts/my-account/deployments/my-dep --replica-count=0"],
  define: (command) =>
    runs<{ replicaCount: number }>(
      command
        .argument("<deployment>", "deployment id or name")
        .addOption(new Option("--replica-count <n>", "the desired number of replicas; must be non-negative").argParser(parseInt32).makeOptionMandatory()),
      async (ctx, [value], o) => {
        const ref = deploymentRef(value ?? "");
        const path = `${paths.deployment(await ctx.accountId(ref), ref.id)}:scale`;
        await ctx.call<Deployment>({ method: "PATCH", path, body: { replicaCount: o.replicaCount } }, (d) => ctx.show(d, deploymentFields));
      },
    ),
};

const undelete: Verb = {
  noun: "deployment",
  verb: "undelete",
  summary: "restore a deleted deployment before it is purged (quota: deployments)",
  examples: ["firectl deployment undelete my-dep"],
  define: (command) =>
    runs<WaitFlags>(withWait(command.argument("<deployment>", "deployment id or name"), "is READY again (FAILED: exit 1)"), async (ctx, [value], o) => {
      const ref = deploymentRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      const path = `${paths.deployment(accountId, ref.id)}:undelete`;
      await ctx.call<Deployment>({ method: "POST", path, body: {} }, async (d) =>
        ctx.show(o.wait ? ((await waitFor(ctx, accountId, ref.id, o.waitTimeout, false)) ?? d) : d, deploymentFields),
      );
    }),
};

export const deploymentVerbs: Verb[] = [create, get, listDeployments, update, remove, scale, undelete];
