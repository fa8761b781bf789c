import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { loadConfig } from "../src/config.ts";
import { classifyAddress } from "../src/domain/network-address.ts";
import type { NetworkOptions, ResolvedAddress } from "../src/service/outbound-fetch.ts";
import { auditEntries, human } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { discoveryDocument, startIssuer } from "./support/oidc-issuer.ts";
import { freePort } from "./support/process.ts";
import { makeTestCertificates } from "./support/tls.ts";

/**
 * Issue 13, item 1: an account admin could point an identity provider at any address and make
 * Hearth fetch it (SSRF), and the differing errors made Hearth a port scanner. Hearth now reaches
 * only public addresses unless the operator sets HEARTH_ALLOW_PRIVATE_NETWORKS=true, checks the
 * address it actually connects to, and answers one sentence for every failure.
 */
const A = "/v1/accounts/my-account";
const tls = makeTestCertificates(["127.0.0.1", "127.0.0.2", "localhost", "rebind.test", "keys.test"]);
const SENTENCE = (idp: string) => `identity provider "${idp}" did not answer OIDC discovery; try again later`;
/** The start of a browser sign-in, as Hearth's own sign-in page sends it. */
const FROM_SIGN_IN_PAGE = { "sec-fetch-site": "same-origin" };

/** A listener that records every request it receives and answers 404. */
async function recordingListener(host = "127.0.0.1") {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { "content-type": "text/html" }).end("<h1>internal admin panel</h1>");
  });
  server.listen(0, host);
  await once(server, "listening");
  return { port: (server.address() as { port: number }).port, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A TCP listener that counts connections (TLS or not, nothing reaches it unnoticed). */
async function connectionCounter(host: string, port = 0) {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    socket.destroy();
  });
  server.listen(port, host);
  await once(server, "listening");
  return { port: (server.address() as { port: number }).port, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * An https OpenID Provider whose discovery document the test writes: `endpoints(issuer)` may name a
 * jwks_uri anywhere. It serves its own key set at /keys and closes every connection after one
 * answer, so each fetch Hearth makes is a new connection (and a new DNS lookup).
 */
async function craftedIssuer(options: { host?: string; port?: number; endpoints?: (issuer: string) => Record<string, string> }) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  const requests: string[] = [];
  let issuer = "";
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader("connection", "close");
    if (req.url === "/.well-known/openid-configuration") {
      const doc = discoveryDocument(issuer, options.endpoints?.(issuer) ?? {});
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
    } else if (req.url === "/keys") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  issuer = `https://${options.host ?? "127.0.0.1"}:${port}`;
  const mint = async (email: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: email, email, email_verified: true, iat: now, exp: now + 300, iss: issuer, aud: "hearth" })
      .setProtectedHeader({ alg: "RS256", kid: "k1", typ: "JWT" })
      .sign(privateKey);
  };
  return {
    issuer,
    port,
    requests,
    mint,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The seam: 127.0.0.1 counts as public (it stands for a real provider), everything else as it is. */
function network(lookup?: (hostname: string) => Promise<ResolvedAddress[]>): NetworkOptions {
  return { classify: (address) => (address === "127.0.0.1" ? "public" : classifyAddress(address)), ca: tls.ca, ...(lookup ? { lookup } : {}) };
}

async function createProvider(h: TestHearth, id: string, issuerUrl: string) {
  return h.call("POST", `${A}/identityProviders?identityProviderId=${id}`, {
    body: { oidcConfig: { issuerUrl, clientId: "hearth", clientSecret: "s3cret-value" }, tenantDomains: ["corp.example"] },
  });
}

/** The raw body of a sign-in start, for byte-for-byte comparison. */
async function startBody(h: TestHearth, idp: string): Promise<{ status: number; body: string }> {
  // One request id for every probe: an error body names its request, and the bodies must be byte-identical.
  const res = await h.app.inject({ method: "GET", url: `/auth/oidc/my-account/${idp}/start`, headers: { ...FROM_SIGN_IN_PAGE, "x-request-id": "probe-1" } });
  return { status: res.statusCode, body: res.body };
}

test("HEARTH_ALLOW_PRIVATE_NETWORKS is off unless the operator says exactly true; anything else stops start-up", () => {
  assert.equal(loadConfig({}).allowPrivateNetworks, false);
  assert.equal(loadConfig({ HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }).allowPrivateNetworks, true);
  assert.equal(loadConfig({ HEARTH_ALLOW_PRIVATE_NETWORKS: "false" }).allowPrivateNetworks, false);
  assert.throws(() => loadConfig({ HEARTH_ALLOW_PRIVATE_NETWORKS: "yes" }), /HEARTH_ALLOW_PRIVATE_NETWORKS must be true or false/);
});

for (const dialect of DIALECTS) {
  describe(`identity providers cannot reach private networks (${dialect})`, () => {
    let h: TestHearth;
    let listener: Awaited<ReturnType<typeof recordingListener>>;

    before(async () => {
      h = await startHearth(dialect);
      listener = await recordingListener();
    });
    after(async () => {
      await h.stop();
      await listener.close();
    });

    test("regression (SSRF): issuerUrl http://127.0.0.1:<port>/internal/x no longer makes Hearth fetch a loopback service", async () => {
      const literal = await createProvider(h, "internal", `http://127.0.0.1:${listener.port}/internal/x`);
      assert.equal(literal.status, 400, JSON.stringify(literal.body));
      assert.match(
        literal.body.error.message,
        /^invalid oidcConfig\.issuerUrl "http:\/\/127\.0\.0\.1:\d+\/internal\/x": 127\.0\.0\.1 is a loopback address; .*HEARTH_ALLOW_PRIVATE_NETWORKS=true$/,
      );
      const [refusal] = await auditEntries(h, 'message="CreateIdentityProvider" AND status:"INVALID_ARGUMENT"');
      assert.equal(refusal.status.code, "INVALID_ARGUMENT", "the refusal is in the account's audit log");
      for (const [url, range] of [
        [`http://2130706433:${listener.port}/internal/x`, "loopback"],
        [`http://0x7f.1:${listener.port}/internal/x`, "loopback"],
        [`https://[::ffff:7f00:1]:${listener.port}/internal/x`, "loopback"],
        ["https://169.254.169.254/latest/meta-data", "link-local"],
        ["https://10.0.0.5/", "private"],
      ]) {
        const res = await createProvider(h, "internal", url!);
        assert.equal(res.status, 400, url);
        assert.match(res.body.error.message, new RegExp(`oidcConfig\\.issuerUrl .* is an? ${range} address`), url);
      }
      assert.equal((await createProvider(h, "okta", "https://acme.okta.com")).status, 200);
      const patched = await h.call("PATCH", `${A}/identityProviders/okta`, {
        body: { oidcConfig: { issuerUrl: `http://127.0.0.1:${listener.port}/internal/x` } },
      });
      assert.equal(patched.status, 400, "an update is held to the same rule");
      assert.match(patched.body.error.message, /oidcConfig\.issuerUrl/);

      // A host name is judged when connecting: accepted now, refused once it resolves to loopback.
      const named = await createProvider(h, "local", `http://localhost:${listener.port}/internal/x`);
      assert.equal(named.status, 200, JSON.stringify(named.body));
      const start = await h.call("GET", "/auth/oidc/my-account/local/start", { key: null, headers: FROM_SIGN_IN_PAGE });
      assert.equal(start.status, 503, JSON.stringify(start.body));
      assert.equal(start.body.error.message, SENTENCE("local"));
      assert.deepEqual(listener.requests, [], "the loopback listener received no request at all");
    });

    test("a closed port and an open port answer byte-identical bodies (no port scanning)", async () => {
      const closedPort = await freePort();
      const open = await startBody(h, "local");
      assert.equal(
        (
          await h.call("PATCH", `${A}/identityProviders/local`, {
            body: { oidcConfig: { issuerUrl: `http://localhost:${closedPort}/internal/x`, clientSecret: "s3cret-value" } },
          })
        ).status,
        200,
      );
      const closed = await startBody(h, "local");
      assert.equal(open.status, 503);
      assert.deepEqual(closed, open);

      // Even where the operator allows private networks (and the open port is really reached).
      const permissive = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      try {
        assert.equal((await createProvider(permissive, "probe", `http://127.0.0.1:${listener.port}/internal/x`)).status, 200);
        const reached = await startBody(permissive, "probe");
        assert.deepEqual(listener.requests, ["GET /internal/x/.well-known/openid-configuration"]);
        assert.equal(
          (
            await permissive.call("PATCH", `${A}/identityProviders/probe`, {
              body: { oidcConfig: { issuerUrl: `http://127.0.0.1:${closedPort}/internal/x`, clientSecret: "s3cret-value" } },
            })
          ).status,
          200,
        );
        const refused = await startBody(permissive, "probe");
        assert.equal(reached.status, 503);
        assert.deepEqual(refused, reached);
        assert.equal(JSON.parse(reached.body).error.message, SENTENCE("probe"));
      } finally {
        await permissive.stop();
        listener.requests.length = 0;
      }
    });
  });

  describe(`discovered endpoints are held to the same rule; the address checked is the address connected to (${dialect})`, () => {
    let h: TestHearth;
    let lookups: string[];
    let rebindPrivate: Awaited<ReturnType<typeof connectionCounter>>;
    let keysPrivate: Awaited<ReturnType<typeof connectionCounter>>;
    let keysHttp: Awaited<ReturnType<typeof recordingListener>>;
    const issuers: { close(): Promise<void> }[] = [];

    before(async () => {
      keysPrivate = await connectionCounter("127.0.0.2");
      keysHttp = await recordingListener();
      lookups = [];
      const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
        lookups.push(hostname);
        if (hostname === "keys.test") return [{ address: "127.0.0.2", family: 4 }];
        // DNS rebinding: the first answer is public, every later one private.
        if (hostname === "rebind.test") return [{ address: lookups.filter((l) => l === hostname).length === 1 ? "127.0.0.1" : "127.0.0.2", family: 4 }];
        return [{ address: "127.0.0.1", family: 4 }];
      };
      h = await startHearth(dialect, {}, { network: network(resolve) });
      await human(h, "alice@corp.example", "user");
    });
    after(async () => {
      await h.stop();
      for (const i of issuers) await i.close();
      await keysPrivate.close();
      await keysHttp.close();
      await rebindPrivate?.close();
    });

    test("an https issuer on a public address with its own https key set: a bearer ID token is accepted (the control)", async () => {
      const idp = await craftedIssuer({});
      issuers.push(idp);
      assert.equal((await createProvider(h, "good", idp.issuer)).status, 200);
      const who = await h.call("GET", "/verifyApiKey", { key: await idp.mint("alice@corp.example") });
      assert.equal(who.status, 200, JSON.stringify(who.body));
      assert.equal(who.body.email, "alice@corp.example");
    });

    test("regression (SSRF via discovery): jwks_uri http://127.0.0.1:<port>/… is never fetched; the bearer token is refused with the sentence", async () => {
      const idp = await craftedIssuer({ endpoints: () => ({ jwks_uri: `http://127.0.0.1:${keysHttp.port}/internal/keys` }) });
      issuers.push(idp);
      assert.equal((await createProvider(h, "httpkeys", idp.issuer)).status, 200);
      const res = await h.call("GET", "/verifyApiKey", { key: await idp.mint("alice@corp.example") });
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.message, SENTENCE("httpkeys"));
      assert.deepEqual(keysHttp.requests, [], "the jwks listener received no request");
    });

    test("an https key set on a private address, literal or by name, is never connected to", async () => {
      for (const [id, host] of [
        ["literalkeys", "127.0.0.2"],
        ["namedkeys", "keys.test"],
      ] as const) {
        const idp = await craftedIssuer({ endpoints: () => ({ jwks_uri: `https://${host}:${keysPrivate.port}/keys` }) });
        issuers.push(idp);
        assert.equal((await createProvider(h, id, idp.issuer)).status, 200);
        const res = await h.call("GET", "/verifyApiKey", { key: await idp.mint("alice@corp.example") });
        assert.equal(res.status, 503, `${id}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.message, SENTENCE(id));
      }
      assert.equal(keysPrivate.connections(), 0, "no connection reached the private key server");
      assert.ok(lookups.includes("keys.test"), "the name was resolved, and its private answer refused");
    });

    test("regression (DNS rebinding): a name answering public, then private, is never connected to at its private address", async () => {
      const port = await freePort();
      rebindPrivate = await connectionCounter("127.0.0.2", port);
      const idp = await craftedIssuer({ host: "rebind.test", port });
      issuers.push(idp);
      assert.equal((await createProvider(h, "rebind", idp.issuer)).status, 200);
      // Discovery: the first lookup answers 127.0.0.1 (public), and that is where the connection goes.
      const start = await h.call("GET", "/auth/oidc/my-account/rebind/start", { key: null, headers: FROM_SIGN_IN_PAGE });
      assert.equal(start.status, 302, JSON.stringify(start.body));
      assert.equal(new URL(start.headers.location as string).origin, idp.issuer);
      assert.deepEqual(idp.requests, ["GET /.well-known/openid-configuration"]);
      // The key set: a new connection, a new lookup, now answering 127.0.0.2: refused, not connected.
      const res = await h.call("GET", "/verifyApiKey", { key: await idp.mint("alice@corp.example") });
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.message, SENTENCE("rebind"));
      assert.equal(lookups.filter((l) => l === "rebind.test").length, 2, "one lookup per connection, each checked");
      assert.equal(rebindPrivate.connections(), 0, "the private address was never connected to");
      assert.deepEqual(idp.requests, ["GET /.well-known/openid-configuration"]);
    });

    test("the real identity provider over https works end to end with private networks off", async () => {
      const issuer = await startIssuer({ redirectUris: [], clientId: "hearth-tls", tls: { key: tls.key, cert: tls.cert } });
      issuers.push(issuer);
      const created = await h.call("POST", `${A}/identityProviders?identityProviderId=tls`, {
        body: { oidcConfig: { issuerUrl: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret }, tenantDomains: ["corp.example"] },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const start = await h.call("GET", "/auth/oidc/my-account/tls/start", { key: null, headers: FROM_SIGN_IN_PAGE });
      assert.equal(start.status, 302, JSON.stringify(start.body));
      assert.ok((start.headers.location as string).startsWith(`${issuer.issuer}/`));
      const who = await h.call("GET", "/verifyApiKey", { key: await issuer.mint({ sub: "alice", email: "alice@corp.example", email_verified: true }) });
      assert.equal(who.status, 200, JSON.stringify(who.body));
    });
  });

  describe(`with HEARTH_ALLOW_PRIVATE_NETWORKS=true the loopback flows work (${dialect})`, () => {
    test("a plain-http loopback issuer is accepted, discovered and its tokens verified", async () => {
      const h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
      const issuer = await startIssuer({ redirectUris: [] });
      try {
        const created = await h.call("POST", `${A}/identityProviders?identityProviderId=dev`, {
          body: { oidcConfig: { issuerUrl: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret }, tenantDomains: ["corp.example"] },
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const start = await h.call("GET", "/auth/oidc/my-account/dev/start", { key: null, headers: FROM_SIGN_IN_PAGE });
        assert.equal(start.status, 302, JSON.stringify(start.body));
        await human(h, "bob@corp.example", "user");
        const who = await h.call("GET", "/verifyApiKey", { key: await issuer.mint({ sub: "bob", email: "bob@corp.example", email_verified: true }) });
        assert.equal(who.status, 200, JSON.stringify(who.body));
      } finally {
        await h.stop();
        await issuer.close();
      }
    });
  });
}
