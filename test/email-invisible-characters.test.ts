import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";

const A = "/v1/accounts/my-account";

for (const dialect of DIALECTS) {
  describe(`emails with bidi, zero-width or look-alike characters (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    const bearer = (token: string) => h.call("GET", "/verifyApiKey", { key: token });

    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, { tenantDomains: ["example.com"], enableJitUserProvisioning: true }));
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("regression: POST /users with email gpj.exe\\u202e@example.com is a 400 naming the field and the character, like a display name", async () => {
      const res = await h.call("POST", `${A}/users`, { body: { email: "gpj.exe\u202e@example.com", role: "user" } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.error.message, /^invalid email "gpj\.exe\\u202e@example\.com": U\+202E at position 7 is not allowed/);
      assert.equal(JSON.stringify(res.body).includes("\u202e"), false, "the message shows the character escaped, never raw");
      const named = await h.call("POST", `${A}/users`, { body: { email: "ab@example.com", displayName: "a\u202eb", role: "user" } });
      assert.equal(named.status, 400, "display names were already refused");
      for (const email of ["admin\u200b@example.com", "moc.elpmaxe\u202e@example.com", "admin@ex\u0430mple.com"]) {
        const r = await h.call("POST", `${A}/users`, { body: { email, role: "user" } });
        assert.equal(r.status, 400, `${JSON.stringify(email)}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.error.message, /^invalid email .*U\+(200B|202E|0430) at position \d+ is not allowed/);
      }
    });

    test("regression: an ID token asserting admin\\u200b@example.com or moc.elpmaxe\\u202e@example.com provisions no user", async () => {
      for (const [i, email] of ["admin\u200b@example.com", "moc.elpmaxe\u202e@example.com", "admin@ex\u0430mple.com"].entries()) {
        const res = await bearer(await issuer.mint({ sub: `jit-${i}`, email, email_verified: true }));
        assert.equal(res.status, 403, `${JSON.stringify(email)}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /^the identity provider's email ".*" is not a valid email address$/);
        assert.equal(/[^\x20-\x7e]/.test(res.body.error.message), false, "the message shows the character escaped");
      }
      const users = await h.call("GET", `${A}/users?pageSize=200`);
      assert.equal(users.status, 200);
      const emails = (users.body.users as Array<{ email: string; name: string }>).map((u) => u.email);
      assert.equal(
        emails.some((e) => /[^\x20-\x7e]/.test(e)),
        false,
        JSON.stringify(emails),
      );
      assert.equal(JSON.stringify(users.body).includes("admin-example-com-1nnkfm"), false);
    });
  });
}
