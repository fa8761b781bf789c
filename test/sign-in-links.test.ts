import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SERVICE_ACCOUNT_SIGN_IN } from "../src/domain/sign-in.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";
const SA_EMAIL = "links-bot@my-account.sa.hearth.local";

const pathOf = (url: string): string => new URL(url).pathname;
const sessionCookie = (res: { headers: Record<string, unknown> }): string | undefined => {
  const raw = res.headers["set-cookie"];
  const lines = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  return lines
    .map(String)
    .find((l) => l.startsWith("hearth_session=") && !l.startsWith("hearth_session=;"))
    ?.split(";")[0];
};

for (const dialect of DIALECTS) {
  describe(`one-time sign-in links (${dialect})`, () => {
    let h: TestHearth;
    let saKey: string;
    before(async () => {
      h = await startHearth(dialect);
      await human(h, "bob@example.com", "contributor");
      saKey = (await serviceAccountWithKey(h, "links-bot")).key;
    });
    after(() => h.stop());

    test("a link signs its human in once, then never again", async () => {
      const link = await createSigninLink(h.deps, "my-account", "bob@example.com", "http://hearth.test:8080");
      assert.match(link.url, /^http:\/\/hearth\.test:8080\/auth\/link\/[A-Za-z0-9_-]{43}$/);
      const first = await h.call("GET", pathOf(link.url), { key: null });
      assert.equal(first.status, 302, JSON.stringify(first.body));
      assert.equal(first.headers.location, "/");
      assert.equal(first.headers["referrer-policy"], "no-referrer");
      const cookie = sessionCookie(first);
      assert.ok(cookie);
      const who = await h.call("GET", "/auth/session", { key: null, headers: { cookie: cookie! } });
      assert.equal(who.status, 200);
      assert.equal(who.body.email, "bob@example.com");
      assert.equal(who.body.role, "contributor");

      const again = await h.call("GET", pathOf(link.url), { key: null });
      assert.equal(again.status, 401);
      assert.match(again.body.error.message, /already used/);
      assert.equal(sessionCookie(again), undefined);
    });

    test("reproduction: a link made before an admin's :revokeSessions no longer signs in (it did, with a fresh session); a link made after does", async () => {
      await human(h, "carol@example.com", "user");
      const before = await createSigninLink(h.deps, "my-account", "carol@example.com");
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await h.call("POST", `${A}/users/carol-example-com:revokeSessions`, { body: {} })).status, 200);
      const refused = await h.call("GET", pathOf(before.url), { key: null });
      assert.equal(refused.status, 401, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /made before the user's sessions were revoked/);
      assert.equal(sessionCookie(refused), undefined);
      const entries = (await h.call("GET", `${A}/auditLogs?filter=${encodeURIComponent('method="SignIn" AND status:"UNAUTHENTICATED"')}`)).body.auditLogs;
      assert.ok(
        entries.some((e: any) => e.principal === "carol@example.com"),
        "the refused sign-in is audited",
      );
      await new Promise((r) => setTimeout(r, 5));
      const after = await createSigninLink(h.deps, "my-account", "carol@example.com");
      assert.equal((await h.call("GET", pathOf(after.url), { key: null })).status, 302);
    });

    test("two visits racing for one link: exactly one signs in", async () => {
      const link = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const results = await Promise.all([1, 2, 3].map(() => h.call("GET", pathOf(link.url), { key: null })));
      assert.deepEqual(results.map((r) => r.status).sort(), [302, 401, 401]);
    });

    test("a link expires after 15 minutes", async () => {
      const before = Date.now();
      const link = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const expires = Date.parse(link.expireTime) - before;
      assert.ok(expires > 14 * 60_000 && expires <= 15 * 60_000 + 1000, `expires in ${expires} ms`);
      // Age the link past its end, as 15 minutes would.
      await h.deps.store.db
        .updateTable("signin_links")
        .set({ expire_time: Date.now() - 1 })
        .where("used_time", "is", null)
        .execute();
      const res = await h.call("GET", pathOf(link.url), { key: null });
      assert.equal(res.status, 401);
      assert.match(res.body.error.message, /expired/);
    });

    test("an unknown or malformed link is refused without a session", async () => {
      for (const [token, status] of [
        ["x".repeat(43), 401],
        ["not-a-token", 401],
        ["a".repeat(300), 400],
      ] as const) {
        const res = await h.call("GET", `/auth/link/${token}`, { key: null });
        assert.equal(res.status, status, token);
        assert.equal(sessionCookie(res), undefined);
      }
      // Opened in a browser, the refusal is a page that says why and leads back to sign-in.
      const page = await h.call("GET", `/auth/link/${"x".repeat(43)}`, { key: null, headers: { accept: "text/html" } });
      assert.equal(page.status, 401);
      assert.match(String(page.headers["content-type"]), /^text\/html/);
      assert.match(String(page.body), /this sign-in link is not valid; ask for a new one.*href="\/signin"/);
      // The JSON endpoints under /auth stay JSON whatever the browser accepts.
      const session = await h.call("GET", "/auth/session", { key: null, headers: { accept: "text/html" } });
      assert.equal(session.status, 401);
      assert.equal(session.body.error.status, "UNAUTHENTICATED");
    });

    test("next is followed only to a same-origin path", async () => {
      const inside = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const ok = await h.call("GET", `${pathOf(inside.url)}?next=${encodeURIComponent("/account/users?filter=x")}`, { key: null });
      assert.equal(ok.headers.location, "/account/users?filter=x");
      for (const next of ["https://evil.example/", "//evil.example", "/\\evil.example"]) {
        const link = await createSigninLink(h.deps, "my-account", "bob@example.com");
        const res = await h.call("GET", `${pathOf(link.url)}?next=${encodeURIComponent(next)}`, { key: null });
        assert.equal(res.status, 302);
        assert.equal(res.headers.location, "/", next);
      }
    });

    test("the store keeps only digests of links and sessions, and no log line carries a link token", async () => {
      const link = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const token = link.url.split("/").pop()!;
      const res = await h.call("GET", pathOf(link.url), { key: null });
      const session = sessionCookie(res)!.split("=")[1]!;
      const links = JSON.stringify(await h.deps.store.db.selectFrom("signin_links").selectAll().execute());
      const sessions = JSON.stringify(await h.deps.store.db.selectFrom("sessions").selectAll().execute());
      assert.ok(!links.includes(token) && !sessions.includes(session));
      const logs = h.logs.join("");
      assert.ok(logs.includes("/auth/link/[REDACTED]"), "the visit was logged, without its token");
      assert.ok(!logs.includes(token) && !logs.includes(session));
    });

    test("a service account is never given a link: refused with the sentence and audited; its key still works", async () => {
      await assert.rejects(createSigninLink(h.deps, "my-account", SA_EMAIL), (error: any) => {
        assert.equal(error.status, "PERMISSION_DENIED");
        assert.equal(error.message, SERVICE_ACCOUNT_SIGN_IN);
        return true;
      });
      // A link for it that got into the store anyway is refused on use too.
      const planted = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const digest = (await h.deps.store.db.selectFrom("signin_links").select("digest").orderBy("create_time", "desc").executeTakeFirstOrThrow()).digest;
      await h.deps.store.db.updateTable("signin_links").set({ user_id: "links-bot" }).where("digest", "=", digest).execute();
      const used = await h.call("GET", pathOf(planted.url), { key: null });
      assert.equal(used.status, 403);
      assert.equal(used.body.error.message, SERVICE_ACCOUNT_SIGN_IN);
      assert.equal(sessionCookie(used), undefined);

      const entries = await auditEntries(h, `message="SignIn" AND email="${SA_EMAIL}"`);
      assert.equal(entries.length, 2);
      for (const e of entries) {
        assert.equal(e.payload.via, "link");
        assert.equal(e.status.code, "PERMISSION_DENIED");
        assert.equal(e.resource, "accounts/my-account/users/links-bot");
      }
      assert.equal((await h.call("GET", `${A}/users`, { key: saKey })).status, 200);
    });

    test("enforceSso blocks links for humans (they must use the identity provider) but never API keys", async () => {
      const pending = await createSigninLink(h.deps, "my-account", "bob@example.com");
      const idp = await h.call("POST", `${A}/identityProviders?identityProviderId=strict`, {
        body: { oidcConfig: { issuerUrl: "https://idp.example.com", clientId: "hearth" }, enforceSso: true },
      });
      assert.equal(idp.status, 200, JSON.stringify(idp.body));
      try {
        await assert.rejects(createSigninLink(h.deps, "my-account", "bob@example.com"), /enforces single sign-on/);
        const res = await h.call("GET", pathOf(pending.url), { key: null });
        assert.equal(res.status, 403);
        assert.match(res.body.error.message, /enforces single sign-on/);
        assert.equal((await h.call("GET", `${A}/users`)).status, 200, "the admin's API key works");
        assert.equal((await h.call("GET", `${A}/users`, { key: saKey })).status, 200, "a service account's key works");
      } finally {
        assert.equal((await h.call("DELETE", `${A}/identityProviders/strict`)).status, 200);
      }
      const after = await createSigninLink(h.deps, "my-account", "bob@example.com");
      assert.equal((await h.call("GET", pathOf(after.url), { key: null })).status, 302);
    });

    test("links are only for users of the account", async () => {
      await assert.rejects(createSigninLink(h.deps, "my-account", "nobody@example.com"), /no user with email/);
      await assert.rejects(createSigninLink(h.deps, "no-such-account", "bob@example.com"), /account "no-such-account" not found/);
    });
  });
}
