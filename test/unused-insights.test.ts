import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../src/domain/clock.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { human, serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { firectlAt, ok } from "./support/run.ts";

const DAY = 86_400_000;

/** The key ids, or user ids, a list answers (every page, `pageSize` at a time). */
async function ids(h: TestHearth, path: string, filter: string, pageSize = 200): Promise<string[]> {
  const out: string[] = [];
  let token = "";
  do {
    const query = `filter=${encodeURIComponent(filter)}&pageSize=${pageSize}${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`;
    const res = await h.call("GET", `${path}?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const items: Array<{ keyId?: string; name: string }> = res.body.apiKeys ?? res.body.users;
    out.push(...items.map((item) => item.keyId ?? item.name.split("/").pop()!));
    token = res.body.nextPageToken;
  } while (token);
  return out.sort();
}

for (const dialect of DIALECTS) {
  describe(`unused keys and principals (${dialect})`, () => {
    let h: TestHearth;
    const clock = new ManualClock();
    const keys: Record<string, string> = {};
    let adminKeyId = "";
    let home = "";
    const KEYS = "/v1/accounts/my-account/users/-/apiKeys";
    const USERS = "/v1/accounts/my-account/users";

    before(async () => {
      h = await startHearth(dialect, {}, { clock });
      await h.listen();
      home = mkdtempSync(join(tmpdir(), "unused-firectl-"));
      adminKeyId = (await h.call("GET", "/verifyApiKey")).body.keyId;
      // Day 0: a key never used, a key used once today, a key used again on day 100; two humans.
      for (const id of ["never-used", "used-day-0", "used-day-100"]) {
        const made = await serviceAccountWithKey(h, id);
        keys[id] = made.keyId;
        if (id !== "never-used") assert.equal((await h.call("GET", "/verifyApiKey", { key: made.key })).status, 200);
        if (id === "used-day-100") keys.usedKey = made.key;
      }
      await human(h, "quiet@example.com", "user");
      await human(h, "active@example.com", "user");
      clock.advance(100 * DAY);
      assert.equal((await h.call("GET", "/verifyApiKey", { key: keys.usedKey! })).status, 200);
      // A human's sign-in counts as use.
      const link = await createSigninLink(h.deps, "my-account", "active@example.com", "http://hearth.test");
      assert.equal((await h.call("GET", new URL(link.url).pathname, { key: null })).status, 302);
    });
    after(async () => {
      rmSync(home, { recursive: true, force: true });
      await h.stop();
    });

    test("keys unused for more than 90 days: the never-used one (from its creation) and the one used long ago", async () => {
      assert.deepEqual(await ids(h, KEYS, "unused_days>90"), [keys["never-used"], keys["used-day-0"]].sort());
      assert.deepEqual(await ids(h, KEYS, "unused_days<90"), [adminKeyId, keys["used-day-100"]].sort());
      assert.deepEqual(await ids(h, KEYS, "NOT unused_days>90"), await ids(h, KEYS, "unused_days<=90"));
      assert.deepEqual(await ids(h, KEYS, "unused_days>101"), []);
      assert.deepEqual(await ids(h, KEYS, "unused_days>=99 AND unused_days<101"), [keys["never-used"], keys["used-day-0"]].sort());
    });

    test("the same list, one key per page, keeps its answer across pages", async () => {
      assert.deepEqual(await ids(h, KEYS, "unused_days>90", 1), [keys["never-used"], keys["used-day-0"]].sort());
    });

    test("principals unused for more than 90 days: no sign-in and no key use", async () => {
      assert.deepEqual(await ids(h, USERS, "unused_days>90"), ["never-used", "quiet-example-com", "used-day-0"]);
      assert.deepEqual(await ids(h, USERS, "unused_days>90 AND service_account=false"), ["quiet-example-com"]);
      const recent = await ids(h, USERS, "unused_days<1");
      assert.ok(recent.includes("active-example-com") && recent.includes("used-day-100"), recent.join(","));
    });

    test("a bad unused_days comparison is a 400 naming the field", async () => {
      for (const [filter, message] of [
        ["unused_days>soon", /unused_days' takes a whole number of days/],
        ["unused_days=5", /'=' does not apply to field 'unused_days'/],
        ['unused_days>"5"', /whole number of days/],
      ] as const) {
        const res = await h.call("GET", `${KEYS}?filter=${encodeURIComponent(filter)}`);
        assert.equal(res.status, 400, filter);
        assert.match(res.body.error.message, message);
      }
    });

    test("firectl api-key list --unused and user list --unused", async () => {
      const firectl = firectlAt(home, h.baseUrl, h.adminKey);
      const listed = JSON.parse(ok(await firectl(["api-key", "list", "--all-users", "--unused", "90d", "-o", "json"])));
      assert.deepEqual(listed.apiKeys.map((k: { keyId: string }) => k.keyId).sort(), [keys["never-used"], keys["used-day-0"]].sort());
      const table = ok(await firectl(["user", "list", "--unused", "90d", "--filter", "service_account=true"]));
      assert.match(table, /never-used/);
      assert.match(table, /used-day-0/);
      assert.doesNotMatch(table, /used-day-100|quiet/);
      const bad = await firectl(["user", "list", "--unused", "soon"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--unused/);
    });
  });
}
