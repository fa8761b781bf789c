import { Option, type Command } from "commander";
import type { Webhook, WebhookDelivery } from "../../../http/resources/webhook.ts";
import { WEBHOOK_EVENT_TYPES } from "../../../domain/webhook-event-types.ts";
import { matchName, webhookName } from "../../../domain/resource-names.ts";
import { runs } from "../context.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { paths, webhookRef } from "../names.ts";
import { parseDuration } from "../parsers.ts";
import { idOf, localTime, renderFields, renderTable, type Column } from "../output.ts";

/** `firectl webhook …`: account webhooks and their delivery logs (`/v1/accounts/{a}/webhooks`, docs/webhooks.md). */
export const webhookNoun: Noun = {
  name: "webhook",
  aliases: ["webhooks"],
  description: "webhooks: signed event notifications POSTed to a URL, with a delivery log",
};

function webhookFields(w: Webhook): string {
  return renderFields([
    ["Name", w.name],
    ["Display Name", w.displayName ?? ""],
    ["URL", w.url],
    ["Events", (w.events ?? []).join(", ")],
    ["State", w.state],
    ...(w.signingSecret ? ([["Signing Secret", `${w.signingSecret}  (shown once: store it now)`]] as const) : []),
    ...(w.previousSecretExpireTime ? ([["Old Secret Signs Until", localTime(w.previousSecretExpireTime)]] as const) : []),
    ["Create Time", localTime(w.createTime)],
    ["Update Time", localTime(w.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<Webhook>> = [
  ["ID", (w) => idOf(w.name)],
  ["STATE", (w) => w.state],
  ["URL", (w) => w.url],
  ["EVENTS", (w) => (w.events ?? []).join(",")],
];

const DELIVERY_COLUMNS: ReadonlyArray<Column<WebhookDelivery>> = [
  ["DELIVERY", (d) => idOf(d.name)],
  ["EVENT", (d) => d.eventType],
  ["STATE", (d) => d.state],
  ["CODE", (d) => (d.responseCode ? String(d.responseCode) : "-")],
  ["ATTEMPTS", (d) => String(d.attempts?.length ?? 0)],
  ["CREATED", (d) => localTime(d.createTime)],
  ["NEXT ATTEMPT", (d) => localTime(d.nextAttemptTime)],
];

interface Flags {
  displayName?: string;
  url?: string;
  events?: string;
  state?: "ENABLED" | "DISABLED";
}

const withFlags = (command: Command): Command =>
  command
    .option("--display-name <name>", "display name (under 64 characters)")
    .option("--url <url>", "where events are POSTed (https)")
    .option("--events <types>", `comma-separated event types: ${WEBHOOK_EVENT_TYPES.join(", ")}`)
    .addOption(new Option("--state <state>", "ENABLED, or DISABLED to send nothing").choices(["ENABLED", "DISABLED"]));

/** The request body from the flags given; only those present are sent. */
function body(o: Flags) {
  const events =
    o.events === undefined
      ? undefined
      : o.events
          .split(",")
          .map((e) => e.trim())
          .filter(Boolean);
  return { displayName: o.displayName, url: o.url, events, state: o.state };
}

const create: Verb = {
  noun: "webhook",
  verb: "create",
  summary: "create a webhook; prints its signing secret once (admin)",
  examples: ["firectl webhook create alerts --url https://hooks.example.com/hearth --events api_key.expiring,api_key.leaked"],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<webhook-id>", "id of the new webhook")), async (ctx, [id = ""], o) => {
      if (o.url === undefined || o.events === undefined) throw usageError("--url and --events are required; see 'firectl webhook create --help'");
      const request = { method: "POST", path: paths.webhooks(await ctx.accountId()), query: { webhookId: id }, body: body(o) } as const;
      await ctx.call<Webhook>(request, (w) => ctx.show(w, webhookFields));
    }),
};

const get: Verb = {
  noun: "webhook",
  verb: "get",
  summary: "show a webhook (admin)",
  examples: ["firectl webhook get alerts", "firectl webhook get accounts/my-account/webhooks/alerts -o json"],
  define: (command) =>
    runs(command.argument("<webhook>", "webhook id or name"), async (ctx, [value]) => {
      const ref = webhookRef(value ?? "");
      await ctx.call<Webhook>({ method: "GET", path: paths.webhook(await ctx.accountId(ref), ref.id) }, (w) => ctx.show(w, webhookFields));
    }),
};

const listVerb: Verb = {
  noun: "webhook",
  verb: "list",
  summary: "list the account's webhooks (admin)",
  examples: ["firectl webhook list", "firectl webhook list --filter 'state=DISABLED'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'state=DISABLED'"), async (ctx, _args, flags) => {
      await list<Webhook>(ctx, { method: "GET", path: paths.webhooks(await ctx.accountId()) }, "webhooks", flags, (webhooks) => renderTable(COLUMNS, webhooks));
    }),
};

const update: Verb = {
  noun: "webhook",
  verb: "update",
  summary: "change a webhook's URL, events, state or display name (admin)",
  examples: ["firectl webhook update alerts --state DISABLED", "firectl webhook update alerts --events api_key.leaked,sign_in.refused"],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<webhook>", "webhook id or name")), async (ctx, [value], o) => {
      const patch = body(o);
      if (Object.values(patch).every((v) => v === undefined)) {
        throw usageError("nothing to update: pass --url, --events, --state and/or --display-name; see 'firectl webhook update --help'");
      }
      const ref = webhookRef(value ?? "");
      await ctx.call<Webhook>({ method: "PATCH", path: paths.webhook(await ctx.accountId(ref), ref.id), body: patch }, (w) => ctx.show(w, webhookFields));
    }),
};

const remove: Verb = {
  noun: "webhook",
  verb: "delete",
  summary: "delete a webhook and its delivery log (admin)",
  examples: ["firectl webhook delete alerts"],
  define: (command) =>
    runs(command.argument("<webhook>", "webhook id or name"), async (ctx, [value]) => {
      const ref = webhookRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.webhook(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted webhook ${webhookName(accountId, ref.id)}.\n`),
      );
    }),
};

const deliveries: Verb = {
  noun: "webhook",
  verb: "deliveries",
  summary: "show a webhook's delivery log, newest first: each event, its state and response code (admin)",
  examples: ["firectl webhook deliveries alerts", "firectl webhook deliveries alerts --filter 'state=FAILED'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command.argument("<webhook>", "webhook id or name"), "'state=FAILED'"), async (ctx, [value], flags) => {
      const ref = webhookRef(value ?? "");
      await list<WebhookDelivery>(
        ctx,
        { method: "GET", path: paths.webhookDeliveries(await ctx.accountId(ref), ref.id) },
        "webhookDeliveries",
        flags,
        (items) => renderTable(DELIVERY_COLUMNS, items),
      );
    }),
};

const redeliver: Verb = {
  noun: "webhook",
  verb: "redeliver",
  summary: "send a delivery's event again now, with the same webhook-id (admin)",
  examples: [
    "firectl webhook redeliver alerts 6f1c4a52-0d3e-4b8f-9a51-3c2f7e0b9d14",
    "firectl webhook redeliver accounts/my-account/webhooks/alerts/deliveries/6f1c4a52-0d3e-4b8f-9a51-3c2f7e0b9d14",
  ],
  define: (command) =>
    runs(
      command
        .argument("<webhook>", "webhook id or name, or the delivery's full name")
        .argument("[delivery-id]", "the delivery's id (see 'firectl webhook deliveries')"),
      async (ctx, [value = "", deliveryId], _o) => {
        const full = matchName(value, "accounts/*/webhooks/*/deliveries/*");
        const ref = full ? { accountId: full[0], id: full[1]! } : webhookRef(value);
        const delivery = full ? full[2] : deliveryId;
        if (!delivery) throw usageError("give the delivery: its id after the webhook, or its full name; see 'firectl webhook deliveries'");
        const path = paths.redeliver(await ctx.accountId(ref), ref.id, delivery);
        await ctx.call<WebhookDelivery>({ method: "POST", path }, (d) => ctx.show(d, (x) => `Redelivering ${x.name} (event ${x.eventId}, ${x.eventType}).\n`));
      },
    ),
};

const rotateSecret: Verb = {
  noun: "webhook",
  verb: "rotate",
  summary: "give a webhook a new signing secret, printed once; the old one also signs for the grace period (admin)",
  examples: ["firectl webhook rotate alerts", "firectl webhook rotate alerts --grace-period 0s"],
  define: (command) =>
    runs<{ gracePeriod?: string }>(
      command
        .argument("<webhook>", "webhook id or name")
        .addOption(
          new Option(
            "--grace-period <duration>",
            "how long deliveries are also signed with the old secret, e.g. 0s, 1h, 7d (default 24h, at most 7d)",
          ).argParser(parseDuration),
        ),
      async (ctx, [value], o) => {
        const ref = webhookRef(value ?? "");
        const request = {
          method: "POST",
          path: `${paths.webhook(await ctx.accountId(ref), ref.id)}:rotateSecret`,
          body: { gracePeriod: o.gracePeriod },
        } as const;
        await ctx.call<Webhook>(request, (w) => ctx.show(w, webhookFields));
      },
    ),
};

export const webhookVerbs: Verb[] = [create, get, listVerb, update, rotateSecret, remove, deliveries, redeliver];
