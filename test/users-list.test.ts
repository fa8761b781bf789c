import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

const A = "/v1/accounts/my-account";

async function pageThrough(h: TestHearth, query: string): Promise<{ names: string[]; totals: number[] }> {
  const names: string[] = [];
  const totals: number[] = [];
  let token = "";
  do {
    const res = await h.call("GET", `${A}/users?${query}${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    names.push(...res.body.users.map((u: { name: string }) => u.name.split("/").pop()));
    totals.push(res.body.totalSize);
    token = res.body.nextPageToken;
  } while (token);
  return { names, totals };
}

for (const dialect of DIALECTS) {
  describe(`listing users (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
      for (let i = 0; i < 23; i++) {
        const res = await h.call("POST", `${A}/users?userId=sa-${String(i).padStart(2, "0")}`, {
          body: { serviceAccount: true, role: i % 2 ? "contributor" : "inference-user", displayName: `Bot ${i}` },
        });
        assert.equal(res.status, 200);
      }
      for (const name of ["carol", "bob", "dave"]) {
        await h.call("POST", `${A}/users`, { body: { email: `${name}@example.com`, role: "user", displayName: name } });
      }
    });
    after(() => h.stop());

    test("filter service_account=true pages through each service account exactly once with the right totalSize", async () => {
      const { names, totals } = await pageThrough(h, "filter=service_account%3Dtrue&pageSize=5");
      assert.equal(names.length, 23);
      assert.equal(new Set(names).size, 23);
      assert.ok(names.every((n) => n.startsWith("sa-")));
      assert.ok(totals.every((t) => t === 23));
      assert.deepEqual(names, [...names].sort(), "ordered by name by default");
    });

    test("humans only, ordered by name", async () => {
      const { names } = await pageThrough(h, "filter=service_account%3Dfalse");
      assert.deepEqual(names, ["admin-example-com", "bob-example-com", "carol-example-com", "dave-example-com"]);
    });

    test('orderBy "create_time desc,name" returns newest first', async () => {
      const { names } = await pageThrough(h, `orderBy=${encodeURIComponent("create_time desc,name")}&pageSize=7`);
      assert.equal(names.length, 27);
      assert.equal(new Set(names).size, 27);
      assert.equal(names[0], "dave-example-com");
      assert.equal(names.at(-1), "admin-example-com");
    });

    test("filters combine roles, substrings, negation and timestamps", async () => {
      const q = (f: string) => pageThrough(h, `filter=${encodeURIComponent(f)}`);
      assert.equal((await q('role="contributor" AND service_account=true')).names.length, 11);
      assert.deepEqual((await q("email:CAROL")).names, ["carol-example-com"]);
      assert.equal((await q("NOT service_account=true")).names.length, 4);
      assert.equal((await q("create_time>=2000-01-01T00:00:00Z")).names.length, 27);
      assert.equal((await q("create_time<2000-01-01T00:00:00Z")).names.length, 0);
      assert.deepEqual((await q('name="accounts/my-account/users/sa-07"')).names, ["sa-07"]);
      assert.deepEqual((await q('display_name="Bot 3" OR display_name="Bot 4"')).names, ["sa-03", "sa-04"]);
      assert.equal((await q("email:%")).names.length, 0, "LIKE wildcards are literal");
    });

    test("pageSize above 200 is coerced to 200", async () => {
      const res = await h.call("GET", `${A}/users?pageSize=5000`);
      assert.equal(res.status, 200);
      assert.equal(res.body.users.length, 27);
    });

    test("a page token only continues the query it came from", async () => {
      const first = await h.call("GET", `${A}/users?pageSize=2&filter=service_account%3Dtrue`);
      const other = await h.call("GET", `${A}/users?pageSize=2&filter=service_account%3Dfalse&pageToken=${first.body.nextPageToken}`);
      assert.equal(other.status, 400);
      assert.match(other.body.error.message, /different filter/);
    });

    test("readMask keeps only the named fields (and the name)", async () => {
      const res = await h.call("GET", `${A}/users?pageSize=1&readMask=email,service_account`);
      assert.deepEqual(Object.keys(res.body.users[0]).sort(), ["email", "name", "serviceAccount"]);
    });

    test("users can be fetched, renamed and deleted", async () => {
      const patched = await h.call("PATCH", `${A}/users/sa-00?updateMask=displayName`, { body: { displayName: "Renamed", role: "admin" } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.displayName, "Renamed");
      assert.equal(patched.body.role, "inference-user", "fields outside the mask are untouched");
      assert.notEqual(patched.body.updateTime, patched.body.createTime);
      assert.equal((await h.call("GET", `${A}/users/sa-00`)).body.displayName, "Renamed");
      assert.equal((await h.call("DELETE", `${A}/users/sa-00`)).status, 200);
      const gone = await h.call("GET", `${A}/users/sa-00`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.message, 'user "sa-00" not found');
    });

    test("a human's id is derived from the email; the email is unique in the account", async () => {
      const res = await h.call("POST", `${A}/users`, { body: { email: "Erin.Doe@Example.com", role: "contributor" } });
      assert.equal(res.body.name, "accounts/my-account/users/erin-doe-example-com");
      assert.equal(res.body.email, "erin.doe@example.com");
      const clash = await h.call("POST", `${A}/users?userId=erin2`, { body: { email: "erin.doe@example.com", role: "user" } });
      assert.equal(clash.status, 409);
      assert.match(clash.body.error.message, /email "erin.doe@example.com" already exists/);
    });
  });
}
