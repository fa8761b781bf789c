/**
 * @module What an API key may do beyond its owner's role (issue "Keys that carry their own
 * policy"): the restrictions a key carries, and the pure rules that read them — which models a key
 * may call, which network addresses it may be used from, and how far a key made, changed or rotated
 * through a restricted key may go (`requireWithin`). Addresses and networks are parsed by ipaddr.js.
 */
import ipaddr from "ipaddr.js";
import type { Action } from "./actions.ts";
import { invalidArgument, permissionDenied } from "./errors.ts";
import { quoted } from "./display-text.ts";
import { isValidId } from "./ids.ts";
import { matchName } from "./resource-names.ts";

/**
 * What one API key may do beyond its owner's role, set on create or by UpdateApiKey. Every field is
 * optional; an absent field does not restrict. A key never does more than its owner: its effective
 * permissions are `scopes` ∩ the owner's current role.
 */
export interface ApiKeyRestrictions {
  /** Action names of the public vocabulary (src/domain/actions.ts) the key may take. */
  scopes?: Action[];
  /** Models or deployments the key may call on the OpenAI-compatible routes: full names or `accounts/x/models/*` patterns. */
  allowedModels?: string[];
  /** IPv4/IPv6 networks (CIDR notation) the key may be used from; the client address follows HEARTH_TRUST_PROXY. */
  allowedCidrs?: string[];
  /** Requests per minute of this key, inside the account's quotas. */
  rpm?: number;
  /** Tokens per minute of this key, inside the account's quotas. */
  tpm?: number;
  /** Spend per calendar month of this key, in US dollars (stored as nano-dollars). */
  monthlySpendUsd?: number;
}

/** The collections an `allowedModels` entry may name, in full or with `*` for every id of an account. */
const MODEL_PATTERNS = ["accounts/*/models/*", "accounts/*/deployments/*"] as const;

/**
 * Checks one `allowedModels` entry: `accounts/{a}/models/{m}`, `accounts/{a}/deployments/{d}`, or
 * either with `*` as its last segment (every model, or deployment, of account `a`).
 * @throws INVALID_ARGUMENT naming the entry and the accepted forms.
 */
export function checkModelPattern(entry: string): string {
  for (const pattern of MODEL_PATTERNS) {
    const ids = matchName(entry, pattern);
    if (ids && isValidId(ids[0]!) && (ids[1] === "*" || isValidId(ids[1]!))) return entry;
  }
  throw invalidArgument(
    `invalid allowedModels entry ${quoted(entry.slice(0, 300))}: use accounts/{account}/models/{model}, accounts/{account}/models/*, ` +
      "accounts/{account}/deployments/{deployment} or accounts/{account}/deployments/*",
  );
}

/** Whether `name` (a model's or deployment's resource name) is matched by one `allowedModels` entry. */
function matchesPattern(entry: string, name: string): boolean {
  if (!entry.endsWith("/*")) return entry === name;
  const collection = entry.slice(0, -1);
  return name.startsWith(collection) && !name.slice(collection.length).includes("/");
}

/**
 * Whether a key restricted to `allowedModels` may call a request naming `names` (the model's
 * resource name, and the deployment's when the request names one): one match among them suffices.
 */
export function modelAllowed(allowedModels: readonly string[], names: readonly string[]): boolean {
  return allowedModels.some((entry) => names.some((name) => matchesPattern(entry, name)));
}

/**
 * Checks one `allowedCidrs` entry, an IPv4 or IPv6 network in CIDR notation (RFC 4632, RFC 4291
 * §2.3); a bare address stands for itself (`/32`, `/128`). Returned in canonical form.
 * An IPv4-mapped network (`::ffff:203.0.113.0/120`) is kept as the IPv4 network it carries.
 * @throws INVALID_ARGUMENT naming the entry: not a network, a zone index, a prefix length with
 *   leading zeros, or host bits set (naming the network meant).
 */
export function checkCidr(entry: string): string {
  const text = entry.includes("/") ? entry : `${entry}/${ipaddr.IPv6.isValid(entry) ? 128 : 32}`;
  const bad = (why: string) => invalidArgument(`invalid allowedCidrs entry ${quoted(entry.slice(0, 100))}: ${why}`);
  if (entry.includes("%")) throw bad("a zone index (%…) names an interface of one host, not a network; leave it out");
  if (!/\/(0|[1-9][0-9]{0,2})$/.test(text)) throw bad("the prefix length is a number from 0 to 32 (IPv4) or 128 (IPv6), without leading zeros");
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  let prefix: number;
  try {
    // Only the four-part dotted form of IPv4: `10.1/16` or `0x0a.0.0.0/8` are refused, not guessed at.
    if (!text.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(text.slice(0, text.indexOf("/")))) throw new Error();
    [address, prefix] = ipaddr.parseCIDR(text);
  } catch {
    throw bad("expected an IPv4 or IPv6 network such as 203.0.113.0/24 or 2001:db8::/32");
  }
  // A client is matched by the IPv4 address an IPv4-mapped one carries (`addressAllowed`), so a
  // mapped network is kept as the IPv4 network it is (it would otherwise match no client).
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    if (prefix < 96) throw bad("an IPv4-mapped network (::ffff:a.b.c.d) needs a prefix of at least 96; write the IPv4 network instead");
    return checkCidr(`${(address as ipaddr.IPv6).toIPv4Address().toString()}/${prefix - 96}`);
  }
  const network = address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  if (network.toString() !== address.toString()) throw bad(`host bits are set; the network is ${network.toString()}/${prefix}`);
  return `${network.toString()}/${prefix}`;
}

/**
 * Whether the client address `clientIp` (as the request sees it, following HEARTH_TRUST_PROXY) lies
 * in one of `allowedCidrs`. An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, a dual-stack
 * socket's form) is matched as the IPv4 address it carries; an address that does not parse matches nothing.
 */
function addressAllowed(allowedCidrs: readonly string[], clientIp: string): boolean {
  if (!ipaddr.isValid(clientIp)) return false;
  const address = ipaddr.process(clientIp);
  return allowedCidrs.some((cidr) => {
    const [network, prefix] = ipaddr.parseCIDR(cidr);
    return network.kind() === address.kind() && address.match(network, prefix);
  });
}

/**
 * Whether a principal whose API key has `restrictions` may be used from the client address
 * `clientIp` (following HEARTH_TRUST_PROXY): always without `allowedCidrs`, else when one of them
 * contains it. `requireAllowedNetwork` refuses what this denies; authentication notes a key's use
 * (`lastUsed`, `lastUsedIp`) only when this allows it, so a refused address never shows as a use.
 */
export function networkAllows(restrictions: ApiKeyRestrictions | undefined, clientIp: string): boolean {
  const cidrs = restrictions?.allowedCidrs;
  return cidrs === undefined || addressAllowed(cidrs, clientIp);
}

/**
 * Refuses a request whose API key's `restrictions` (the principal's) have `allowedCidrs` not
 * containing `clientIp` (the request's client address, following HEARTH_TRUST_PROXY). Called for every authenticated route right after the
 * credential is checked, before the route's work — so an inference request refused here touches no
 * quota (no RPM, tokens or spend). A principal without such a restriction passes.
 * @throws PERMISSION_DENIED (403) naming the address and the restriction.
 */
export function requireAllowedNetwork(restrictions: ApiKeyRestrictions | undefined, clientIp: string): void {
  if (networkAllows(restrictions, clientIp)) return;
  throw permissionDenied(`this API key may not be used from address ${clientIp}: it is outside the key's allowedCidrs`);
}

/**
 * What a create, an update or a rotation would give a key, as `requireWithin` compares it: a field
 * absent is not compared (an update leaves it as it is); `null` is no restriction (an empty list, a
 * limit of 0). Scopes are not here: they are compared with the owner's role too, by the service's
 * `requireScopesGrantable`.
 */
export type RequestedRestrictions = { [K in Exclude<keyof ApiKeyRestrictions, "scopes">]?: ApiKeyRestrictions[K] | null };

/** The restrictions a key made through a restricted key inherits when the request leaves them unset (every one but scopes). */
export const INHERITED_RESTRICTIONS: readonly (keyof RequestedRestrictions)[] = ["allowedModels", "allowedCidrs", "rpm", "tpm", "monthlySpendUsd"];

/** Whether the network `cidr` (canonical CIDR notation) lies inside one of `networks`: same family, a prefix at least as long, its address matching. */
function networkWithin(cidr: string, networks: readonly string[]): boolean {
  const [address, prefix] = ipaddr.parseCIDR(cidr);
  return networks.some((n) => {
    const [network, bits] = ipaddr.parseCIDR(n);
    return network.kind() === address.kind() && prefix >= bits && address.match(network, bits);
  });
}

/** At most five values, comma-separated, then how many more. */
function listed(values: readonly string[]): string {
  const shown = values.slice(0, 5).join(", ");
  return values.length > 5 ? `${shown} and ${values.length - 5} more` : shown;
}

const beyondActingKey = (field: string, requested: string, limit: string) =>
  permissionDenied(
    `${field} ${requested} would go beyond this API key's own ${field} ${limit}: a key that a restricted key creates, changes, rotates or enables stays within its restrictions`,
  );

/**
 * A key never does more than the key it is created, changed or rotated through (issue "Keys that
 * carry their own policy": a key never does more than its owner, nor than the key that makes it).
 * Every restriction in `requested` must lie within the same restriction of `acting` (the acting
 * key's own): each network inside one of its `allowedCidrs`; each model, deployment or pattern
 * covered by its `allowedModels` (a pattern only by the same pattern); `rpm`, `tpm` and
 * `monthlySpendUsd` (US dollars) no larger; and none that the acting key has may be lifted (`null`).
 * A restriction the acting key lacks is not compared, nor anything for a principal without a key
 * (`acting` undefined: a session, an OIDC token, an unrestricted key). The one rule of create,
 * UpdateApiKey and rotate.
 * @throws PERMISSION_DENIED (403) naming the field, the values beyond it and the acting key's limit.
 */
export function requireWithin(acting: ApiKeyRestrictions | undefined, requested: RequestedRestrictions): void {
  if (acting === undefined) return;
  const lists = [
    ["allowedCidrs", (entry: string, own: readonly string[]) => networkWithin(entry, own)],
    ["allowedModels", (entry: string, own: readonly string[]) => modelAllowed(own, [entry])],
  ] as const;
  for (const [field, covered] of lists) {
    const own = acting[field];
    const asked = requested[field];
    if (own === undefined || asked === undefined) continue;
    const outside = asked === null ? null : asked.filter((entry) => !covered(entry, own));
    if (outside === null) throw beyondActingKey(field, "unrestricted", listed(own));
    if (outside.length > 0) throw beyondActingKey(field, listed(outside), listed(own));
  }
  for (const field of ["rpm", "tpm", "monthlySpendUsd"] as const) {
    const own = acting[field];
    const asked = requested[field];
    if (own === undefined || asked === undefined || (asked !== null && asked <= own)) continue;
    throw beyondActingKey(field, asked === null ? "unlimited" : String(asked), String(own));
  }
}
