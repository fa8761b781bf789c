import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { otherAccount } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { discoveryDocument } from "./support/oidc-issuer.ts";

/**
 * Strangers could make Hearth send an unbounded number of requests to a host a tenant chose: a
 * failed OIDC discovery was fetched again on every anonymous sign-in start, a kept login cookie
 * could be replayed at the callback (one token-endpoint call each), and nothing counted either as a
 * failure of the address. Now a failed discovery (and key-set fetch) is remembered for 30 s per
 * process, a sign-in's state is claimed once in the store, and refused starts and callbacks count
 * against the address like any failed authentication.
 */
const E = "/v1/accounts/evil";
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CLI_START = `/auth/cli/evil/reflect/start?redirect_uri=${encodeURIComponent("http://127.0.0.1:5555/cb")}&state=abcdefghijklmnop&code_challenge=${CHALLENGE}&code_challenge_method=S256`;
const UNAVAILABLE = 'identity provider "reflect" did not answer OIDC discovery; try again later';

/**
 * A loopback issuer that records every request. `failing`: 500 to everything (the reviewer's
 * counter). Otherwise it serves discovery and a key set, and refuses every code at its token endpoint.
 */
async function recordingIssuer(mode: { failing: boolean; port?: number }) {
  const { publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  const requests: string[] = [];
  let issuer = "";
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (mode.failing) return void res.writeHead(500).end("no");
    if (req.url === "/.well-known/openid-configuration") {
      const doc = discoveryDocument(issuer);
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
    }
    if (req.url === "/keys") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    if (req.url === "/token") return void res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant" }));
    res.writeHead(404).end();
  });
  server.listen(mode.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    issuer,
    requests,
    count: (path: string) => requests.filter((r) => r.endsWith(` ${path}`)).length,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function registerReflect(h: TestHearth, evilKey: string, issuerUrl: string): Promise<void> {
  const created = await h.call("POST", `${E}/identityProviders?identityProviderId=reflect`, {
    key: evilKey,
    body: { oidcConfig: { issuerUrl, clientId: "hearth", clientSecret: "s3cret-value" }, tenantDomains: ["evil.example"] },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
}

for (const dialect of DIALECTS) {
  describe(`anonymous requests cannot make Hearth call a tenant-chosen issuer without bound (${dialect})`, () => {
    test("regression: 120 firectl starts and 60 web starts at an issuer answering 500 reach it at most twice, and the address is then refused", async () => {
      const issuer = await recordingIssuer({ failing: true, port: 19002 });
      // Starts refused for an unavailable issuer count as failures: past 100 the address gets 429.
      const h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true", HEARTH_AUTH_FAILURES_BLOCK: "100" });
      try {
        await registerReflect(h, await otherAccount(h, "evil"), "http://127.0.0.1:19002");
        const statuses: number[] = [];
        for (let i = 0; i < 120; i++) {
          const res = await h.call("GET", CLI_START, { key: null });
          if (i === 0) assert.deepEqual(res.body.error?.message, UNAVAILABLE);
          statuses.push(res.status);
        }
        for (let i = 0; i < 60; i++) {
          statuses.push((await h.call("GET", "/auth/oidc/evil/reflect/start", { key: null, headers: { "sec-fetch-site": "same-origin" } })).status);
        }
        assert.ok(issuer.requests.length <= 2, `the issuer received ${issuer.requests.length} requests: ${issuer.requests.join(", ")}`);
        assert.deepEqual(statuses.slice(0, 100), Array(100).fill(503));
        assert.deepEqual(statuses.slice(100), Array(80).fill(429));
      } finally {
        await h.stop();
        await issuer.close();
      }
    });

    describe("with an issuer that answers discovery", () => {
      let h: TestHearth;
      let issuer: Awaited<ReturnType<typeof recordingIssuer>>;
      let evilKey: string;
      before(async () => {
        issuer = await recordingIssuer({ failing: false });
        h = await startHearth(dialect, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
        evilKey = await otherAccount(h, "evil");
        await registerReflect(h, evilKey, issuer.issuer);
      });
      after(async () => {
        await h.stop();
        await issuer.close();
      });

      test("regression: a kept login cookie replayed at the callback costs one token-endpoint call, not one per replay", async () => {
        const start = await h.call("GET", "/auth/oidc/evil/reflect/start", { key: null, headers: { "sec-fetch-site": "same-origin" } });
        assert.equal(start.status, 302, JSON.stringify(start.body));
        const state = new URL(String(start.headers.location)).searchParams.get("state")!;
        const cookie = String(start.headers["set-cookie"]).split(";")[0]!;
        const replies: Array<{ status: number; message: string }> = [];
        for (let i = 0; i < 10; i++) {
          const res = await h.call("GET", `/auth/oidc/callback/evil/reflect?code=guess-${i}&state=${state}`, { key: null, headers: { cookie } });
          replies.push({ status: res.status, message: res.body.error?.message });
        }
        assert.equal(issuer.count("/token"), 1, issuer.requests.join(", "));
        assert.equal(replies[0]!.status, 401, JSON.stringify(replies[0]));
        for (const reply of replies.slice(1)) {
          assert.deepEqual(reply, { status: 400, message: "this sign-in was already finished or abandoned (its state was used); start again" });
        }
      });

      test("regression: a flood of bearer ID tokens with random kids fetches the issuer's key set at most twice", async () => {
        const { privateKey } = await generateKeyPair("RS256");
        const before = issuer.count("/keys");
        for (let i = 0; i < 60; i++) {
          const token = await new SignJWT({ email: "x@evil.example", email_verified: true })
            .setProtectedHeader({ alg: "RS256", kid: randomBytes(8).toString("hex") })
            .setIssuer(issuer.issuer)
            .setAudience("hearth")
            .setSubject("x")
            .setIssuedAt()
            .setExpirationTime("5m")
            .sign(privateKey);
          const res = await h.call("GET", `${E}/users`, { key: token });
          assert.equal(res.status, 401, JSON.stringify(res.body));
        }
        assert.ok(issuer.count("/keys") - before <= 2, `the key set was fetched ${issuer.count("/keys") - before} times`);
      });
    });
  });
}
