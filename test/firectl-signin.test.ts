import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseAuthIni } from "../src/cli/firectl/config.ts";
import { SERVICE_ACCOUNT_SIGN_IN } from "../src/domain/sign-in.ts";
import { Browser, followSignIn } from "./support/browser.ts";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { sealedRefreshToken, startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";
import { field, FIRECTL_LAUNCHER, ok, runProcess, type Run } from "./support/run.ts";

const A = "/v1/accounts/my-account";
const SA_EMAIL = "cli-bot@my-account.sa.hearth.local";
const isLoopbackCallback = (u: URL): boolean => u.pathname === "/callback";

for (const dialect of DIALECTS) {
  describe(`firectl signin: a human signs in through the identity provider from the command line (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    let saKey: string;

    const env = (home: string, extra: Record<string, string | undefined> = {}) => ({
      PATH: process.env.PATH ?? "",
      HOME: home,
      FIREWORKS_API_BASE: h.baseUrl,
      ...extra,
    });
    const firectl = (home: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> =>
      runProcess(process.execPath, [FIRECTL_LAUNCHER, ...args], env(home, extra));
    const newHome = () => mkdtempSync(join(tmpdir(), "hearth-signin-"));
    const profile = (home: string) => parseAuthIni(readFileSync(join(home, ".fireworks", "auth.ini"), "utf8"));

    /**
     * Runs `firectl signin` as a person would: reads the URL it prints, signs in as `login` in a
     * browser that follows it to firectl's loopback listener, and waits for firectl to finish.
     */
    async function cliSignIn(home: string, login: string, args: string[] = ["my-account"], paste = false): Promise<Run & { page: string }> {
      const child = spawn(process.execPath, [FIRECTL_LAUNCHER, "signin", "--no-browser", ...args], { env: env(home), stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          const found = /^\s+(http\S+\/auth\/cli\/\S+)$/m.exec(stderr);
          if (found) resolve(found[1]!);
        });
        child.on("close", () => reject(new Error(`firectl exited before printing the URL: ${stderr}`)));
      });
      const closed = once(child, "close");
      const browser = new Browser();
      const back = await followSignIn(browser, url, login, isLoopbackCallback);
      let page = "";
      if (paste) {
        // A browser on another machine: the person copies the address it could not load.
        child.stdin.write("not an address\n");
        child.stdin.write(`${back}\n`);
      } else {
        page = await (await browser.request(back)).text();
      }
      const [code] = (await closed) as [number];
      return { code, stdout, stderr, page };
    }

    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, {
        displayName: "Corp SSO",
        tenantDomains: ["corp.example"],
        enableJitUserProvisioning: true,
      }));
      await human(h, "alice@corp.example", "user");
      saKey = (await serviceAccountWithKey(h, "cli-bot")).key;
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("signin stores the provider's ID token (0600, replacing a stored key); later commands act as the human", async () => {
      const home = newHome();
      ok(await firectl(home, ["set-api-key", h.adminKey]));
      const run = await cliSignIn(home, "alice@corp.example");
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.page, /Signed in/);
      assert.equal(field(run.stdout, "Signed In As"), "alice@corp.example");
      assert.equal(field(run.stdout, "User"), "accounts/my-account/users/alice-corp-example");
      assert.match(run.stderr, /replaced the API key/);
      assert.equal(statSync(join(home, ".fireworks", "auth.ini")).mode & 0o777, 0o600);
      const stored = profile(home);
      assert.equal(stored.api_key, undefined, "one credential per profile");
      assert.equal(stored.account_id, "my-account");
      assert.equal(stored.identity_provider, "corp");
      assert.match(stored.id_token!, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.ok(stored.refresh_token, "the provider offers offline_access, so the sign-in is renewable");
      assert.doesNotMatch(run.stdout + run.stderr, new RegExp(stored.id_token!.slice(-20)), "tokens are never printed");

      const who = ok(await firectl(home, ["whoami"]));
      assert.equal(field(who, "Email"), "alice@corp.example");
      assert.equal(field(who, "Role"), "user");
      assert.match(field(who, "Credential")!, /ID token from 'firectl signin'/);
      ok(await firectl(home, ["user", "get", "alice-corp-example"]));
      const signIns = await auditEntries(h, 'message="SignIn" AND email="alice@corp.example"');
      assert.ok(signIns.some((e) => e.payload.client === "firectl" && e.payload.via === "oidc" && e.status.code === "OK"));
      // An API key in the environment still wins over the stored sign-in.
      assert.equal(field(ok(await firectl(home, ["whoami"], { FIREWORKS_API_KEY: h.adminKey })), "Email"), "admin@example.com");

      ok(await firectl(home, ["signout"]));
      assert.equal(profile(home).id_token, undefined);
      const after = await firectl(home, ["whoami"]);
      assert.equal(after.code, 2);
      assert.match(after.stderr, /no sign-in is stored/);
    });

    test("signout ends the sign-in at Hearth and the provider: a copy of its refresh token is refused, and the sign-out is audited", async () => {
      // Regression: signout only deleted the profile file, so a copied refresh token kept renewing the sign-in.
      const home = newHome();
      assert.equal((await cliSignIn(home, "alice@corp.example")).code, 0);
      const copy = profile(home).refresh_token!;
      const revocations = issuer.revocations();
      const out = ok(await firectl(home, ["signout"]));
      assert.match(out, /Signed out: removed the sign-in from .*auth\.ini\. Hearth ended it, and the identity provider revoked its refresh token\./);
      assert.equal(profile(home).refresh_token, undefined);
      assert.equal(issuer.revocations(), revocations + 1, "RFC 7009 revocation at the provider");

      const reused = await h.call("POST", "/auth/cli/refresh", {
        key: null,
        body: { accountId: "my-account", identityProviderId: "corp", refreshToken: copy },
      });
      assert.equal(reused.status, 401, JSON.stringify(reused.body));
      assert.match(reused.body.error.message, /this firectl sign-in was ended with 'firectl signout'; run 'firectl signin' again/);
      const signOuts = await auditEntries(h, 'message="SignOut" AND email="alice@corp.example"');
      assert.ok(signOuts.some((e) => e.payload.client === "firectl" && e.payload.identityProvider === "corp" && e.status.code === "OK"));
      // Ending it again is not an error; a junk token is refused as a bad credential.
      const again = await h.call("POST", "/auth/cli/signout", { key: null, body: { accountId: "my-account", identityProviderId: "corp", refreshToken: copy } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      const junk = await h.call("POST", "/auth/cli/signout", {
        key: null,
        body: { accountId: "my-account", identityProviderId: "corp", refreshToken: "junk" },
      });
      assert.equal(junk.status, 401);

      // A new sign-in is another sign-in: it renews.
      assert.equal((await cliSignIn(home, "alice@corp.example")).code, 0);
      const fresh = await h.call("POST", "/auth/cli/refresh", {
        key: null,
        body: { accountId: "my-account", identityProviderId: "corp", refreshToken: profile(home).refresh_token },
      });
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body));

      // Hearth out of reach: the file is cleared all the same, and the exit code says the sign-in was not ended there.
      const unreachable = await firectl(home, ["signout"], { FIREWORKS_API_BASE: "http://127.0.0.1:9" });
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /removed the sign-in from .*, but Hearth did not end it/);
      assert.equal(profile(home).id_token, undefined);
      assert.match(ok(await firectl(home, ["signout"])), /No sign-in is stored/);
    });

    test("with the browser on another machine, pasting the address it could not load completes the sign-in", async () => {
      const home = newHome();
      const run = await cliSignIn(home, "alice@corp.example", ["my-account"], true);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /paste its address here/);
      assert.match(run.stderr, /that is not the address of this sign-in's return/);
      assert.equal(field(run.stdout, "Signed In As"), "alice@corp.example");
      assert.equal(field(ok(await firectl(home, ["whoami"])), "Email"), "alice@corp.example");
    });

    test("an expired ID token is renewed through Hearth with the refresh token before the command runs", async () => {
      const home = newHome();
      assert.equal((await cliSignIn(home, "alice@corp.example")).code, 0);
      const before = profile(home);
      const expired = await issuer.mint({ sub: "alice@corp.example", email: "alice@corp.example", exp: Math.floor(Date.now() / 1000) - 60 });
      const path = join(home, ".fireworks", "auth.ini");
      writeFileSync(path, readFileSync(path, "utf8").replace(before.id_token!, expired));
      assert.equal((await h.call("GET", `${A}/users`, { key: expired })).status, 401, "the server refuses the expired token itself");

      const who = ok(await firectl(home, ["whoami"]));
      assert.equal(field(who, "Email"), "alice@corp.example");
      const renewed = profile(home);
      assert.notEqual(renewed.id_token, expired);
      assert.ok(renewed.refresh_token);
      assert.equal((await h.call("GET", `${A}/users`, { key: renewed.id_token! })).status, 200);
      const refreshes = await auditEntries(h, 'message="SignIn" AND email="alice@corp.example"');
      assert.ok(refreshes.some((e) => e.payload.via === "oidc-refresh" && e.status.code === "OK"));

      // firectl holds the provider's refresh token only sealed by Hearth, for this provider.
      assert.doesNotMatch(renewed.refresh_token!, /^[\w-]+\.[\w-]+\.[\w-]+$/, "not the provider's token");
      writeFileSync(path, readFileSync(path, "utf8").replace(renewed.id_token!, expired).replace(renewed.refresh_token!, "not-a-refresh-token"));
      const forged = await firectl(home, ["whoami"]);
      assert.equal(forged.code, 1);
      assert.match(forged.stderr, /the refresh token is not valid for this identity provider; run 'firectl signin' again/);
      // A refresh token the provider does not know (sealed as Hearth would) is refused with the provider's sentence, exit 1.
      const unknown = sealedRefreshToken(h, "alice-corp-example", "not-a-refresh-token");
      writeFileSync(path, readFileSync(path, "utf8").replace("not-a-refresh-token", unknown));
      const refused2 = await firectl(home, ["whoami"]);
      assert.equal(refused2.code, 1);
      assert.match(refused2.stderr, /refused the refresh token/);
    });

    test("an admin's :revokeSessions ends firectl sign-ins: the stored ID token and its refresh are refused, a new sign-in works", async () => {
      const home = newHome();
      await human(h, "rita@corp.example", "admin");
      assert.equal((await cliSignIn(home, "rita@corp.example")).code, 0);
      const signedIn = profile(home);
      assert.equal((await h.call("GET", `${A}/users`, { key: signedIn.id_token! })).status, 200);
      const revoked = await h.call("POST", `${A}/users/rita-corp-example:revokeSessions`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));

      const withToken = await h.call("POST", `${A}/users`, { key: signedIn.id_token!, body: { email: "backdoor@corp.example", role: "admin" } });
      assert.equal(withToken.status, 401, JSON.stringify(withToken.body));
      assert.match(withToken.body.error.message, /an admin revoked the sign-ins of "rita@corp.example" after this ID token was issued/);
      const refresh = await fetch(`${h.baseUrl}/auth/cli/refresh`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ accountId: "my-account", identityProviderId: "corp", refreshToken: signedIn.refresh_token }),
      });
      assert.equal(refresh.status, 401);
      assert.match(((await refresh.json()) as any).error.message, /an admin revoked the sign-ins of "rita@corp.example" after this firectl sign-in/);
      // firectl: the stored ID token is refused by the server; it says to sign in again.
      const after = await firectl(home, ["user", "list"]);
      assert.notEqual(after.code, 0);
      assert.match(after.stderr, /revoked the sign-ins/);
      assert.equal((await h.call("GET", `${A}/users/backdoor-corp-example`)).status, 404);
      const refusals = await auditEntries(h, 'message="SignIn" AND email="rita@corp.example"');
      assert.ok(refusals.some((e) => e.status.code === "UNAUTHENTICATED" && /revoked the sign-ins/.test(e.status.message)));

      // Signing in again (a later second than the revocation) works.
      await new Promise((r) => setTimeout(r, 1_100));
      assert.equal((await cliSignIn(home, "rita@corp.example")).code, 0);
      assert.equal(field(ok(await firectl(home, ["whoami"])), "Email"), "rita@corp.example");
    });

    test("a service account cannot sign in from the command line; the refusal is audited and its API key keeps working", async () => {
      const home = newHome();
      const run = await cliSignIn(home, SA_EMAIL);
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(SERVICE_ACCOUNT_SIGN_IN));
      assert.match(run.page, /Sign-in refused/);
      assert.throws(() => profile(home), "nothing is stored");
      const refusals = await auditEntries(h, `message="SignIn" AND email="${SA_EMAIL}"`);
      assert.ok(refusals.some((e) => e.status.code === "PERMISSION_DENIED" && e.payload.via === "oidc"));
      assert.equal((await h.call("GET", `${A}/users/cli-bot`, { key: saKey })).status, 200);
    });

    test("the one-time code works once, only with its PKCE verifier, and only for a loopback redirect", async () => {
      const verifier = randomBytes(32).toString("base64url");
      const start = (params: Record<string, string>) =>
        `${h.baseUrl}/auth/cli/my-account/corp/start?${new URLSearchParams({
          redirect_uri: "http://127.0.0.1:9/callback",
          state: "s".repeat(24),
          code_challenge: createHash("sha256").update(verifier).digest("base64url"),
          code_challenge_method: "S256",
          ...params,
        })}`;
      const codeOf = async (): Promise<string> => {
        const back = new URL(await followSignIn(new Browser(), start({}), "alice@corp.example", isLoopbackCallback));
        assert.equal(back.searchParams.get("state"), "s".repeat(24));
        return back.searchParams.get("code")!;
      };
      const redeem = (code: string, codeVerifier: string) => h.call("POST", "/auth/cli/token", { key: null, body: { code, codeVerifier } });

      const first = await codeOf();
      const wrong = await redeem(first, randomBytes(32).toString("base64url"));
      assert.equal(wrong.status, 400);
      assert.match(wrong.body.error.message, /PKCE/);
      assert.equal((await redeem(first, verifier)).status, 400, "a code is used up by any attempt");

      const second = await codeOf();
      const stored = await h.deps.store.db.selectFrom("cli_grants").selectAll().execute();
      const good = await redeem(second, verifier);
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.equal(good.body.email, "alice@corp.example");
      // At rest the code is a digest and the tokens are sealed; no log line carries any of them.
      const secrets = [second, good.body.idToken, good.body.refreshToken].filter(Boolean) as string[];
      const everywhere = JSON.stringify(stored) + h.logs.join("");
      for (const secret of secrets) assert.equal(everywhere.includes(secret.slice(-24)), false);
      assert.equal(stored.length, 1);
      assert.equal((await h.deps.store.db.selectFrom("cli_grants").selectAll().execute()).length, 0, "redeemed codes are gone");
      assert.equal((await h.call("GET", `${A}/users`, { key: good.body.idToken })).status, 200);
      const replay = await redeem(second, verifier);
      assert.equal(replay.status, 400);
      assert.match(replay.body.error.message, /already used/);

      const offMachine = await fetch(start({ redirect_uri: "https://evil.example/callback" }), { redirect: "manual" });
      assert.equal(offMachine.status, 400);
      assert.match(((await offMachine.json()) as any).error.message, /redirect_uri/);
      const plain = await fetch(start({ code_challenge_method: "plain" }), { redirect: "manual" });
      assert.equal(plain.status, 400);
      assert.match(((await plain.json()) as any).error.message, /S256/);
    });

    test("an account without an identity provider, or an unknown one, is a usage error naming what to do", async () => {
      const home = newHome();
      const none = await firectl(home, ["signin", "other-account", "--no-browser"]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /has no identity provider.*set-api-key/);
      const unknown = await firectl(home, ["signin", "my-account", "--identity-provider", "nope", "--no-browser"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no identity provider "nope"; it has: corp/);
      const noAccount = await firectl(home, ["signin", "--no-browser"]);
      assert.equal(noAccount.code, 2);
      assert.match(noAccount.stderr, /name the account/);
    });
  });
}
