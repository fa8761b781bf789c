import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { otherAccount } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * A page token was bound to the list's SQL but not to its parameters: a token of my-account's user
 * list continued evil's user list (with my-account's totalSize). It is now bound to everything
 * that scopes a list — account, parent user, principal, time range — on every paged route.
 */
const A = "/v1/accounts/my-account";
const E = "/v1/accounts/evil";
const INVALID = "invalid pageToken: it is malformed or altered, or was issued for a different filter, orderBy or list; start again without pageToken";

for (const dialect of DIALECTS) {
  describe(`a page token only continues the list it was issued for (${dialect})`, () => {
    let h: TestHearth;
    let evilKey: string;
    before(async () => {
      h = await startHearth(dialect);
      evilKey = await otherAccount(h, "evil");
      for (const id of ["bot-a", "bot-b", "bot-c", "bot-d"]) {
        assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true, role: "user" } })).status, 200);
      }
      assert.equal((await h.call("POST", `${E}/users?userId=evil-bot`, { key: evilKey, body: { serviceAccount: true, role: "user" } })).status, 200);
      for (const owner of ["bot-a", "bot-b"]) {
        for (let i = 0; i < 2; i++) assert.equal((await h.call("POST", `${A}/users/${owner}/apiKeys`, { body: { apiKey: {} } })).status, 200);
      }
    });
    after(() => h.stop());

    const refused = (res: { status: number; body: any }) => {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual({ ...res.body.error, details: undefined }, { code: 400, status: "INVALID_ARGUMENT", message: INVALID, details: undefined });
    };

    test("regression: my-account's users token sent to evil's users list is a 400, not evil's list continued with my-account's totalSize", async () => {
      const mine = await h.call("GET", `${A}/users?pageSize=1`);
      assert.equal(mine.status, 200);
      assert.equal(mine.body.totalSize, 5);
      const theirs = await h.call("GET", `${E}/users?pageSize=1`, { key: evilKey });
      assert.equal(theirs.body.totalSize, 2);
      refused(await h.call("GET", `${E}/users?pageSize=1&pageToken=${mine.body.nextPageToken}`, { key: evilKey }));
      // The token still continues the list it came from.
      assert.equal((await h.call("GET", `${A}/users?pageSize=1&pageToken=${mine.body.nextPageToken}`)).status, 200);
    });

    test("regression: one user's apiKeys token does not continue another user's apiKeys list", async () => {
      const first = await h.call("GET", `${A}/users/bot-a/apiKeys?pageSize=1`);
      assert.equal(first.status, 200);
      assert.ok(first.body.nextPageToken);
      refused(await h.call("GET", `${A}/users/bot-b/apiKeys?pageSize=1&pageToken=${first.body.nextPageToken}`));
      assert.equal((await h.call("GET", `${A}/users/bot-a/apiKeys?pageSize=1&pageToken=${first.body.nextPageToken}`)).status, 200);
    });

    test("regression: my-account's auditLogs token sent to evil's auditLogs is a 400; another time range is too", async () => {
      const first = await h.call("GET", `${A}/auditLogs?pageSize=1`);
      assert.equal(first.status, 200);
      assert.ok(first.body.nextPageToken);
      refused(await h.call("GET", `${E}/auditLogs?pageSize=1&pageToken=${first.body.nextPageToken}`, { key: evilKey }));
      refused(await h.call("GET", `${A}/auditLogs?pageSize=1&startTime=2020-01-01T00:00:00Z&pageToken=${first.body.nextPageToken}`));
      // Default time ranges move with the clock, yet the token keeps paging its own list.
      assert.equal((await h.call("GET", `${A}/auditLogs?pageSize=1&pageToken=${first.body.nextPageToken}`)).status, 200);
    });
  });
}
