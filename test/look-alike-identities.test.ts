import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createHearth } from "../src/server.ts";
import { allUserEmails, getUser, insertUser } from "../src/store/users.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startHearthWithIdentityProvider, type TestIssuer } from "./support/oidc-issuer.ts";
import { hearth } from "./support/process.ts";

const A = "/v1/accounts/my-account";
const CYRILLIC_A = "\u0430dmin@example.com"; // а (U+0430) then Latin "dmin"
const ZERO_WIDTH = "admin\u200b@example.com";

for (const dialect of DIALECTS) {
  describe(`look-alike identities are refused, stored ones kept and named (${dialect})`, () => {
    let h: TestHearth;
    let issuer: TestIssuer;
    before(async () => {
      ({ h, issuer } = await startHearthWithIdentityProvider(dialect, { tenantDomains: ["example.com"], enableJitUserProvisioning: true }));
    });
    after(async () => {
      await h.stop();
      await issuer.close();
    });

    test("regression: an admin cannot create \\u0430dmin@example.com (Cyrillic а) or admin\\u200b@example.com as admins", async () => {
      const mixed = await h.call("POST", `${A}/users`, { body: { email: CYRILLIC_A, role: "admin" } });
      assert.equal(mixed.status, 400, JSON.stringify(mixed.body));
      assert.match(
        mixed.body.error.message,
        /^invalid email "\\u0430dmin@example\.com": U\+0430 at position 0 is not allowed: a Cyrillic character among Latin ones/,
      );
      const invisible = await h.call("POST", `${A}/users`, { body: { email: ZERO_WIDTH, role: "admin" } });
      assert.equal(invisible.status, 400, JSON.stringify(invisible.body));
      assert.match(invisible.body.error.message, /^invalid email "admin\\u200b@example\.com": U\+200B at position 5 is not allowed/);
      const list = await h.call("GET", `${A}/users?pageSize=200`);
      assert.deepEqual(
        (list.body.users as Array<{ email: string }>).map((u) => u.email),
        ["admin@example.com"],
      );
    });

    test("regression: `hearth account create --admin-email \\u0430dmin@acme.example` is refused like the API refuses it", async () => {
      const run = await hearth(["account", "create", "acme", "--admin-email", "\u0430dmin@acme.example"], h.env);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^hearth: invalid admin email "\\u0430dmin@acme\.example": U\+0430 at position 0 is not allowed/);
    });

    test("an all-Cyrillic address, and Han with Latin, are accepted; emails are stored NFC and lowercased", async () => {
      const cyrillic = await h.call("POST", `${A}/users`, { body: { email: "Иван@Пример.рф", role: "user" } });
      assert.equal(cyrillic.status, 200, JSON.stringify(cyrillic.body));
      assert.equal(cyrillic.body.email, "иван@пример.рф");
      assert.match(cyrillic.body.name, /^accounts\/my-account\/users\/xn--[a-z0-9-]+[a-z0-9]$/);
      assert.equal((await h.call("POST", `${A}/users`, { body: { email: "ИВАН@ПРИМЕР.РФ", role: "user" } })).status, 409, "the same address, other case");
      const han = await h.call("POST", `${A}/users`, { body: { email: "山田taro@example.jp", role: "user" } });
      assert.equal(han.status, 200, JSON.stringify(han.body));
      const decomposed = await h.call("POST", `${A}/users`, { body: { email: "e\u0301mile@example.com", role: "user" } });
      assert.equal(decomposed.status, 200, JSON.stringify(decomposed.body));
      assert.equal(decomposed.body.email, "\u00e9mile@example.com", "NFC: e + U+0301 is stored as é");
      assert.equal((await h.call("POST", `${A}/users`, { body: { email: "\u00e9mile@example.com", role: "user" } })).status, 409);
    });

    test("display names refuse zero-width and bidi characters but keep emoji sequences", async () => {
      const hidden = await h.call("POST", `${A}/users?userId=zw`, { body: { serviceAccount: true, role: "user", displayName: "admin\u200b" } });
      assert.equal(hidden.status, 400, JSON.stringify(hidden.body));
      assert.match(hidden.body.error.message, /field "displayName": .*\(found U\+200B at position 5\)/);
      const family = await h.call("POST", `${A}/users?userId=family`, { body: { serviceAccount: true, role: "user", displayName: "👩\u200d👧 team" } });
      assert.equal(family.status, 200, JSON.stringify(family.body));
    });

    test("regression: an ID token asserting \\u0430dmin@example.com or admin\\u200b@example.com provisions no user", async () => {
      for (const [i, email] of [CYRILLIC_A, ZERO_WIDTH].entries()) {
        const token = await issuer.mint({ sub: `look-alike-${i}`, email, email_verified: true });
        const res = await h.call("GET", "/verifyApiKey", { key: token });
        assert.equal(res.status, 403, `${JSON.stringify(email)}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /^the identity provider's email ".*" is not a valid email address$/);
      }
      const emails = ((await h.call("GET", `${A}/users?pageSize=200`)).body.users as Array<{ email: string }>).map((u) => u.email);
      assert.equal(emails.includes(CYRILLIC_A) || emails.includes(ZERO_WIDTH), false, JSON.stringify(emails));
    });

    test("a look-alike email stored before the rule is kept, still served, and named in the log at start-up", async () => {
      const admin = (await getUser(h.deps.store.db, h.accountId, "admin-example-com"))!;
      const { uid: _uid, ...fields } = admin;
      await insertUser(h.deps.store.db, { ...fields, id: "old-admin", email: CYRILLIC_A });
      const logs: string[] = [];
      const logStream = new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      });
      const restarted = await createHearth(h.deps.config, { store: h.deps.store, logStream });
      await restarted.close();
      const warning = logs.find((l) => l.includes("accounts/my-account/users/old-admin"));
      assert.ok(warning, logs.join(""));
      assert.match(JSON.parse(warning).msg, /look-alike identity: invalid email "\\u0430dmin@example\.com": U\+0430 at position 0/);
      assert.equal(JSON.parse(warning).level, 40, "pino's warn level");
      const got = await h.call("GET", `${A}/users/old-admin`);
      assert.equal(got.status, 200);
      assert.equal(got.body.email, CYRILLIC_A, "kept as stored");
    });

    test("the start-up check reads users a page at a time: each once, in account and user id order", async () => {
      const everyone = await h.deps.store.db.selectFrom("users").select(["account_id", "id", "email"]).orderBy("account_id").orderBy("id").execute();
      assert.ok(everyone.length >= 3, "several users, so that pages of 2 split them");
      for (const pageSize of [1, 2, everyone.length, everyone.length + 5]) {
        const paged: typeof everyone = [];
        for await (const row of allUserEmails(h.deps.store.db, pageSize)) paged.push(row);
        assert.deepEqual(paged, everyone, `pages of ${pageSize}`);
      }
    });
  });
}
