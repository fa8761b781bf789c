import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../src/config.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human, otherAccount } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { Browser, FROM_HEARTH_PAGE, followSignIn } from "./support/browser.ts";
import { createIdentityProvider, startIssuer } from "./support/oidc-issuer.ts";

const A = "/v1/accounts/my-account";

/** Signs `email` in through a one-time link; returns the Cookie header value, the CSRF token and the raw Set-Cookie. */
async function signIn(h: TestHearth, email: string, accountId = "my-account") {
  const link = await createSigninLink(h.deps, accountId, email);
  const res = await h.call("GET", new URL(link.url).pathname, { key: null });
  assert.equal(res.status, 302, JSON.stringify(res.body));
  const setCookie = ([] as unknown[])
    .concat(res.headers["set-cookie"])
    .map(String)
    .find((c) => c.startsWith("hearth_session="))!;
  const cookie = setCookie.split(";")[0]!;
  const who = await h.call("GET", "/auth/session", { key: null, headers: { cookie } });
  return { cookie, csrf: who.body.csrfToken as string, setCookie };
}

const withSession = (s: { cookie: string; csrf?: string }, csrf = false) => ({
  key: null,
  headers: { cookie: s.cookie, ...(csrf && s.csrf ? { "x-csrf-token": s.csrf } : {}) },
});

for (const dialect of DIALECTS) {
  describe(`browser sessions (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_SESSION_IDLE_MINUTES: "30", HEARTH_SESSION_MAX_HOURS: "8" });
      await human(h, "bob@example.com", "user");
      await human(h, "carol@example.com", "contributor");
    });
    after(() => h.stop());

    test("the cookie lasts as long as the absolute timeout and is HttpOnly, SameSite=Lax, Path=/", async () => {
      const s = await signIn(h, "bob@example.com");
      assert.match(s.setCookie, /^hearth_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/);
      const who = await h.call("GET", "/auth/session", withSession(s));
      assert.equal(who.body.via, "session");
      const expires = Date.parse(who.body.expireTime) - Date.now();
      assert.ok(expires > 7.9 * 3600_000 && expires <= 8 * 3600_000);
    });

    test("a session ends after the idle timeout without requests", async () => {
      const s = await signIn(h, "bob@example.com");
      const digestRows = await h.deps.store.db.selectFrom("sessions").select("digest").orderBy("create_time", "desc").execute();
      await h.deps.store.db
        .updateTable("sessions")
        .set({ last_seen: Date.now() - 31 * 60_000 })
        .where("digest", "=", digestRows[0]!.digest)
        .execute();
      const res = await h.call("GET", `${A}/users`, withSession(s));
      assert.equal(res.status, 401);
      assert.match(res.body.error.message, /session has ended/);
      assert.equal(
        (await h.deps.store.db.selectFrom("sessions").select("digest").where("digest", "=", digestRows[0]!.digest).execute()).length,
        0,
        "and is removed",
      );
    });

    test("activity keeps a session alive; it still ends at the absolute timeout", async () => {
      const s = await signIn(h, "bob@example.com");
      const { digest } = await h.deps.store.db.selectFrom("sessions").select("digest").orderBy("create_time", "desc").executeTakeFirstOrThrow();
      await h.deps.store.db
        .updateTable("sessions")
        .set({ last_seen: Date.now() - 20 * 60_000 })
        .where("digest", "=", digest)
        .execute();
      assert.equal((await h.call("GET", `${A}/users`, withSession(s))).status, 200);
      const row = await h.deps.store.db.selectFrom("sessions").selectAll().where("digest", "=", digest).executeTakeFirstOrThrow();
      assert.ok(row.last_seen > Date.now() - 5000, "the request counted as activity");
      await h.deps.store.db
        .updateTable("sessions")
        .set({ expire_time: Date.now() - 1 })
        .where("digest", "=", digest)
        .execute();
      assert.equal((await h.call("GET", `${A}/users`, withSession(s))).status, 401);
    });

    test("an admin revokes a user's sessions; the user's API keys keep working", async () => {
      const one = await signIn(h, "carol@example.com");
      const two = await signIn(h, "carol@example.com");
      const key = await h.call("POST", `${A}/users/carol-example-com/apiKeys`, { ...withSession(one, true), body: { apiKey: {} } });
      assert.equal(key.status, 200, JSON.stringify(key.body));

      const denied = await h.call("POST", `${A}/users/bob-example-com:revokeSessions`, withSession(one, true));
      assert.equal(denied.status, 403, "only admins revoke sessions");

      const revoked = await h.call("POST", `${A}/users/carol-example-com:revokeSessions`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(revoked.body.revokedSessions, 2);
      for (const s of [one, two]) assert.equal((await h.call("GET", `${A}/users`, withSession(s))).status, 401);
      assert.equal((await h.call("GET", `${A}/users`, { key: key.body.key })).status, 200);
      const [entry] = await auditEntries(h, 'message="RevokeSessions" AND resource:"carol-example-com" AND status=""');
      assert.equal(entry.isAdminAction, true);
      assert.equal((await h.call("POST", `${A}/users/nobody:revokeSessions`)).status, 404);
    });

    test("deleting a user ends their sessions", async () => {
      await human(h, "dave@example.com", "user");
      const s = await signIn(h, "dave@example.com");
      assert.equal((await h.call("DELETE", `${A}/users/dave-example-com`)).status, 200);
      assert.equal((await h.call("GET", `${A}/users`, withSession(s))).status, 401);
    });

    test("a session of another account's user sees this account as not found", async () => {
      await otherAccount(h, "elsewhere");
      const s = await signIn(h, "admin@elsewhere.example", "elsewhere");
      const res = await h.call("GET", `${A}/users`, withSession(s));
      assert.equal(res.status, 404);
      assert.equal(res.body.error.message, 'account "my-account" not found');
    });

    test("a Bearer credential takes precedence over a cookie, and needs no CSRF proof", async () => {
      const res = await h.call("POST", `${A}/users?userId=made-with-key`, { headers: { cookie: "hearth_session=garbage" }, body: { serviceAccount: true } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });

    test("a session cookie that is not ours is refused as unauthenticated", async () => {
      for (const value of ["garbage", "x".repeat(43)]) {
        const res = await h.call("GET", `${A}/users`, { key: null, headers: { cookie: `hearth_session=${value}` } });
        assert.equal(res.status, 401);
        assert.match(res.body.error.message, /session is not valid/);
      }
    });
  });
}

describe("session configuration", () => {
  test("the cookie is Secure when Hearth is reached over https (HEARTH_PUBLIC_URL)", async () => {
    const h = await startHearth("sqlite", { HEARTH_PUBLIC_URL: "https://hearth.example.com" });
    try {
      const link = await createSigninLink(h.deps, "my-account", "admin@example.com");
      assert.ok(link.url.startsWith("https://hearth.example.com/auth/link/"));
      const res = await h.call("GET", new URL(link.url).pathname, { key: null });
      assert.match(String(res.headers["set-cookie"]), /; Secure/);
      // The browser's Origin is the public one.
      const cookie = String(res.headers["set-cookie"]).split(";")[0]!;
      const csrf = (await h.call("GET", "/auth/session", { key: null, headers: { cookie } })).body.csrfToken;
      const change = await h.call("POST", "/v1/accounts/my-account/users?userId=sa-from-console", {
        key: null,
        headers: { cookie, "x-csrf-token": csrf, origin: "https://hearth.example.com" },
        body: { serviceAccount: true },
      });
      assert.equal(change.status, 200, JSON.stringify(change.body));
    } finally {
      await h.stop();
    }
  });

  test("over https the session cookie is __Host-hearth_session, and a plain hearth_session (as a sibling subdomain could plant) is no session", async () => {
    // Regression: the cookie had no __Host- prefix, so a sibling subdomain could set a session of its
    // choosing (its attacker's) in a browser that was not signed in (login CSRF).
    const h = await startHearth("sqlite", { HEARTH_PUBLIC_URL: "https://hearth.example.com" });
    try {
      const link = await createSigninLink(h.deps, "my-account", "admin@example.com");
      const res = await h.call("GET", new URL(link.url).pathname, { key: null });
      const set = String(res.headers["set-cookie"]);
      assert.match(set, /^__Host-hearth_session=[\w-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      const token = set.split(";")[0]!.split("=")[1]!;
      assert.equal((await h.call("GET", "/auth/session", { key: null, headers: { cookie: `__Host-hearth_session=${token}` } })).status, 200);
      const planted = await h.call("GET", "/auth/session", { key: null, headers: { cookie: `hearth_session=${token}` } });
      assert.equal(planted.status, 401, JSON.stringify(planted.body));
      // Signing out clears the prefixed cookie.
      const csrf = (await h.call("GET", "/auth/session", { key: null, headers: { cookie: `__Host-hearth_session=${token}` } })).body.csrfToken;
      const out = await h.call("POST", "/auth/signout", {
        key: null,
        headers: { cookie: `__Host-hearth_session=${token}`, "x-csrf-token": csrf, origin: "https://hearth.example.com" },
      });
      assert.match(
        String(out.headers["set-cookie"]),
        /^__Host-hearth_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/,
      );
    } finally {
      await h.stop();
    }
  });

  test("over https the login cookie is __Host-hearth_oidc too, and a plain hearth_oidc (as a sibling subdomain could plant) starts no session", async () => {
    // Regression: the sign-in's state cookie was hearth_oidc with Path=/auth/oidc, so a sibling subdomain
    // could plant its attacker's started sign-in and send the browser to the callback with the attacker's
    // code: the browser was signed in as the attacker (login CSRF), the session cookie's prefix notwithstanding.
    const publicUrl = "https://hearth.example.com";
    const h = await startHearth("sqlite", { HEARTH_PUBLIC_URL: publicUrl, HEARTH_ALLOW_PRIVATE_NETWORKS: "true" });
    const issuer = await startIssuer({ redirectUris: [`${publicUrl}/auth/oidc/callback/my-account/corp`] });
    try {
      await createIdentityProvider(h, issuer, { tenantDomains: ["corp.example"] });
      await human(h, "mallory@corp.example", "user");
      /** A sign-in started at Hearth and answered by the provider: its login cookie and Hearth's callback path. */
      const started = async (): Promise<{ cookie: string; callback: string }> => {
        const start = await h.call("GET", "/auth/oidc/my-account/corp/start", { key: null, headers: FROM_HEARTH_PAGE });
        assert.equal(start.status, 302, JSON.stringify(start.body));
        const set = String(start.headers["set-cookie"]);
        assert.match(set, /^__Host-hearth_oidc=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
        const atHearth = (next: URL) => next.origin === publicUrl;
        const back = new URL(await followSignIn(new Browser(), String(start.headers.location), "mallory@corp.example", atHearth));
        return { cookie: set.split(";")[0]!.slice("__Host-".length), callback: `${back.pathname}${back.search}` };
      };
      const planted = await started();
      const refused = await h.call("GET", planted.callback, { key: null, headers: { cookie: planted.cookie } });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /no sign-in is in progress in this browser/);
      assert.doesNotMatch(String(refused.headers["set-cookie"]), /hearth_session=[^;]/);
      const own = await started();
      const done = await h.call("GET", own.callback, { key: null, headers: { cookie: `__Host-${own.cookie}` } });
      assert.equal(done.status, 302, JSON.stringify(done.body));
      assert.match(String(done.headers["set-cookie"]), /__Host-hearth_session=[\w-]+;/);
    } finally {
      await issuer.close();
      await h.stop();
    }
  });

  test("over https a pending account switch is __Host-hearth_switch too, and a plain hearth_switch (as a sibling subdomain could plant) is none", async () => {
    const h = await startHearth("sqlite", { HEARTH_PUBLIC_URL: "https://hearth.example.com" });
    try {
      await otherAccount(h, "acct-b");
      const inA = await h.call("GET", new URL((await createSigninLink(h.deps, "my-account", "admin@example.com")).url).pathname, { key: null });
      const session = String(inA.headers["set-cookie"]).split(";")[0]!;
      const toB = await createSigninLink(h.deps, "acct-b", "admin@acct-b.example");
      const page = await h.call("GET", new URL(toB.url).pathname, { key: null, headers: { cookie: session, accept: "text/html" } });
      assert.equal(page.status, 200, "the switch page");
      const set = String(page.headers["set-cookie"]);
      assert.match(set, /^__Host-hearth_switch=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      const token = /name="token" value="([^"]+)"/.exec(String(page.body))![1]!;
      const form = new URLSearchParams({ token, choice: "switch" }).toString();
      const headers = { "content-type": "application/x-www-form-urlencoded", origin: "https://hearth.example.com" };
      const plain = set.split(";")[0]!.slice("__Host-".length);
      const planted = await h.call("POST", "/auth/switch", { key: null, body: form, headers: { ...headers, cookie: `${session}; ${plain}` } });
      assert.equal(planted.status, 400, JSON.stringify(planted.body));
      const chosen = await h.call("POST", "/auth/switch", { key: null, body: form, headers: { ...headers, cookie: `${session}; __Host-${plain}` } });
      assert.equal(chosen.status, 303, JSON.stringify(chosen.body));
    } finally {
      await h.stop();
    }
  });

  test("unsafe sign-in settings stop start-up with a sentence naming them", () => {
    assert.throws(() => loadConfig({ HEARTH_SECRET_KEY: "too-short" }), /HEARTH_SECRET_KEY/);
    assert.throws(() => loadConfig({ HEARTH_PUBLIC_URL: "https://hearth.example.com/console" }), /HEARTH_PUBLIC_URL/);
    assert.throws(() => loadConfig({ HEARTH_PUBLIC_URL: "ftp://hearth.example.com" }), /HEARTH_PUBLIC_URL/);
    assert.throws(() => loadConfig({ HEARTH_SESSION_IDLE_MINUTES: "0" }), /HEARTH_SESSION_IDLE_MINUTES/);
    const config = loadConfig({});
    assert.deepEqual(config.session, { idleMs: 60 * 60_000, maxMs: 12 * 3600_000 });
  });
});
