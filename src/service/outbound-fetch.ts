/**
 * @module The one way Hearth fetches a URL that a tenant configured (identity providers now; webhooks
 * and audit sinks later): an undici dispatcher whose DNS lookup classifies every answer and hands the
 * socket only the addresses it accepted, so the address checked is the address connected to (no DNS
 * rebinding between a check and the connection). Literal addresses, which never reach a lookup, are
 * checked on the URL. Redirects are never followed.
 */
import { quoted } from "../domain/display-text.ts";
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";
import type { Config } from "../config.ts";
import { invalidArgument } from "../domain/errors.ts";
import { classifyAddress, literalAddressProblem, outboundUrlProblem, parseAddress, type AddressClassifier } from "../domain/network-address.ts";

/** One answer of a resolver: an address and its family. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Replaceable parts of the network, for tests: which addresses count as public, how host names
 * resolve, and extra certificate authorities to trust (PEM) besides the system's.
 */
export interface NetworkOptions {
  classify?: AddressClassifier;
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  ca?: string;
}

/** A `fetch` for tenant-configured URLs (the shape openid-client's and jose's `customFetch` take). */
export interface OutboundFetch {
  (url: string, init?: RequestInit): Promise<Response>;
  /** The operator's HEARTH_ALLOW_PRIVATE_NETWORKS, as this fetch applies it. */
  readonly allowPrivate: boolean;
  /** The address classifier this fetch applies (replaced in tests). */
  readonly classify: AddressClassifier;
  /**
   * Why this fetch would refuse `url` (scheme, literal address, or a host name none of whose DNS
   * answers it may reach), or undefined: a check when the URL is configured, the fetch checking again
   * when it connects. A name that does not resolve now, or not within 3 s (`LOOKUP_TIMEOUT_MS`), passes
   * (DNS may come later).
   */
  problem(url: string): Promise<string | undefined>;
  /** Closes the kept-alive connections. */
  close(): Promise<void>;
}

/**
 * Any failure of an outbound fetch: refused URL or address, DNS, connection, TLS, timeout, size.
 * Its message is for the operator's debugging only; callers answer one fixed sentence so a tenant
 * cannot tell a closed port from a refused address (no port scanning through Hearth).
 */
export class OutboundFailure extends Error {
  override name = "OutboundFailure";
}

/** True when `error`, or any error in its `cause` chain, is an {@link OutboundFailure}. */
export function isOutboundFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof OutboundFailure) return true;
  }
  return false;
}

const TIMEOUT_MS = 10_000;
/** The longest `problem` waits for a host name's addresses, in milliseconds. */
const LOOKUP_TIMEOUT_MS = 3_000;
/** Discovery documents and key sets are a few kilobytes; a larger answer is refused, not buffered. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const systemLookup = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Builds the outbound fetch. `allowPrivate` is the operator's HEARTH_ALLOW_PRIVATE_NETWORKS: off,
 * only public addresses are reached and only over https; on, private and loopback targets are
 * allowed too, and plain http to them. Every failure rejects with an {@link OutboundFailure}.
 */
export function createOutboundFetch(allowPrivate: boolean, network: NetworkOptions = {}): OutboundFetch {
  const classify = network.classify ?? classifyAddress;
  const resolve = network.lookup ?? systemLookup;
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname)
      .then((answers) => {
        const usable = answers.filter((a) => (!options.family || a.family === options.family) && (allowPrivate || classify(a.address) === "public"));
        if (usable.length === 0) throw new OutboundFailure(`${hostname} resolves to no address Hearth may reach`);
        // These addresses, and only these, are what the socket connects to.
        if (options.all) callback(null, usable as LookupAddress[]);
        else callback(null, usable[0]!.address, usable[0]!.family);
      })
      .catch((error: Error) => callback(error as NodeJS.ErrnoException, "", 0));
  };
  const agent = new Agent({
    // Tests trust a throwaway CA through this seam: NODE_EXTRA_CA_CERTS is read only at process start.
    connect: { lookup, timeout: TIMEOUT_MS, ...(network.ca ? { ca: [...rootCertificates, network.ca] } : {}) },
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    maxResponseSize: MAX_RESPONSE_BYTES,
  });
  const outbound = async (url: string, init: RequestInit = {}): Promise<Response> => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new OutboundFailure("not a URL");
    }
    const problem = outboundUrlProblem(target, allowPrivate, classify);
    if (problem) throw new OutboundFailure(problem);
    try {
      const response = await undiciFetch(target, {
        method: init.method ?? "GET",
        headers: Object.fromEntries(new Headers(init.headers).entries()),
        body: init.body as never,
        signal: init.signal ?? null,
        // A redirect's target would skip the checks above (a literal address never reaches the lookup).
        redirect: "manual",
        dispatcher: agent,
      });
      return response as unknown as Response;
    } catch (error) {
      throw new OutboundFailure("the request failed", { cause: error });
    }
  };
  const problem = async (url: string): Promise<string | undefined> => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return "not a URL";
    }
    const literal = outboundUrlProblem(target, allowPrivate, classify);
    if (literal || allowPrivate || parseAddress(target.hostname) !== undefined) return literal;
    // A name that does not resolve in time is taken as one that does not resolve: each use checks again.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ResolvedAddress[]>((settle) => (timer = setTimeout(() => settle([]), LOOKUP_TIMEOUT_MS).unref()));
    const answers = await Promise.race([resolve(target.hostname).catch(() => []), late]).finally(() => clearTimeout(timer));
    const reachable = answers.filter((a) => classify(a.address) === "public");
    return answers.length > 0 && reachable.length === 0
      ? `${target.hostname} resolves to no address Hearth may reach; Hearth reaches only public addresses unless its operator sets HEARTH_ALLOW_PRIVATE_NETWORKS=true`
      : undefined;
  };
  return Object.assign(outbound, { allowPrivate, classify, problem, close: () => agent.close() });
}

const defaults = new WeakMap<Config, OutboundFetch>();

/**
 * The outbound fetch of `deps`; paths without a running server (the operator CLI) get one built
 * from the configuration alone, once per configuration.
 */
export function outboundOf(deps: { config: Config; outbound?: OutboundFetch | undefined }): OutboundFetch {
  if (deps.outbound) return deps.outbound;
  let made = defaults.get(deps.config);
  if (!made) {
    made = createOutboundFetch(deps.config.allowPrivateNetworks);
    defaults.set(deps.config, made);
  }
  return made;
}

/**
 * Refuses (400 naming `field`) a tenant-configured URL whose host is a literal non-public address,
 * unless the operator allows private networks. Host names pass: they are judged after DNS
 * resolution, when connecting.
 */
export function checkOutboundTarget(deps: { config: Config; outbound?: OutboundFetch | undefined }, field: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return; // the field's own check names a malformed URL
  }
  const { allowPrivate, classify } = outboundOf(deps);
  const problem = literalAddressProblem(url, allowPrivate, classify);
  if (problem) throw invalidArgument(`invalid ${field} ${quoted(value)}: ${problem}`);
}
