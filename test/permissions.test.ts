import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ROLES } from "../src/domain/roles.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";

/**
 * SPEC §2 over HTTP: each documented cell that the API serves, for each role, through a key of a
 * service account holding that role. (Resource and inference cells arrive with those resources.)
 */
type Cell = {
  permission: string;
  allowed: readonly string[];
  /** Performs the action as `key` (of service account `self`); returns the HTTP status. */
  act: (h: TestHearth, key: string, self: string, n: number) => Promise<number>;
};

const A = "/v1/accounts/my-account";
const ALL = ROLES;
const ADMIN = ["admin"] as const;

const CELLS: Cell[] = [
  { permission: "view all users and service accounts", allowed: ALL, act: async (h, key) => (await h.call("GET", `${A}/users`, { key })).status },
  { permission: "view a user", allowed: ALL, act: async (h, key) => (await h.call("GET", `${A}/users/bystander`, { key })).status },
  { permission: "view quotas", allowed: ALL, act: async (h, key) => (await h.call("GET", `${A}/quotas`, { key })).status },
  {
    permission: "create and delete its own API keys",
    allowed: ALL,
    act: async (h, key, self) => {
      const made = await h.call("POST", `${A}/users/${self}/apiKeys`, { key, body: { apiKey: { displayName: "mine" } } });
      if (made.status !== 200) return made.status;
      return (await h.call("POST", `${A}/users/${self}/apiKeys:delete`, { key, body: { keyId: made.body.keyId } })).status;
    },
  },
  {
    permission: "create API keys for service accounts",
    allowed: ADMIN,
    act: async (h, key) => (await h.call("POST", `${A}/users/bystander/apiKeys`, { key, body: { apiKey: {} } })).status,
  },
  {
    permission: "delete other principals' API keys",
    allowed: ADMIN,
    act: async (h, key) => {
      const victim = await h.call("POST", `${A}/users/bystander/apiKeys`, { body: { apiKey: {} } });
      return (await h.call("DELETE", `${A}/users/bystander/apiKeys/${victim.body.keyId}`, { key })).status;
    },
  },
  {
    permission: "list other principals' API keys",
    allowed: ADMIN,
    act: async (h, key) => (await h.call("GET", `${A}/users/bystander/apiKeys`, { key })).status,
  },
  {
    permission: "create service accounts",
    allowed: ADMIN,
    act: async (h, key, self, n) => (await h.call("POST", `${A}/users?userId=made-by-${self}-${n}`, { key, body: { serviceAccount: true } })).status,
  },
  {
    permission: "create human users",
    allowed: ADMIN,
    act: async (h, key, self, n) => (await h.call("POST", `${A}/users`, { key, body: { email: `h${n}-${self}@example.com`, role: "user" } })).status,
  },
  {
    permission: "change a user's role",
    allowed: ADMIN,
    act: async (h, key) => (await h.call("PATCH", `${A}/users/bystander`, { key, body: { role: "contributor" } })).status,
  },
  {
    permission: "delete a service account",
    allowed: ADMIN,
    act: async (h, key, self, n) => {
      const id = `doomed-${self}-${n}`;
      await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } });
      return (await h.call("DELETE", `${A}/users/${id}`, { key })).status;
    },
  },
  {
    permission: "change quotas",
    allowed: ADMIN,
    act: async (h, key) => (await h.call("PATCH", `${A}/quotas/service-accounts`, { key, body: { value: 50 } })).status,
  },
];

for (const dialect of DIALECTS) {
  describe(`the permission matrix over HTTP (${dialect})`, () => {
    let h: TestHearth;
    const keys: Record<string, string> = {};
    before(async () => {
      h = await startHearth(dialect);
      await serviceAccountWithKey(h, "bystander");
      for (const role of ROLES) keys[role] = (await serviceAccountWithKey(h, `sa-${role}`, role)).key;
    });
    after(() => h.stop());

    let n = 0;
    for (const cell of CELLS) {
      for (const role of ROLES) {
        const allowed = cell.allowed.includes(role);
        test(`${role} ${allowed ? "can" : "cannot"} ${cell.permission}`, async () => {
          const status = await cell.act(h, keys[role]!, `sa-${role}`, n++);
          assert.equal(status, allowed ? 200 : 403);
        });
      }
    }

    test("a non-admin cannot raise its own role", async () => {
      const res = await h.call("PATCH", `${A}/users/sa-contributor`, { key: keys.contributor!, body: { role: "admin" } });
      assert.equal(res.status, 403);
      assert.match(res.body.error.message, /role "contributor" cannot modify users/);
      assert.equal((await h.call("GET", `${A}/users/sa-contributor`)).body.role, "contributor");
    });

    test("nobody, not even an admin, creates API keys for another human", async () => {
      const alice = await h.call("POST", `${A}/users`, { body: { email: "alice@example.com", role: "user" } });
      assert.equal(alice.status, 200);
      const res = await h.call("POST", `${A}/users/alice-example-com/apiKeys`, { body: { apiKey: {} } });
      assert.equal(res.status, 403);
      assert.match(res.body.error.message, /only be created by that user/);
    });

    test("refusals are audited with the principal's email, as admin actions where they are", async () => {
      const entries = await auditEntries(h, 'message="CreateUser" AND email="sa-contributor@my-account.sa.hearth.local"');
      assert.ok(entries.length >= 1);
      assert.equal(entries[0].status.code, 403);
      assert.equal(entries[0].isAdminAction, true);
    });
  });
}
