import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, statSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { Agent, fetch as undiciFetch, setGlobalDispatcher } from "undici";
import { generateKey } from "../../src/domain/api-key-format.ts";
import { classifyAddress } from "../../src/domain/network-address.ts";
import type { ResolvedAddress } from "../../src/service/outbound-fetch.ts";
import { createSigninLink } from "../../src/service/signin-links.ts";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "../support/browser.ts";
import { human, mistyped, otherAccount, serviceAccountWithKey } from "../support/fixtures.ts";
import { forgedPageToken } from "../support/fuzz.ts";
import { DIALECTS, startHearth, type TestHearth } from "../support/hearth.ts";
import { startUpstream, UPSTREAM_SECRET, writePlatformConfig, type FakeUpstream } from "../support/model-server.ts";
import { createIdentityProvider, discoveryDocument, hearthCallback, isHearthCallback, startIssuer, type TestIssuer } from "../support/oidc-issuer.ts";
import { freePort } from "../support/process.ts";
import { report } from "../support/reliability.ts";
import { makeTestCertificates } from "../support/tls.ts";

/**
 * Issue 13's trust-boundary attacks replayed as one suite: an attacker against ONE live Hearth per
 * dialect, over real HTTP on loopback, with the real identity provider. Each kind is tried in many
 * variants (generated with fast-check where that is natural) and every attempt must be refused the
 * intended way: a 4xx (never a 500) and no side effect. Every attempt is counted in the report.
 * The test regressions (test/*.test.ts) pin each reproduction on its own; this suite plays them together.
 */
const RUNS = Math.max(4, Math.round(Number(process.env.HEARTH_RELIABILITY_FUZZ_RUNS ?? 40) / 2));
const SEED = Number(process.env.HEARTH_RELIABILITY_SEED ?? Date.now() % 1_000_000);
const A = "/v1/accounts/my-account";
const SENTENCE = (idp: string) => `identity provider "${idp}" did not answer OIDC discovery; try again later`;
const PAIR_TAKEN = "this issuer and client id are registered to another account; ask the operator";
/** The defaults of HEARTH_AUTH_FAILURES_SLOW and _BLOCK. */
const THROTTLE = { HEARTH_AUTH_FAILURES_SLOW: "10", HEARTH_AUTH_FAILURES_BLOCK: "50" };
const tls = makeTestCertificates(["127.0.0.1", "127.0.0.2", "localhost", "keys.test"]);
// The test process's own fetch (the browser, the attacker) trusts the test CA; Hearth uses its own dispatcher.
setGlobalDispatcher(new Agent({ connect: { ca: tls.ca } }));

type Kind = "SSRF" | "asserted email" | "open redirect" | "tenant clone" | "login CSRF" | "throttling" | "smaller leaks";
const tally = new Map<Kind, { replayed: number; held: number }>();
/** Runs one attack attempt; it held when `check` returned without an assertion failing. */
async function attempt<T>(kind: Kind, check: () => Promise<T>): Promise<T> {
  const t = tally.get(kind) ?? { replayed: 0, held: 0 };
  tally.set(kind, t);
  t.replayed++;
  const result = await check();
  t.held++;
  return result;
}

/**
 * The attacker: real fetch over loopback, each attempt from its own source address in 127.77.0.0/16
 * (Linux answers on all of 127/8), so that the failures of one kind do not throttle the next; the
 * throttling kind picks one address on purpose.
 */
let nextSource = 0;
async function attack(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; from?: string } = {}) {
  const source = init.from ?? `127.77.${(++nextSource >> 8) & 255}.${nextSource & 255 || 1}`;
  // undici's connect options drop localAddress; a connector of our own binds the source address.
  const dispatcher = new Agent({
    connect: (options, done) => {
      const socket = connect({ host: options.hostname, port: Number(options.port), localAddress: source });
      socket.once("connect", () => done(null, socket)).once("error", (error) => done(error, null));
      return socket;
    },
  });
  try {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const res = await undiciFetch(url, {
      method: init.method ?? "GET",
      headers,
      redirect: "manual",
      dispatcher,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, text, headers: res.headers };
  } finally {
    await dispatcher.close();
  }
}

/** A listener that records every request it receives. */
async function recordingListener(host = "127.0.0.1") {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404).end("<h1>internal admin panel</h1>");
  });
  server.listen(0, host);
  await once(server, "listening");
  return { port: (server.address() as { port: number }).port, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Counts TCP connections (TLS or not). */
async function connectionCounter(host: string) {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    socket.destroy();
  });
  server.listen(0, host);
  await once(server, "listening");
  return { port: (server.address() as { port: number }).port, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** An https provider on 127.0.0.1 (public through the seam) whose discovery document names `endpoints`. */
async function craftedIssuer(endpoints: (issuer: string) => Record<string, string>) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  let issuer = "";
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    res.setHeader("connection", "close");
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(discoveryDocument(issuer, endpoints(issuer))));
    } else if (req.url === "/keys") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    else res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  issuer = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const mint = (email: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: email, email, email_verified: true, iat: now, exp: now + 300, iss: issuer, aud: "hearth" })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .sign(privateKey);
  };
  return {
    issuer,
    mint,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Where a Location sends the browser must be Hearth itself, on a path that is not protocol-relative. */
function assertSameOrigin(base: string, location: string | null, what: string): void {
  assert.ok(location !== null, `${what}: a redirect without Location`);
  const target = new URL(location, base);
  assert.equal(target.origin, new URL(base).origin, `${what}: Location ${JSON.stringify(location)} leaves Hearth`);
  assert.doesNotMatch(location, /^(\/\/|\/\\|[a-z][a-z0-9+.-]*:)/i, `${what}: Location ${JSON.stringify(location)}`);
}

const noSessionCookie = (headers: Headers) => !headers.getSetCookie().some((c) => c.startsWith("hearth_session="));

for (const dialect of DIALECTS) {
  describe(`trust-boundary attacks against one live Hearth (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let issuer: TestIssuer;
    let issuerB: TestIssuer;
    let attackerKey: string;
    /** The seam: 127.0.0.1 stands for a public provider, except while the SSRF kind probes loopback. */
    let loopbackIsPublic = true;
    const lookups: string[] = [];
    const closers: Array<() => Promise<void>> = [];

    const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
      lookups.push(hostname);
      const table: Record<string, string> = {
        localhost: "127.0.0.1",
        "internal.test": "127.0.0.1",
        "keys.test": "127.0.0.2",
        "metadata.test": "169.254.169.254",
        "nat.test": "100.64.0.1",
        "corp-lan.test": "10.0.0.5",
      };
      const address = table[hostname];
      if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return [{ address, family: 4 }];
    };

    const bearer = (token: string, path = "/verifyApiKey") => attack(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const createIdp = (id: string, body: Record<string, unknown>, key = h.adminKey, account = "my-account") =>
      attack(`${h.baseUrl}/v1/accounts/${account}/identityProviders?identityProviderId=${id}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body,
      });
    const idpCount = async () => (await h.call("GET", `${A}/identityProviders`)).body.identityProviders.length as number;

    before(async () => {
      up = await startUpstream();
      const config = writePlatformConfig(mkdtempSync(join(tmpdir(), "hearth-platform-")), up, {}, UPSTREAM_SECRET, await freePort());
      h = await startHearth(
        dialect,
        { HEARTH_CONFIG: config, ...THROTTLE },
        {
          network: { classify: (address) => (loopbackIsPublic && address === "127.0.0.1" ? "public" : classifyAddress(address)), lookup: resolve, ca: tls.ca },
        },
      );
      await h.listen();
      issuer = await startIssuer({ redirectUris: [hearthCallback(h)], tls: { key: tls.key, cert: tls.cert } });
      issuerB = await startIssuer({ redirectUris: [hearthCallback(h, "attacker", "b-sso")], clientId: "b-client", tls: { key: tls.key, cert: tls.cert } });
      await createIdentityProvider(h, issuer, { displayName: "Corp SSO", tenantDomains: ["corp.example"] });
      await human(h, "alice@corp.example", "user");
      attackerKey = await otherAccount(h, "attacker");
      const fieldsB = { tenantDomains: ["evil.example"], enableJitUserProvisioning: true };
      await createIdentityProvider(h, issuerB, fieldsB, { accountId: "attacker", identityProviderId: "b-sso", key: attackerKey });
    });
    after(async () => {
      for (const close of closers) await close();
      await h.stop();
      await issuer.close();
      await issuerB.close();
      await up.close();
      const metrics: Record<string, number | string> = {};
      let replayed = 0;
      let held = 0;
      for (const [kind, t] of tally) {
        metrics[`${kind} attacks replayed`] = t.replayed;
        metrics[`${kind} attacks that held`] = t.held;
        replayed += t.replayed;
        held += t.held;
      }
      report("trust-boundary attacks", { "attacks replayed": replayed, "attacks that held": held, ...metrics, "attacks seed": SEED });
      tally.clear();
    });

    test("SSRF: every spelling of a private issuer is refused at create; private names, ports and discovered endpoints are never reached", async () => {
      const listener = await recordingListener();
      closers.push(listener.close);
      const before = await idpCount();
      loopbackIsPublic = false;
      try {
        const p = listener.port;
        const hosts = [
          "2130706433",
          "0x7f000001",
          "127.1",
          "0177.0.0.1",
          "0x7f.1",
          "127.000.000.001",
          "127.0.0.1",
          "127.255.255.254",
          "[::ffff:127.0.0.1]",
          "[::ffff:7f00:1]",
          "[::1]",
          "[0:0:0:0:0:0:0:1]",
          "[64:ff9b::7f00:1]",
          "169.254.169.254",
          "[fe80::1]",
          "[::ffff:169.254.169.254]",
          "100.64.0.1",
          "100.127.255.254",
          "10.0.0.5",
          "172.16.0.1",
          "192.168.1.1",
          "[fd00::1]",
          "[fc00::1]",
          "0.0.0.0",
          "0",
          "[::]",
          "224.0.0.1",
          "255.255.255.255",
        ];
        const urls = hosts.flatMap((host) => [`http://${host}:${p}/internal/x`, `https://${host}/latest/meta-data`]);
        // Generated: private IPv4 addresses in decimal, hex and octal spellings.
        const privateV4 = fc.oneof(
          fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })),
          fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })),
          fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.integer({ min: 1, max: 254 })),
          fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.integer({ min: 1, max: 254 })),
          fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), fc.nat(255), fc.integer({ min: 1, max: 254 })),
        );
        const spell = (o: number[], how: number) =>
          how === 0
            ? String(((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!)
            : how === 1
              ? `0x${o.map((n) => n.toString(16).padStart(2, "0")).join("")}`
              : how === 2
                ? o.map((n) => `0${n.toString(8)}`).join(".")
                : `[::ffff:${o.join(".")}]`;
        for (const [o, how] of fc.sample(fc.tuple(privateV4, fc.nat(3)), { numRuns: RUNS, seed: SEED })) urls.push(`https://${spell(o, how)}:${p}/x`);
        for (const url of urls) {
          await attempt("SSRF", async () => {
            const res = await createIdp("internal", { oidcConfig: { issuerUrl: url, clientId: "hearth" }, tenantDomains: ["corp.example"] });
            assert.equal(res.status, 400, `${url}: ${res.status} ${res.text}`);
            assert.match(res.body.error.message, /oidcConfig\.issuerUrl/, url);
          });
        }
        for (const url of urls.slice(0, 8)) {
          await attempt("SSRF", async () => {
            const res = await attack(`${h.baseUrl}${A}/identityProviders/corp`, {
              method: "PATCH",
              headers: { authorization: `Bearer ${h.adminKey}` },
              body: { oidcConfig: { issuerUrl: url } },
            });
            assert.equal(res.status, 400, `${url}: ${res.text}`);
          });
        }
        assert.equal(await idpCount(), before, "no refused provider was stored");
        assert.equal((await h.call("GET", `${A}/identityProviders/corp`)).body.oidcConfig.issuerUrl, issuer.issuer, "the refused updates changed nothing");

        // Names are judged when connecting: each resolves to a private address, and nothing is reached.
        const closedPort = await freePort();
        const named: Array<[string, string]> = [
          ["loc1", `http://localhost:${p}/internal/x`],
          ["loc2", `https://localhost:${p}/internal/x`],
          ["int1", `https://internal.test:${p}/internal/x`],
          ["meta", "https://metadata.test/latest/meta-data"],
          ["cgnat", `https://nat.test:${p}/`],
          ["lan", `https://corp-lan.test:${p}/`],
          ["closed", `https://localhost:${closedPort}/internal/x`],
        ];
        const bodies = new Set<string>();
        for (const [id, url] of named) {
          const created = await createIdp(id, { oidcConfig: { issuerUrl: url, clientId: `c-${id}` } });
          assert.equal(created.status, 200, `${url}: ${created.text}`);
          for (let i = 0; i < 2; i++) {
            await attempt("SSRF", async () => {
              // One request id for every probe: an error body names its request, and the bodies must not differ.
              const start = await attack(`${h.baseUrl}/auth/oidc/my-account/${id}/start`, { headers: { ...FROM_HEARTH_PAGE, "x-request-id": "ssrf-probe" } });
              assert.equal(start.status, 503, `${url}: ${start.text}`);
              assert.equal(start.body.error.message, SENTENCE(id));
              bodies.add(start.text.split(id).join("ID"));
            });
          }
        }
        assert.equal(bodies.size, 1, `one body for an open port, a closed port and every private name: ${[...bodies].join(" | ")}`);
        assert.deepEqual(listener.requests, [], "the loopback listener received no request at all");
      } finally {
        loopbackIsPublic = true;
      }

      // A "public" https provider naming private key, token and userinfo endpoints.
      const keysHttp = await recordingListener();
      const privateTcp = await connectionCounter("127.0.0.2");
      closers.push(keysHttp.close, privateTcp.close);
      const endpoints: Array<[string, (issuer: string) => Record<string, string>]> = [
        ["jwkhttp", () => ({ jwks_uri: `http://127.0.0.1:${keysHttp.port}/internal/keys` })],
        ["jwklit", () => ({ jwks_uri: `https://127.0.0.2:${privateTcp.port}/keys` })],
        ["jwkname", () => ({ jwks_uri: `https://keys.test:${privateTcp.port}/keys` })],
        ["jwkmeta", () => ({ jwks_uri: "https://169.254.169.254/latest/meta-data/keys" })],
        ["jwkmapped", () => ({ jwks_uri: `https://[::ffff:127.0.0.2]:${privateTcp.port}/keys` })],
        [
          "tokpriv",
          () => ({ token_endpoint: `https://127.0.0.2:${privateTcp.port}/token`, userinfo_endpoint: `https://keys.test:${privateTcp.port}/userinfo` }),
        ],
        ["tokhttp", () => ({ token_endpoint: `http://127.0.0.1:${keysHttp.port}/token`, userinfo_endpoint: `http://127.0.0.1:${keysHttp.port}/userinfo` })],
      ];
      for (const [id, names] of endpoints) {
        const idp = await craftedIssuer(names);
        closers.push(idp.close);
        const created = await createIdp(id, {
          oidcConfig: { issuerUrl: idp.issuer, clientId: "hearth", clientSecret: "s3cret-value" },
          tenantDomains: ["corp.example"],
        });
        assert.equal(created.status, 200, created.text);
        await attempt("SSRF", async () => {
          const res = await bearer(await idp.mint("alice@corp.example"));
          if (id.startsWith("jwk")) {
            assert.equal(res.status, 503, `${id}: ${res.text}`);
            assert.equal(res.body.error.message, SENTENCE(id));
          } else assert.ok(res.status < 500 || res.status === 503, `${id}: ${res.text}`);
        });
        await attempt("SSRF", async () => {
          const res = await attack(`${h.baseUrl}/auth/cli/refresh`, {
            method: "POST",
            body: { accountId: "my-account", identityProviderId: id, refreshToken: "junk-refresh" },
          });
          assert.ok(res.status >= 400 && (res.status < 500 || res.status === 503), `${id}: ${res.text}`);
          assert.equal(res.text.includes("s3cret-value"), false);
        });
      }
      assert.deepEqual(keysHttp.requests, [], "no request reached the private http endpoints");
      assert.equal(privateTcp.connections(), 0, "no connection reached the private https endpoints");
      assert.ok(lookups.includes("keys.test"), "the name was resolved, and its private answer refused");
    });

    test("asserted email: out-of-tenant, unverified, malformed, rebound, multi-audience and long-lived tokens are refused and audited", async () => {
      const usersBefore = (await h.call("GET", `${A}/users?pageSize=200`)).body.users.length;
      const refused = async (claims: Record<string, unknown>, status: number, message?: RegExp) =>
        attempt("asserted email", async () => {
          const token = await issuer.mint(claims);
          for (const path of ["/verifyApiKey", `${A}/users`]) {
            const res = await bearer(token, path);
            assert.equal(res.status, status, `${JSON.stringify(claims)} at ${path}: ${res.text}`);
            assert.equal(res.headers.get("x-hearth-principal"), null);
            if (message) assert.match(res.body.error.message, message, JSON.stringify(claims));
          }
        });
      const outside = [
        "admin@example.com",
        "admin@attacker.example",
        "admin@my-account.example",
        "root@corp.example.evil.test",
        "alice@corp.example.",
        "alice@sub.corp.example",
        "ALICE@EVIL.EXAMPLE",
      ];
      for (const email of outside)
        await refused(
          { sub: `out-${email}`, email, email_verified: true },
          403,
          /is not a user of account "my-account" who may sign in through identity provider "corp"|not a valid email address/,
        );
      for (const email_verified of ["false", "true", 1, 0, null, "yes", [true], { value: true }, undefined]) {
        await refused({ sub: "alice-unverified", email: "alice@corp.example", email_verified }, 403, /verified/);
      }
      const malformed = [
        "x@evil.test@corp.example",
        '"odd name"@corp.example',
        "evil\r\nx-injected: 1@corp.example",
        "evil\u001b[31m@corp.example",
        "evil\u0000@corp.example",
        "alice\u202e@corp.example",
        "alice@corp.example\u2066",
        "al ice@corp.example",
        "@corp.example",
        "alice@",
      ];
      const generated = fc
        .sample(
          fc.tuple(
            fc.stringMatching(/^[a-z]{1,8}$/),
            fc.constantFrom("\r", "\n", "\u0000", "\u001b", "\u007f", "\u0085", "\u202a", "\u202e", "\u2066", "\u2069", "\u200f", "\u061c", "@", " ", '"'),
            fc.nat(8),
          ),
          { numRuns: RUNS, seed: SEED },
        )
        .map(([name, bad, at]) => `${name.slice(0, at)}${bad}${name.slice(at)}@corp.example`);
      for (const email of [...malformed, ...generated])
        await refused({ sub: `bad-${email}`, email, email_verified: true }, 403, /not a valid email address|is not a user of account/);

      // Bound to one subject: the same email with any other subject is a stranger.
      const first = await bearer(await issuer.mint({ sub: "alice-sub-1", email: "alice@corp.example", email_verified: true }));
      assert.equal(first.status, 200, first.text);
      for (const sub of fc.sample(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s !== "alice-sub-1"),
        { numRuns: RUNS, seed: SEED },
      )) {
        await refused({ sub, email: "alice@corp.example", email_verified: true }, 403, /bound to another subject/);
      }
      for (const extra of [["another-client"], ["another-client", "third"], []]) {
        await refused(
          { sub: "alice-sub-1", email: "alice@corp.example", email_verified: true, aud: [issuer.clientId, ...extra, "x"] },
          401,
          /several audiences and no "azp" claim/,
        );
      }
      const now = Math.floor(Date.now() / 1000);
      for (const lifetime of fc.sample(fc.integer({ min: 86_401 + 120, max: 20 * 365 * 86_400 }), { numRuns: RUNS, seed: SEED })) {
        await refused(
          { sub: "alice-sub-1", email: "alice@corp.example", email_verified: true, iat: now, exp: now + lifetime },
          401,
          /longer than the 86400 allowed/,
        );
      }
      await refused({ sub: "alice-sub-1", email: "alice@corp.example", email_verified: true, iat: undefined }, 401, /"iat" claim/);

      // Through the browser, at the real provider's login page.
      for (const login of ["admin@example.com", "x@evil.test@corp.example", "unverified-carol@corp.example"]) {
        await attempt("asserted email", async () => {
          const browser = new Browser();
          const callback = await followSignIn(browser, `${h.baseUrl}/auth/oidc/my-account/corp/start`, login, isHearthCallback(h), FROM_HEARTH_PAGE);
          const res = await browser.request(callback);
          assert.equal(res.status, 403, `${login}: ${await res.text()}`);
          assert.equal(browser.cookie(h.baseUrl, "hearth_session"), undefined, login);
        });
      }
      // Every page: with HEARTH_RELIABILITY_FUZZ_RUNS high there are more refusals than one page holds.
      const audits: any[] = [];
      let pageToken = "";
      do {
        const filter = encodeURIComponent('message="SignIn" AND status:"PERMISSION_DENIED"');
        const page = (await h.call("GET", `${A}/auditLogs?pageSize=200&filter=${filter}${pageToken ? `&pageToken=${pageToken}` : ""}`)).body;
        audits.push(...(page.auditLogs as any[]));
        pageToken = page.nextPageToken;
      } while (pageToken);
      for (const email of ["admin@example.com", ...malformed.slice(0, 4), "alice@corp.example"]) {
        assert.ok(
          audits.some((e) => e.payload?.email === email || e.principal === email),
          `the refusal for ${JSON.stringify(email)} is audited`,
        );
      }
      assert.equal((await h.call("GET", `${A}/users?pageSize=200`)).body.users.length, usersBefore, "no user was created");
      const bindings = (await h.call("GET", `${A}/users/alice-corp-example`)).body.identityBindings;
      assert.deepEqual(
        bindings.map((b: any) => b.subject),
        ["alice-sub-1"],
        "the binding is unchanged",
      );
    });

    test("open redirect: next on one-time links and on OIDC sign-in never leads off Hearth's origin", async () => {
      const fixed = [
        "/.//evil.example/phish",
        "/..//evil.example",
        "/%2e//evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "//evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
        "/%2F/evil.example",
        "/./%2e%2e//evil.example",
        "\\\\evil.example",
        "/%5C%5Cevil.example",
        "http:evil.example",
        "/\r\n//evil.example",
        "///evil.example",
        "/@evil.example",
        "data:text/html,x",
      ];
      const pieces = fc.constantFrom(
        "/",
        "\\",
        ".",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "%5C",
        "@",
        ":",
        "evil.example",
        "\t",
        "\n",
        "%09",
        "%0a",
        "https:",
        "javascript:",
      );
      const generated = fc.sample(
        fc.array(pieces, { minLength: 1, maxLength: 8 }).map((parts) => parts.join("")),
        { numRuns: RUNS * 3, seed: SEED },
      );
      for (const next of [...fixed, ...generated]) {
        await attempt("open redirect", async () => {
          const link = await createSigninLink(h.deps, "my-account", "alice@corp.example", h.baseUrl);
          const res = await attack(`${new URL(link.url).origin}${new URL(link.url).pathname}?next=${encodeURIComponent(next)}`);
          assert.ok(res.status === 302 || res.status === 400, `${JSON.stringify(next)}: ${res.status} ${res.text}`);
          if (res.status === 302) assertSameOrigin(h.baseUrl, res.headers.get("location"), JSON.stringify(next));
        });
        await attempt("open redirect", async () => {
          const res = await attack(`${h.baseUrl}/auth/oidc/my-account/corp/start?next=${encodeURIComponent(next)}`, { headers: FROM_HEARTH_PAGE });
          assert.ok(res.status === 302 || res.status === 400, `${JSON.stringify(next)}: ${res.status} ${res.text}`);
          if (res.status === 302) assert.equal(new URL(res.headers.get("location")!).origin, issuer.issuer, "start goes to the provider only");
        });
      }
      // The whole dance for the reproductions: the callback's Location stays on Hearth.
      await human(h, "rita@corp.example", "user");
      for (const next of [...fixed.slice(0, 6), ...generated.slice(0, 3)]) {
        await attempt("open redirect", async () => {
          const browser = new Browser();
          const start = `${h.baseUrl}/auth/oidc/my-account/corp/start?next=${encodeURIComponent(next)}`;
          const callback = await followSignIn(browser, start, "rita@corp.example", isHearthCallback(h), FROM_HEARTH_PAGE);
          const res = await browser.request(callback);
          assert.equal(res.status, 302, await res.text());
          assertSameOrigin(h.baseUrl, res.headers.get("location"), JSON.stringify(next));
        });
      }
    });

    test("tenant clone: another account cannot register the victim's issuer and client id in any spelling; the victim's tokens still verify", async () => {
      const url = new URL(issuer.issuer);
      const spellings = [
        issuer.issuer,
        `${issuer.issuer}/`,
        issuer.issuer.replace("https://", "HTTPS://"),
        `https://0x7f000001:${url.port}`,
        `https://127.1:${url.port}`,
        `https://2130706433:${url.port}`,
        `${issuer.issuer}/.`,
        `${issuer.issuer}#`,
        `${issuer.issuer}?`,
        `${issuer.issuer}//`,
      ];
      const token = () => issuer.mint({ sub: "alice-sub-1", email: "alice@corp.example", email_verified: true });
      const findings: string[] = [];
      const outcomes = { 409: 0, 400: 0, 200: 0 } as Record<number, number>;
      for (const [i, issuerUrl] of spellings.entries()) {
        await attempt("tenant clone", async () => {
          const res = await createIdp(`clone${i}`, { oidcConfig: { issuerUrl, clientId: issuer.clientId } }, attackerKey, "attacker");
          assert.ok(res.status < 500, `${issuerUrl}: ${res.text}`);
          outcomes[res.status] = (outcomes[res.status] ?? 0) + 1;
          assert.equal(res.text.includes("my-account"), false, "the holder is not named");
          if (res.status === 409) assert.equal(res.body.error.message, PAIR_TAKEN);
          else if (res.status === 200) {
            // Not the same pair to Hearth: it must not let the attacker's account accept the victim's tokens.
            const stolen = await bearer(await token(), "/v1/accounts/attacker/users");
            if (stolen.status === 200) findings.push(issuerUrl);
            assert.equal(stolen.status, 401, `${issuerUrl} registered by the attacker made its account accept the victim's token`);
            const deleted = await h.call("DELETE", `/v1/accounts/attacker/identityProviders/clone${i}`, { key: attackerKey });
            assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
          } else assert.equal(res.status, 400, `${issuerUrl}: ${res.text}`);
        });
      }
      await attempt("tenant clone", async () => {
        const own = await createIdp("own", { oidcConfig: { issuerUrl: issuer.issuer, clientId: "attacker-client" } }, attackerKey, "attacker");
        assert.equal(own.status, 200, own.text);
        const patched = await attack(`${h.baseUrl}/v1/accounts/attacker/identityProviders/own`, {
          method: "PATCH",
          headers: { authorization: `Bearer ${attackerKey}` },
          body: { oidcConfig: { clientId: issuer.clientId } },
        });
        assert.equal(patched.status, 409, patched.text);
        assert.equal(patched.body.error.message, PAIR_TAKEN);
      });
      const verified = await bearer(await token());
      assert.equal(verified.status, 200, verified.text);
      assert.equal(verified.body.accountId, "my-account");
      assert.deepEqual(findings, []);
      report("trust-boundary attacks", {
        "issuer spellings refused as taken (409)": outcomes[409] ?? 0,
        "issuer spellings refused as invalid (400)": outcomes[400] ?? 0,
        "issuer spellings stored apart (tokens refused)": outcomes[200] ?? 0,
      });
    });

    test("login CSRF: a sign-in not begun on Hearth's page is 403 without a cookie; one over another account's session asks first", async () => {
      const start = `${h.baseUrl}/auth/oidc/attacker/b-sso/start`;
      const headerSets: Array<Record<string, string>> = [
        { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" },
        { "sec-fetch-site": "same-site" },
        { "sec-fetch-site": "none" },
        {},
        { "sec-fetch-site": "cross-site", referer: `${h.baseUrl}/signin` },
        { "sec-fetch-site": "CROSS-SITE" },
        { "sec-fetch-site": "" },
      ];
      const referers = fc
        .sample(
          fc.tuple(
            fc.constantFrom(
              "https://evil.example",
              `${h.baseUrl}.evil.example`,
              "http://127.0.0.1.evil.example",
              `http://localhost:${new URL(h.baseUrl).port}`,
              `http://127.0.0.2:${new URL(h.baseUrl).port}`,
              "null",
              `https://${new URL(h.baseUrl).host}`,
            ),
            fc.constantFrom("/", "/signin", "/lure?x=1"),
          ),
          { numRuns: RUNS, seed: SEED },
        )
        .map(([origin, path]) => ({ referer: `${origin}${path}` }));
      for (const headers of [...headerSets, ...referers]) {
        await attempt("login CSRF", async () => {
          const res = await attack(start, { headers });
          assert.equal(res.status, 403, `${JSON.stringify(headers)}: ${res.text}`);
          assert.equal(res.headers.get("location"), null);
          assert.deepEqual(res.headers.getSetCookie(), [], `${JSON.stringify(headers)}: no cookie`);
        });
      }
      assert.equal(issuerB.tokenRequests(), 0, "the attacker's provider was never reached");

      // Over a session in my-account, a completed sign-in to the attacker's account only asks.
      const whoIs = async (browser: Browser) => {
        const res = await browser.request(`${h.baseUrl}/auth/session`);
        return res.status === 200 ? ((await res.json()) as { accountId: string }).accountId : undefined;
      };
      const browser = new Browser();
      const link = await createSigninLink(h.deps, "my-account", "alice@corp.example", h.baseUrl);
      assert.equal((await browser.request(link.url)).status, 302);
      const session = browser.cookie(h.baseUrl, "hearth_session");
      const switchPage = await attempt("login CSRF", async () => {
        const callback = await followSignIn(browser, start, "mallory@evil.example", isHearthCallback(h), FROM_HEARTH_PAGE);
        const res = await browser.request(callback, { headers: { accept: "text/html" } });
        assert.equal(res.status, 200);
        assert.ok(noSessionCookie(res.headers), "the session is not replaced");
        assert.equal(await whoIs(browser), "my-account");
        return res.text();
      });
      const token = /<input type="hidden" name="token" value="([^"]+)">/.exec(switchPage)?.[1];
      assert.ok(token, switchPage);
      const post = (t: string, origin = h.baseUrl) =>
        browser.request(`${h.baseUrl}/auth/switch`, {
          method: "POST",
          body: new URLSearchParams({ token: t, choice: "switch" }).toString(),
          headers: { "content-type": "application/x-www-form-urlencoded", origin },
        });
      for (const [forged, origin] of [
        ["x".repeat(43), h.baseUrl],
        [mistyped(token), h.baseUrl],
        [token, "https://evil.example"],
      ] as const) {
        await attempt("login CSRF", async () => {
          const res = await post(forged, origin);
          assert.ok(res.status === 403 || res.status === 400, `${res.status}`);
          assert.ok(noSessionCookie(res.headers));
          assert.equal(browser.cookie(h.baseUrl, "hearth_session"), session, "the session is unchanged");
          assert.equal(await whoIs(browser), "my-account");
        });
      }
    });

    test("smaller leaks: an echoing upstream, forged page tokens, control characters, file modes", async () => {
      const bot = await serviceAccountWithKey(h, "leak-bot", "contributor");
      const seen: string[] = [];
      for (const content of ["echo-auth", "echo-auth-400", "echo-auth-text"]) {
        for (const stream of [false, true]) {
          await attempt("smaller leaks", async () => {
            const res = await attack(`${h.baseUrl}/inference/v1/chat/completions`, {
              method: "POST",
              headers: { authorization: `Bearer ${bot.key}` },
              body: { model: "accounts/fireworks/models/tiny-public", messages: [{ role: "user", content }], stream },
            });
            assert.ok(res.status !== 500, res.text);
            seen.push(res.text, JSON.stringify([...res.headers]));
            assert.equal(res.text.includes(UPSTREAM_SECRET), false, res.text);
          });
        }
      }
      assert.ok(
        up.requests.some((r) => r.headers.authorization === `Bearer ${UPSTREAM_SECRET}`),
        "the upstream did receive its credential",
      );

      // Page tokens: genuine ones altered, and forged ones, on every list route.
      for (const id of ["pt-a", "pt-b", "pt-c"]) await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true, role: "user" } });
      const openapi = (await h.call("GET", "/openapi.json", { key: null })).body;
      const fill = (path: string) =>
        path
          .replace("{accountId}", "my-account")
          .replace("{userId}", "-")
          .replace(/\{[^}]+\}/g, "none");
      const lists = Object.entries(openapi.paths as Record<string, any>)
        .filter(([, ops]) => ops.get?.parameters?.some((p: any) => p.name === "pageToken"))
        .map(([path]) => fill(path));
      assert.ok(lists.length >= 5, lists.join(" "));
      const genuine = (await h.call("GET", `${A}/users?pageSize=1`)).body.nextPageToken as string;
      const forged = fc.sample(forgedPageToken, { numRuns: RUNS, seed: SEED });
      const altered = [0, 3, genuine.indexOf(".") - 1, genuine.indexOf(".") + 1, genuine.length - 1].map(
        (at) => genuine.slice(0, at) + (genuine[at] === "A" ? "B" : "A") + genuine.slice(at + 1),
      );
      for (const path of lists) {
        for (const pageToken of [...forged.slice(0, Math.max(3, Math.ceil(RUNS / 4))), ...altered, `${genuine}A`, "abc", "e30"]) {
          await attempt("smaller leaks", async () => {
            const res = await attack(`${h.baseUrl}${path}?pageSize=1&pageToken=${encodeURIComponent(pageToken)}`, {
              headers: { authorization: `Bearer ${h.adminKey}` },
            });
            assert.equal(res.status, 400, `${path} ${pageToken}: ${res.text}`);
            assert.match(res.body.error.message, /pageToken/);
          });
        }
      }

      // Control and bidi characters in everything people read, on create and update.
      const badChars = [
        "\u0000",
        "\u0007",
        "\u001b[31m",
        "\r\n",
        "\u007f",
        "\u0085",
        "\u009b",
        "\u202e",
        "\u202a",
        "\u2066",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
      ];
      const texts = [
        ...badChars.map((c) => `name${c}x`),
        ...fc.sample(
          fc.tuple(fc.stringMatching(/^[a-z ]{0,10}$/), fc.constantFrom(...badChars)).map(([s, c]) => `${s}${c}${s}`),
          { numRuns: RUNS, seed: SEED },
        ),
      ];
      const key = { authorization: `Bearer ${h.adminKey}` };
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=ds`, { body: {} })).status, 200);
      assert.equal((await h.call("POST", `${A}/models?modelId=md`, { body: { model: { backend: "local", upstreamModel: "tiny-upstream" } } })).status, 200);
      const before = JSON.stringify(
        await Promise.all(
          [`${A}/users/leak-bot`, `${A}/datasets/ds`, `${A}/models/md`, `${A}/identityProviders/corp`].map(async (p) => (await h.call("GET", p)).body),
        ),
      );
      const targets = (t: string): Array<[string, string, unknown]> => [
        ["POST", `${A}/users?userId=ctl-user`, { serviceAccount: true, role: "user", displayName: t }],
        ["PATCH", `${A}/users/leak-bot`, { displayName: t }],
        ["POST", `${A}/datasets?datasetId=ctl-ds`, { displayName: t }],
        ["PATCH", `${A}/datasets/ds`, { displayName: t }],
        ["POST", `${A}/models?modelId=ctl-md`, { model: { backend: "local", upstreamModel: "tiny-upstream", displayName: t } }],
        ["POST", `${A}/models?modelId=ctl-md`, { model: { backend: "local", upstreamModel: "tiny-upstream", description: t } }],
        ["PATCH", `${A}/models/md`, { description: t }],
        ["POST", `${A}/users/leak-bot/apiKeys`, { apiKey: { displayName: t } }],
        ["POST", `${A}/deployments?deploymentId=ctl-dp`, { displayName: t, baseModel: "accounts/fireworks/models/tiny-public" }],
        [
          "POST",
          `${A}/identityProviders?identityProviderId=ctl-idp`,
          { displayName: t, oidcConfig: { issuerUrl: "https://login.ctl.example", clientId: "c" } },
        ],
        ["POST", `${A}/identityProviders?identityProviderId=ctl-idp`, { oidcConfig: { issuerUrl: `https://login.ctl.example/${t}`, clientId: "c" } }],
        ["PATCH", `${A}/identityProviders/corp`, { displayName: t }],
      ];
      for (const t of texts) {
        for (const [method, path, body] of targets(t)) {
          await attempt("smaller leaks", async () => {
            const res = await attack(`${h.baseUrl}${path}`, { method, headers: key, body });
            assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(t)}: ${res.text}`);
          });
        }
      }
      const afterState = JSON.stringify(
        await Promise.all(
          [`${A}/users/leak-bot`, `${A}/datasets/ds`, `${A}/models/md`, `${A}/identityProviders/corp`].map(async (p) => (await h.call("GET", p)).body),
        ),
      );
      assert.equal(afterState, before, "nothing was changed by a refused update");
      for (const [path] of [[`${A}/users/ctl-user`], [`${A}/datasets/ctl-ds`], [`${A}/models/ctl-md`], [`${A}/identityProviders/ctl-idp`]]) {
        assert.equal((await h.call("GET", path!)).status, 404, `${path} was not created`);
      }

      if (dialect === "sqlite") {
        const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, "0");
        await attempt("smaller leaks", async () => {
          assert.equal(mode(h.dataDir), "0700");
          for (const name of ["hearth.db", "hearth.db-wal", "hearth.db-shm", "secret-key"]) assert.equal(mode(join(h.dataDir, name)), "0600", name);
        });
      }
      seen.push(h.logs.join(""), JSON.stringify((await h.call("GET", `${A}/auditLogs?pageSize=200`)).body));
      for (const text of seen) assert.equal(text.includes(UPSTREAM_SECRET), false, "the backend credential appears nowhere");
    });

    test("throttling: a spray of junk keys from one address is blocked while good credentials from it are served; junk refreshes are capped", async () => {
      const from = "127.99.0.1";
      const link = await createSigninLink(h.deps, "my-account", "admin@example.com", h.baseUrl);
      const redeemed = await attack(link.url, { from });
      assert.equal(redeemed.status, 302);
      const cookie = redeemed.headers
        .getSetCookie()
        .find((c) => c.startsWith("hearth_session="))!
        .split(";")[0]!;
      const spray = await Promise.all(
        Array.from({ length: 55 }, () =>
          attempt("throttling", () => attack(`${h.baseUrl}${A}/users`, { from, headers: { authorization: `Bearer ${generateKey().key}` } })),
        ),
      );
      const statuses = spray.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 401).length, 50, statuses.join(","));
      assert.equal(statuses.filter((s) => s === 429).length, 5);
      const good: Array<[string, () => ReturnType<typeof attack>]> = [
        ["admin key", () => attack(`${h.baseUrl}${A}/users`, { from, headers: { authorization: `Bearer ${h.adminKey}` } })],
        ["admin key at /verifyApiKey", () => attack(`${h.baseUrl}/verifyApiKey`, { from, headers: { authorization: `Bearer ${h.adminKey}` } })],
        ["session", () => attack(`${h.baseUrl}${A}/users`, { from, headers: { cookie } })],
        [
          "ID token",
          async () =>
            attack(`${h.baseUrl}/verifyApiKey`, {
              from,
              headers: { authorization: `Bearer ${await issuer.mint({ sub: "alice-sub-1", email: "alice@corp.example", email_verified: true })}` },
            }),
        ],
      ];
      for (const [what, call] of good) {
        await attempt("throttling", async () => {
          const res = await call();
          assert.equal(res.status, 200, `${what}: ${res.text}`);
        });
      }
      await attempt("throttling", async () => {
        const junk = await attack(`${h.baseUrl}${A}/users`, { from, headers: { authorization: `Bearer ${generateKey().key}` } });
        assert.equal(junk.status, 429);
        assert.ok(Number(junk.headers.get("retry-after")) >= 1);
      });

      const refreshFrom = "127.99.0.2";
      const before = issuer.tokenRequests();
      const body = { accountId: "my-account", identityProviderId: "corp", refreshToken: "junk-refresh-token" };
      const refreshes = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          attempt("throttling", () =>
            attack(`${h.baseUrl}/auth/cli/refresh`, { from: refreshFrom, method: "POST", body: { ...body, refreshToken: `junk-${i}` } }),
          ),
        ),
      );
      // firectl's refresh token is sealed by Hearth: junk never costs a call to the provider, and is still capped per address.
      assert.equal(issuer.tokenRequests() - before, 0, "calls reached the provider's token endpoint");
      assert.ok(refreshes.filter((r) => r.status === 429).length >= 10, refreshes.map((r) => r.status).join(","));
      assert.ok(
        refreshes.every((r) => r.status === 401 || r.status === 429),
        refreshes.map((r) => r.status).join(","),
      );
    });
  });
}
