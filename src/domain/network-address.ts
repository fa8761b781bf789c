/**
 * @module Which network addresses a tenant-configured URL (identity provider now, webhooks and audit
 * sinks later) may reach. Pure: no DNS here. Ranges come from ipaddr.js (IANA special-purpose
 * registries, RFC 6890); only ordinary public unicast counts as public.
 */
import ipaddr from "ipaddr.js";

/**
 * "public", or the name of the special-purpose range an address falls in ("loopback", "private",
 * "linkLocal", "carrierGradeNat", "multicast", "unspecified", "uniqueLocal", "reserved", …), or
 * "invalid" for text that is no IP address.
 */
type AddressRange = "public" | (string & {});

/** Classifies one address, as it comes from DNS or from a URL; unsafe answers are never "public". */
export type AddressClassifier = (address: string) => AddressRange;

/** IPv6 global unicast (RFC 4291 §2.4): everything else in IPv6 is special or unassigned. */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");
/** RFC 6052 well-known NAT64 prefix: the last 32 bits are the IPv4 destination. */
const NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

/**
 * Parses an address in any form a URL host or a resolver may carry: dotted, decimal (2130706433),
 * hex (0x7f.1), short (127.1) and octal (0177.0.0.1) IPv4; IPv6 with or without brackets.
 * Undefined when the text is a host name rather than an address.
 */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  if (ipaddr.IPv4.isValid(bare)) return ipaddr.IPv4.parse(bare);
  return undefined;
}

/** The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-translated, NAT64, 6to4), if any. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === "ipv4Mapped" || range === "rfc6145" || address.match(NAT64)) return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === "6to4") return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

function rangeOf(address: ipaddr.IPv4 | ipaddr.IPv6): AddressRange {
  if (address.kind() === "ipv4") {
    const range = address.range();
    return range === "unicast" ? "public" : range;
  }
  const v6 = address as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  // A translated address is as public as the IPv4 address it reaches (64:ff9b::a9fe:a9fe is 169.254.169.254).
  if (inner) return rangeOf(inner);
  const range = v6.range();
  if (range !== "unicast") return range;
  return v6.match(GLOBAL_UNICAST) ? "public" : "reserved";
}

/**
 * The range of an address (see {@link AddressRange}): "public" only for ordinary unicast, so
 * loopback, RFC 1918 private, link-local (including the 169.254.169.254 cloud metadata service),
 * CGNAT (RFC 6598), multicast, unspecified, unique-local (fc00::/7) and reserved ranges never are.
 */
export const classifyAddress: AddressClassifier = (text) => {
  const address = parseAddress(text);
  return address ? rangeOf(address) : "invalid";
};

/**
 * Why Hearth may not connect to `url`, or undefined when it may (subject to the address check at
 * connection time for host names). `allowPrivate` is the operator's HEARTH_ALLOW_PRIVATE_NETWORKS.
 * Rules: a literal address must classify as public unless `allowPrivate`; https is required,
 * except plain http to a private literal or to `localhost` when `allowPrivate` (development).
 */
export function outboundUrlProblem(url: URL, allowPrivate: boolean, classify: AddressClassifier = classifyAddress): string | undefined {
  const literal = literalAddressProblem(url, allowPrivate, classify);
  if (literal) return literal;
  if (url.protocol === "https:") return undefined;
  const privateTarget = url.hostname === "localhost" || (parseAddress(url.hostname) !== undefined && classify(url.hostname) !== "public");
  if (url.protocol === "http:" && allowPrivate && privateTarget) return undefined;
  return "expected an https URL";
}

const RANGE_WORDS: Record<string, string> = {
  loopback: "a loopback",
  private: "a private",
  linkLocal: "a link-local",
  carrierGradeNat: "a carrier-grade NAT",
  multicast: "a multicast",
  unspecified: "an unspecified",
  uniqueLocal: "a unique-local",
  reserved: "a reserved",
  broadcast: "a broadcast",
};

/**
 * Why the literal address in `url`'s host may not be reached (undefined for a host name or a public
 * address, or when `allowPrivate`). Host names are judged when connecting, after DNS resolution.
 */
export function literalAddressProblem(url: URL, allowPrivate: boolean, classify: AddressClassifier = classifyAddress): string | undefined {
  if (allowPrivate || parseAddress(url.hostname) === undefined) return undefined;
  const range = classify(url.hostname);
  if (range === "public") return undefined;
  return `${url.hostname} is ${RANGE_WORDS[range] ?? `a ${range}`} address; Hearth reaches only public addresses unless its operator sets HEARTH_ALLOW_PRIVATE_NETWORKS=true`;
}

/**
 * The key under which failed authentications from `address` are counted: an IPv4 address (or one
 * an IPv6 address carries) as it is, any other IPv6 address as its /64 network (`2001:db8:1:2::/64`).
 * One subscriber, site or host usually holds a whole /64 (RFC 6177, RFC 7421), so counting each of
 * its 2^64 addresses apart would let a client rotate addresses and never be slowed. Text that is no
 * address is returned as it is.
 */
export function throttledAddress(address: string): string {
  const parsed = parseAddress(address);
  if (!parsed || parsed.kind() === "ipv4") return address;
  const v4 = embeddedIPv4(parsed as ipaddr.IPv6);
  if (v4) return v4.toString();
  const bytes = parsed.toByteArray().slice(0, 8).concat([0, 0, 0, 0, 0, 0, 0, 0]);
  return `${ipaddr.fromByteArray(bytes).toString()}/64`;
}
