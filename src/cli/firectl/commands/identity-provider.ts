import { Option, type Command } from "commander";
import type { IdentityProvider } from "../../../http/resources/identity-provider.ts";
import { runs, type Context } from "../context.ts";
import { list, withListFlags, type ListFlags } from "../listing.ts";
import { usageError } from "../errors.ts";
import type { Noun, Verb } from "../grammar.ts";
import { identityProviderRef, paths } from "../names.ts";
import { idOf, localTime, renderFields, renderTable, yesNo, type Column } from "../output.ts";
import { parseBool, parseRole } from "../parsers.ts";
import { identityProviderName } from "../../../domain/resource-names.ts";

/** `firectl identity-provider …`: the account's OIDC identity providers for human sign-in. */
export const identityProviderNoun: Noun = {
  name: "identity-provider",
  aliases: ["identity-providers"],
  description: "OIDC identity providers for human sign-in (service accounts never sign in)",
};

function providerFields(idp: IdentityProvider): string {
  return renderFields([
    ["Name", idp.name],
    ["Display Name", idp.displayName ?? ""],
    ["OIDC Issuer", idp.oidcConfig?.issuerUrl ?? ""],
    ["OIDC Client ID", idp.oidcConfig?.clientId ?? ""],
    ["Tenant Domains", (idp.tenantDomains ?? []).join(", ")],
    ["JIT Provisioning", yesNo(idp.enableJitUserProvisioning)],
    ["JIT Default Role", idp.jitDefaultRole ?? ""],
    ["Enforce SSO", yesNo(idp.enforceSso)],
    ["Trust Email Without Verified Claim", yesNo(idp.trustEmailWithoutVerifiedClaim)],
    ["State", idp.state ?? ""],
    ["Create Time", localTime(idp.createTime)],
    ["Update Time", localTime(idp.updateTime)],
  ]);
}

const COLUMNS: ReadonlyArray<Column<IdentityProvider>> = [
  ["ID", (i) => idOf(i.name)],
  ["DISPLAY NAME", (i) => i.displayName ?? ""],
  ["ISSUER", (i) => i.oidcConfig?.issuerUrl ?? ""],
  ["CLIENT ID", (i) => i.oidcConfig?.clientId ?? ""],
  ["JIT", (i) => yesNo(i.enableJitUserProvisioning)],
  ["ENFORCE SSO", (i) => yesNo(i.enforceSso)],
];

interface Flags {
  identityProviderId?: string;
  displayName?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecret?: string;
  tenantDomains?: string;
  enableJitUserProvisioning?: boolean;
  jitDefaultRole?: string;
  enforceSso?: boolean;
  trustEmailWithoutVerifiedClaim?: boolean;
  samlMetadataUrl?: string;
}

function withFlags(command: Command): Command {
  return command
    .option("--display-name <name>", "display name of the identity provider")
    .option("--oidc-issuer <url>", "the OIDC issuer URL (https)")
    .option("--oidc-client-id <id>", "the OIDC client ID")
    .option("--oidc-client-secret <secret>", "the OIDC client secret (stored sealed, never shown again)")
    .option("--tenant-domains <domains>", "comma-separated email domains JIT provisioning may create users for, e.g. 'example.com,example.co.uk'")
    .addOption(new Option("--enable-jit-user-provisioning [bool]", "create users on their first sign-in").argParser(parseBool))
    .addOption(new Option("--jit-default-role <role>", "role of JIT-provisioned users (default inference-user)").argParser(parseRole))
    .addOption(
      new Option("--enforce-sso [bool]", "humans must sign in through an identity provider (no sign-in links); API keys are unaffected").argParser(parseBool),
    )
    .addOption(
      new Option(
        "--trust-email-without-verified-claim [bool]",
        "accept a token without email_verified as verified (only for providers that never send it)",
      ).argParser(parseBool),
    )
    .addOption(new Option("--saml-metadata-url <url>", "SAML is not supported by Hearth").hideHelp());
}

/** The request body from the flags given; only those present are sent. A dry run never prints the secret. */
function body(ctx: Context, o: Flags) {
  if (o.samlMetadataUrl !== undefined)
    throw usageError("Hearth supports OIDC identity providers only; use --oidc-issuer, --oidc-client-id and --oidc-client-secret");
  const secret = o.oidcClientSecret !== undefined && ctx.dryRun ? "[REDACTED]" : o.oidcClientSecret;
  const oidcConfig = { issuerUrl: o.oidcIssuer, clientId: o.oidcClientId, clientSecret: secret };
  return {
    displayName: o.displayName,
    oidcConfig: Object.values(oidcConfig).some((v) => v !== undefined) ? oidcConfig : undefined,
    tenantDomains:
      o.tenantDomains === undefined
        ? undefined
        : o.tenantDomains
            .split(",")
            .map((d) => d.trim())
            .filter(Boolean),
    enableJitUserProvisioning: o.enableJitUserProvisioning,
    jitDefaultRole: o.jitDefaultRole,
    enforceSso: o.enforceSso,
    trustEmailWithoutVerifiedClaim: o.trustEmailWithoutVerifiedClaim,
  };
}

function warnAboutSecret(ctx: Context, o: Flags): void {
  if (o.oidcClientSecret !== undefined) ctx.note("note: the client secret is stored sealed and is never shown again");
}

const create: Verb = {
  noun: "identity-provider",
  verb: "create",
  summary: "add an OIDC identity provider (admin)",
  examples: [
    'firectl identity-provider create --display-name="Company OIDC" --oidc-issuer="https://auth.company.com" --oidc-client-id="abc123" --oidc-client-secret="secret456"',
    'firectl identity-provider create --identity-provider-id corp --display-name="Corp" --oidc-issuer="https://accounts.google.com" --oidc-client-id="client123" --oidc-client-secret="secret456" --tenant-domains="example.com,example.co.uk" --enable-jit-user-provisioning',
  ],
  define: (command) =>
    runs<Flags>(withFlags(command.option("--identity-provider-id <id>", "id of the new identity provider (generated when absent)")), async (ctx, _args, o) => {
      const fields = body(ctx, o);
      if (!o.oidcIssuer || !o.oidcClientId) throw usageError("--oidc-issuer and --oidc-client-id are required; see 'firectl identity-provider create --help'");
      const request = {
        method: "POST",
        path: paths.identityProviders(await ctx.accountId()),
        query: { identityProviderId: o.identityProviderId },
        body: fields,
      } as const;
      await ctx.call<IdentityProvider>(request, (idp) => ctx.show(idp, providerFields));
      warnAboutSecret(ctx, o);
    }),
};

const get: Verb = {
  noun: "identity-provider",
  verb: "get",
  summary: "show an identity provider (its client secret is never shown)",
  examples: ["firectl identity-provider get corp", "firectl identity-provider get accounts/my-account/identityProviders/corp -o json"],
  define: (command) =>
    runs(command.argument("<identity-provider>", "identity provider id or name"), async (ctx, [value]) => {
      const ref = identityProviderRef(value ?? "");
      await ctx.call<IdentityProvider>({ method: "GET", path: paths.identityProvider(await ctx.accountId(ref), ref.id) }, (idp) =>
        ctx.show(idp, providerFields),
      );
    }),
};

const listVerb: Verb = {
  noun: "identity-provider",
  verb: "list",
  summary: "list the account's identity providers",
  examples: ["firectl identity-provider list", "firectl identity-provider list --filter 'state=DISABLED'"],
  define: (command) =>
    runs<ListFlags>(withListFlags(command, "'state=DISABLED'"), async (ctx, _args, flags) => {
      await list<IdentityProvider>(ctx, { method: "GET", path: paths.identityProviders(await ctx.accountId()) }, "identityProviders", flags, (providers) =>
        renderTable(COLUMNS, providers),
      );
    }),
};

const update: Verb = {
  noun: "identity-provider",
  verb: "update",
  summary: "change an identity provider; only the flags given change (admin)",
  examples: [
    'firectl identity-provider update my-provider --display-name="Updated Company SSO"',
    'firectl identity-provider update my-provider --oidc-client-secret="<new-client-secret>"',
    "firectl identity-provider update my-provider --enforce-sso=false",
  ],
  define: (command) =>
    runs<Flags>(withFlags(command.argument("<identity-provider>", "identity provider id or name")), async (ctx, [value], o) => {
      const patch = body(ctx, o);
      if (Object.values(patch).every((v) => v === undefined))
        throw usageError("nothing to update: pass at least one flag; see 'firectl identity-provider update --help'");
      const ref = identityProviderRef(value ?? "");
      await ctx.call<IdentityProvider>({ method: "PATCH", path: paths.identityProvider(await ctx.accountId(ref), ref.id), body: patch }, (idp) =>
        ctx.show(idp, providerFields),
      );
      warnAboutSecret(ctx, o);
    }),
};

const remove: Verb = {
  noun: "identity-provider",
  verb: "delete",
  summary: "delete an identity provider; sessions begun through it end (admin)",
  examples: ["firectl identity-provider delete corp"],
  define: (command) =>
    runs(command.argument("<identity-provider>", "identity provider id or name"), async (ctx, [value]) => {
      const ref = identityProviderRef(value ?? "");
      const accountId = await ctx.accountId(ref);
      await ctx.call({ method: "DELETE", path: paths.identityProvider(accountId, ref.id) }, (answer) =>
        ctx.show(answer, () => `Deleted identity provider ${identityProviderName(accountId, ref.id)}.\n`),
      );
    }),
};

export const identityProviderVerbs: Verb[] = [create, get, listVerb, update, remove];
