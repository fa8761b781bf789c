import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ACTION_NAMES, type Action } from "../src/domain/actions.ts";
import { ROLES, type Role } from "../src/domain/roles.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, infer, startPlatform, upload } from "./support/platform.ts";

/**
 * The documented role matrix over HTTP: every action of the vocabulary, for each role, through a
 * key of a service account holding that role. An allowed role gets `ok` (default 200), any other 403.
 */
type Cell = {
  action: Action;
  /** What the request does, for the test name. */
  doing: string;
  allowed: readonly Role[];
  /** The status that shows the check passed, when the request then stops for another reason. */
  ok?: number;
  act: (h: TestHearth, me: Me, n: number) => Promise<number>;
};

/** The acting principal: a service account `self` with role `role` and the key `key` (id `keyId`). */
type Me = { role: Role; self: string; key: string; keyId: string };

const A = "/v1/accounts/my-account";
const SHARED_MODEL = "accounts/my-account/models/shared";
const ALL = ROLES;
const CREATORS = ["contributor", "user", "admin"] as const;
const MANAGERS = ["user", "admin"] as const;
const ADMIN = ["admin"] as const;
const JSONL = '{"messages":[{"role":"user","content":"hi"}]}\n';

const status = async (p: Promise<{ status: number }>) => (await p).status;

/**
 * A service account that made something as a contributor, then was given `role`: what it then may
 * do with what it made is the "own" cell of that role.
 */
async function creatorWithRole(h: TestHearth, id: string, role: Role, make: (key: string) => Promise<number>): Promise<string> {
  const { key } = await serviceAccountWithKey(h, id, "contributor");
  assert.equal(await make(key), 200);
  if (role !== "contributor") assert.equal(await status(h.call("PATCH", `${A}/users/${id}`, { body: { role } })), 200);
  return key;
}

const CELLS: Cell[] = [
  { action: "accounts.get", doing: "view the account", allowed: ALL, act: (h, me) => status(h.call("GET", A, { key: me.key })) },

  { action: "users.list", doing: "list users and service accounts", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/users`, { key: me.key })) },
  { action: "users.get", doing: "view a user", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/users/bystander`, { key: me.key })) },
  {
    action: "users.create",
    doing: "create service accounts",
    allowed: ADMIN,
    act: (h, me, n) => status(h.call("POST", `${A}/users?userId=made-by-${me.self}-${n}`, { key: me.key, body: { serviceAccount: true } })),
  },
  {
    action: "users.create",
    doing: "create human users",
    allowed: ADMIN,
    act: (h, me, n) => status(h.call("POST", `${A}/users`, { key: me.key, body: { email: `h${n}-${me.self}@example.com`, role: "user" } })),
  },
  {
    action: "users.update",
    doing: "change a user's role",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/users/bystander`, { key: me.key, body: { role: "contributor" } })),
  },
  {
    action: "users.delete",
    doing: "delete a service account",
    allowed: ADMIN,
    act: async (h, me, n) => {
      const id = `doomed-${me.self}-${n}`;
      await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true } });
      return status(h.call("DELETE", `${A}/users/${id}`, { key: me.key }));
    },
  },
  {
    action: "users.unbindIdentity",
    doing: "remove a user's identity bindings (past the check: it has none)",
    allowed: ADMIN,
    ok: 404,
    act: (h, me) => status(h.call("POST", `${A}/users/bystander:unbindIdentity`, { key: me.key, body: {} })),
  },
  {
    action: "users.revokeSessions",
    doing: "end a user's sessions",
    allowed: ADMIN,
    act: (h, me) => status(h.call("POST", `${A}/users/bystander:revokeSessions`, { key: me.key })),
  },

  {
    action: "apiKeys.list",
    doing: "list its own API keys",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `${A}/users/${me.self}/apiKeys`, { key: me.key })),
  },
  {
    action: "apiKeys.get",
    doing: "view its own API key",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `${A}/users/${me.self}/apiKeys/${me.keyId}`, { key: me.key })),
  },
  {
    action: "apiKeys.create",
    doing: "create its own API keys",
    allowed: ALL,
    act: async (h, me) => {
      const made = await h.call("POST", `${A}/users/${me.self}/apiKeys`, { key: me.key, body: { apiKey: { displayName: "mine" } } });
      if (made.status === 200) await h.call("DELETE", `${A}/users/${me.self}/apiKeys/${made.body.keyId}`);
      return made.status;
    },
  },
  {
    action: "apiKeys.delete",
    doing: "delete its own API keys",
    allowed: ALL,
    act: async (h, me) => {
      const spare = await h.call("POST", `${A}/users/${me.self}/apiKeys`, { body: { apiKey: { displayName: "spare" } } });
      return status(h.call("POST", `${A}/users/${me.self}/apiKeys:delete`, { key: me.key, body: { keyId: spare.body.keyId } }));
    },
  },
  {
    action: "apiKeys.listOthers",
    doing: "list other principals' API keys",
    allowed: ADMIN,
    act: (h, me) => status(h.call("GET", `${A}/users/bystander/apiKeys`, { key: me.key })),
  },
  {
    action: "apiKeys.listOthers",
    doing: "list every principal's API keys",
    allowed: ADMIN,
    act: (h, me) => status(h.call("GET", `${A}/users/-/apiKeys`, { key: me.key })),
  },
  {
    action: "apiKeys.getOthers",
    doing: "view another principal's API key",
    allowed: ADMIN,
    act: async (h, me) => {
      const theirs = await h.call("POST", `${A}/users/bystander/apiKeys`, { body: { apiKey: {} } });
      return status(h.call("GET", `${A}/users/bystander/apiKeys/${theirs.body.keyId}`, { key: me.key }));
    },
  },
  {
    action: "apiKeys.createForServiceAccount",
    doing: "create API keys for service accounts",
    allowed: ADMIN,
    act: (h, me) => status(h.call("POST", `${A}/users/bystander/apiKeys`, { key: me.key, body: { apiKey: {} } })),
  },
  {
    action: "apiKeys.deleteOthers",
    doing: "delete other principals' API keys",
    allowed: ADMIN,
    act: async (h, me) => {
      const victim = await h.call("POST", `${A}/users/bystander/apiKeys`, { body: { apiKey: {} } });
      return status(h.call("DELETE", `${A}/users/bystander/apiKeys/${victim.body.keyId}`, { key: me.key }));
    },
  },
  {
    action: "apiKeys.update",
    doing: "change its own API keys",
    allowed: ALL,
    act: (h, me) => status(h.call("PATCH", `${A}/users/${me.self}/apiKeys/${me.keyId}`, { key: me.key, body: { displayName: "renamed" } })),
  },
  {
    action: "apiKeys.updateOthers",
    doing: "change other principals' API keys",
    allowed: ADMIN,
    act: async (h, me) => {
      const theirs = await h.call("POST", `${A}/users/bystander/apiKeys`, { body: { apiKey: {} } });
      const changed = await status(
        h.call("PATCH", `${A}/users/bystander/apiKeys/${theirs.body.keyId}`, { key: me.key, body: { allowedCidrs: ["10.0.0.0/8"] } }),
      );
      await h.call("DELETE", `${A}/users/bystander/apiKeys/${theirs.body.keyId}`);
      return changed;
    },
  },
  {
    action: "apiKeys.disable",
    doing: "disable its own API keys",
    allowed: ALL,
    act: async (h, me) => {
      const mine = await h.call("POST", `${A}/users/${me.self}/apiKeys`, { key: me.key, body: { apiKey: {} } });
      return status(h.call("POST", `${A}/users/${me.self}/apiKeys/${mine.body.keyId}:disable`, { key: me.key, body: { disableReason: "UNUSED" } }));
    },
  },
  {
    action: "apiKeys.disableOthers",
    doing: "disable other principals' API keys",
    allowed: ADMIN,
    act: async (h, me) => {
      const theirs = await h.call("POST", `${A}/users/bystander/apiKeys`, { body: { apiKey: {} } });
      const disabled = await status(
        h.call("POST", `${A}/users/bystander/apiKeys/${theirs.body.keyId}:disable`, { key: me.key, body: { disableReason: "OTHER" } }),
      );
      await h.call("DELETE", `${A}/users/bystander/apiKeys/${theirs.body.keyId}`);
      return disabled;
    },
  },
  {
    action: "apiKeys.rotate",
    doing: "rotate its own API keys",
    allowed: ALL,
    act: async (h, me) => {
      const mine = await h.call("POST", `${A}/users/${me.self}/apiKeys`, { key: me.key, body: { apiKey: {} } });
      return status(h.call("POST", `${A}/users/${me.self}/apiKeys/${mine.body.keyId}:rotate`, { key: me.key, body: { gracePeriod: "0s" } }));
    },
  },
  {
    action: "apiKeys.rotateForServiceAccount",
    doing: "rotate a service account's API keys",
    allowed: ADMIN,
    act: async (h, me) => {
      const theirs = await h.call("POST", `${A}/users/bystander/apiKeys`, { body: { apiKey: {} } });
      const rotated = await h.call("POST", `${A}/users/bystander/apiKeys/${theirs.body.keyId}:rotate`, { key: me.key, body: { gracePeriod: "0s" } });
      await h.call("DELETE", `${A}/users/bystander/apiKeys/${theirs.body.keyId}`);
      if (rotated.status === 200) await h.call("DELETE", `${A}/users/bystander/apiKeys/${rotated.body.keyId}`);
      return rotated.status;
    },
  },

  { action: "auditLogs.list", doing: "read its audit log entries", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/auditLogs`, { key: me.key })) },
  {
    action: "auditLogs.listAll",
    doing: "read the entries of others (refused: the list holds none of them)",
    allowed: ADMIN,
    act: async (h, me) => {
      const filter = encodeURIComponent('principal!="' + `${me.self}@my-account.sa.hearth.local` + '"');
      const res = await h.call("GET", `${A}/auditLogs?pageSize=5&filter=${filter}`, { key: me.key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.auditLogs.length > 0 ? 200 : 403;
    },
  },
  {
    action: "auditSettings.update",
    doing: "switch data-access entries (off, as they are)",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/auditSettings`, { key: me.key, body: { dataAccessLogs: false } })),
  },

  { action: "quotas.list", doing: "list quotas", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/quotas`, { key: me.key })) },
  { action: "quotas.get", doing: "view a quota", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/quotas/service-accounts`, { key: me.key })) },
  {
    action: "quotas.update",
    doing: "change quotas",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/quotas/service-accounts`, { key: me.key, body: { value: 50 } })),
  },
  { action: "keyPolicy.get", doing: "view the key policy", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/keyPolicy`, { key: me.key })) },
  {
    action: "keyPolicy.update",
    doing: "change the key policy",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/keyPolicy`, { key: me.key, body: { requireExpiryForHumanKeys: false } })),
  },

  {
    action: "identityProviders.list",
    doing: "list identity providers",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `${A}/identityProviders`, { key: me.key })),
  },
  {
    action: "identityProviders.get",
    doing: "view an identity provider",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `${A}/identityProviders/corp`, { key: me.key })),
  },
  {
    action: "identityProviders.create",
    doing: "add an identity provider",
    allowed: ADMIN,
    act: (h, me, n) => status(h.call("POST", `${A}/identityProviders?identityProviderId=idp-${n}`, { key: me.key, body: idp(n) })),
  },
  {
    action: "identityProviders.update",
    doing: "modify an identity provider",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/identityProviders/corp`, { key: me.key, body: { displayName: `Corp ${me.role}` } })),
  },
  {
    action: "identityProviders.delete",
    doing: "delete an identity provider",
    allowed: ADMIN,
    act: async (h, me, n) => {
      assert.equal(await status(h.call("POST", `${A}/identityProviders?identityProviderId=gone-${n}`, { body: idp(n + 1000) })), 200);
      return status(h.call("DELETE", `${A}/identityProviders/gone-${n}`, { key: me.key }));
    },
  },

  {
    action: "permissionPresets.list",
    doing: "list permission presets",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `${A}/permissionPresets`, { key: me.key })),
  },
  {
    action: "permissionPresets.get",
    doing: "view a permission preset",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `${A}/permissionPresets/viewer`, { key: me.key })),
  },
  {
    action: "permissionPresets.create",
    doing: "create a permission preset",
    allowed: ADMIN,
    act: (h, me, n) => status(h.call("POST", `${A}/permissionPresets?permissionPresetId=preset-${n}`, { key: me.key, body: { actions: ["models.list"] } })),
  },
  {
    action: "permissionPresets.update",
    doing: "modify a permission preset",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/permissionPresets/viewer`, { key: me.key, body: { displayName: `Viewer ${me.role}` } })),
  },
  {
    action: "permissionPresets.delete",
    doing: "delete a permission preset",
    allowed: ADMIN,
    act: async (h, me, n) => {
      assert.equal(await status(h.call("POST", `${A}/permissionPresets?permissionPresetId=gone-${n}`, { body: { actions: ["models.list"] } })), 200);
      return status(h.call("DELETE", `${A}/permissionPresets/gone-${n}`, { key: me.key }));
    },
  },

  { action: "webhooks.list", doing: "list webhooks", allowed: ADMIN, act: (h, me) => status(h.call("GET", `${A}/webhooks`, { key: me.key })) },
  { action: "webhooks.get", doing: "view a webhook", allowed: ADMIN, act: (h, me) => status(h.call("GET", `${A}/webhooks/hook`, { key: me.key })) },
  {
    action: "webhooks.create",
    doing: "create a webhook",
    allowed: ADMIN,
    act: (h, me, n) => status(h.call("POST", `${A}/webhooks?webhookId=hook-${n}`, { key: me.key, body: WEBHOOK })),
  },
  {
    action: "webhooks.update",
    doing: "modify a webhook",
    allowed: ADMIN,
    act: (h, me) => status(h.call("PATCH", `${A}/webhooks/hook`, { key: me.key, body: { displayName: `Hook ${me.role}` } })),
  },
  {
    action: "webhooks.delete",
    doing: "delete a webhook",
    allowed: ADMIN,
    act: async (h, me, n) => {
      assert.equal(await status(h.call("POST", `${A}/webhooks?webhookId=gone-${n}`, { body: WEBHOOK })), 200);
      return status(h.call("DELETE", `${A}/webhooks/gone-${n}`, { key: me.key }));
    },
  },

  { action: "models.list", doing: "list the account's models", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/models`, { key: me.key })) },
  {
    action: "models.list",
    doing: "list the public models",
    allowed: ALL,
    act: (h, me) => status(h.call("GET", `/v1/accounts/fireworks/models`, { key: me.key })),
  },
  { action: "models.get", doing: "view a model", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/models/shared`, { key: me.key })) },
  {
    action: "models.create",
    doing: "create models",
    allowed: CREATORS,
    act: (h, me, n) => status(h.call("POST", `${A}/models?modelId=m-${n}`, { key: me.key, body: { backend: "local" } })),
  },
  {
    action: "models.manageOwn",
    doing: "update a model it created",
    allowed: CREATORS,
    act: async (h, me, n) => {
      const key = await creatorWithRole(h, `own-m-${n}`, me.role, (k) =>
        status(h.call("POST", `${A}/models?modelId=own-${n}`, { key: k, body: { backend: "local" } })),
      );
      return status(h.call("PATCH", `${A}/models/own-${n}`, { key, body: { displayName: "renamed" } }));
    },
  },
  {
    action: "models.manageOthers",
    doing: "update a model created by others",
    allowed: MANAGERS,
    act: (h, me) => status(h.call("PATCH", `${A}/models/shared`, { key: me.key, body: { description: `seen by ${me.role}` } })),
  },

  { action: "deployments.list", doing: "list deployments", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/deployments`, { key: me.key })) },
  { action: "deployments.get", doing: "view a deployment", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/deployments/shared`, { key: me.key })) },
  {
    action: "deployments.create",
    doing: "create deployments",
    allowed: CREATORS,
    act: (h, me, n) => status(h.call("POST", `${A}/deployments?deploymentId=d-${n}`, { key: me.key, body: { baseModel: SHARED_MODEL } })),
  },
  {
    action: "deployments.manageOwn",
    doing: "delete a deployment it created",
    allowed: CREATORS,
    act: async (h, me, n) => {
      const make = (k: string) => status(h.call("POST", `${A}/deployments?deploymentId=own-${n}`, { key: k, body: { baseModel: SHARED_MODEL } }));
      const key = await creatorWithRole(h, `own-d-${n}`, me.role, make);
      return status(h.call("DELETE", `${A}/deployments/own-${n}`, { key }));
    },
  },
  {
    action: "deployments.manageOthers",
    doing: "delete a deployment created by others",
    allowed: MANAGERS,
    act: async (h, me, n) => {
      assert.equal(await status(h.call("POST", `${A}/deployments?deploymentId=theirs-${n}`, { body: { baseModel: SHARED_MODEL } })), 200);
      return status(h.call("DELETE", `${A}/deployments/theirs-${n}`, { key: me.key }));
    },
  },

  { action: "datasets.list", doing: "list datasets", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/datasets`, { key: me.key })) },
  { action: "datasets.get", doing: "view a dataset", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/datasets/shared`, { key: me.key })) },
  {
    action: "datasets.download",
    doing: "download a dataset",
    allowed: ALL,
    act: async (h, me) => {
      const res = await fetch(`${h.baseUrl}${A}/datasets/shared:download`, { headers: { authorization: `Bearer ${me.key}` } });
      await res.arrayBuffer();
      return res.status;
    },
  },
  {
    action: "datasets.create",
    doing: "create datasets",
    allowed: CREATORS,
    act: (h, me, n) => status(h.call("POST", `${A}/datasets?datasetId=ds-${n}`, { key: me.key, body: {} })),
  },
  {
    action: "datasets.manageOwn",
    doing: "upload to a dataset it created",
    allowed: CREATORS,
    act: async (h, me, n) => {
      const key = await creatorWithRole(h, `own-ds-${n}`, me.role, (k) => status(h.call("POST", `${A}/datasets?datasetId=own-${n}`, { key: k, body: {} })));
      const res = await upload(h, key, "my-account", `own-${n}`, JSONL);
      await res.arrayBuffer();
      return res.status;
    },
  },
  {
    action: "datasets.manageOthers",
    doing: "upload to a dataset created by others",
    allowed: MANAGERS,
    act: async (h, me, n) => {
      assert.equal(await status(h.call("POST", `${A}/datasets?datasetId=theirs-${n}`, { body: {} })), 200);
      const res = await upload(h, me.key, "my-account", `theirs-${n}`, JSONL);
      await res.arrayBuffer();
      return res.status;
    },
  },
  {
    action: "datasets.manageOthers",
    doing: "update a dataset created by others",
    allowed: MANAGERS,
    act: (h, me) => status(h.call("PATCH", `${A}/datasets/shared`, { key: me.key, body: { displayName: `seen by ${me.role}` } })),
  },

  { action: "billingUsage.get", doing: "view billing usage", allowed: ALL, act: (h, me) => status(h.call("GET", `${A}/billingUsage`, { key: me.key })) },
  {
    action: "inference.run",
    doing: "run inference",
    allowed: ALL,
    act: async (h, me) => {
      const res = await infer(h, me.key, chat("accounts/fireworks/models/tiny-public"));
      await res.arrayBuffer();
      return res.status;
    },
  },
];

/** A webhook's body: a public https URL (never called here: the account's events it subscribes to do not happen). */
const WEBHOOK = { url: "https://hooks.example.com/hearth", events: ["api_key.leaked"] };

function idp(n: number) {
  return { oidcConfig: { issuerUrl: `https://idp-${n}.example.com`, clientId: `client-${n}` } };
}

test("every action of the vocabulary has a cell over HTTP", () => {
  assert.deepEqual([...new Set(CELLS.map((c) => c.action))], [...ACTION_NAMES]);
});

for (const dialect of DIALECTS) {
  describe(`the permission matrix over HTTP (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    const me: Partial<Record<Role, Me>> = {};
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      await serviceAccountWithKey(h, "bystander");
      for (const role of ROLES) me[role] = { role, self: `sa-${role}`, ...(await serviceAccountWithKey(h, `sa-${role}`, role)) };
      const setup: Array<[string, string, unknown]> = [
        ["POST", `${A}/identityProviders?identityProviderId=corp`, idp(0)],
        ["POST", `${A}/permissionPresets?permissionPresetId=viewer`, { actions: ["models.list"] }],
        ["POST", `${A}/webhooks?webhookId=hook`, WEBHOOK],
        ["POST", `${A}/models?modelId=shared`, { backend: "local" }],
        ["POST", `${A}/deployments?deploymentId=shared`, { baseModel: SHARED_MODEL }],
        ["POST", `${A}/datasets?datasetId=shared`, {}],
      ];
      for (const [method, url, body] of setup) {
        const res = await h.call(method, url, { body });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      assert.equal((await upload(h, h.adminKey, "my-account", "shared", JSONL)).status, 200);
    });
    after(() => stop());

    let n = 0;
    for (const cell of CELLS) {
      for (const role of ROLES) {
        const allowed = cell.allowed.includes(role);
        test(`${role} ${allowed ? "can" : "cannot"} ${cell.doing} (${cell.action})`, async () => {
          const got = await cell.act(h, me[role]!, n++);
          assert.equal(got, allowed ? (cell.ok ?? 200) : 403);
        });
      }
    }

    test("a non-admin cannot raise its own role", async () => {
      const res = await h.call("PATCH", `${A}/users/sa-contributor`, { key: me.contributor!.key, body: { role: "admin" } });
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
      assert.equal(entries[0].status.code, "PERMISSION_DENIED");
      assert.equal(entries[0].isAdminAction, true);
    });

    test("isAdminAction follows the action checked: its own key (apiKeys.create) is not, a service account's (apiKeys.createForServiceAccount) is", async () => {
      const entries = await auditEntries(h, 'message="CreateApiKey" AND email="sa-user@my-account.sa.hearth.local"');
      const own = entries.filter((e) => e.resource === `accounts/my-account/users/sa-user`);
      const theirs = entries.filter((e) => e.resource === `accounts/my-account/users/bystander`);
      assert.ok(own.length >= 1 && theirs.length >= 1, JSON.stringify(entries));
      assert.deepEqual(new Set(own.map((e) => [e.status.code, e.isAdminAction].join())), new Set(["OK,false"]));
      assert.deepEqual(new Set(theirs.map((e) => [e.status.code, e.isAdminAction].join())), new Set(["PERMISSION_DENIED,true"]));
    });

    test("isAdminAction is true even when the other principal does not exist (the action is chosen from the path)", async () => {
      const res = await h.call("POST", `${A}/users/nobody-here/apiKeys`, { body: { apiKey: {} } });
      assert.equal(res.status, 404);
      const [entry] = await auditEntries(h, 'message="CreateApiKey" AND resource="accounts/my-account/users/nobody-here"');
      assert.equal(entry.status.code, "NOT_FOUND");
      assert.equal(entry.isAdminAction, true);
    });

    test("managing others' resources is not an admin action: a contributor's refused update is audited without it", async () => {
      const entries = await auditEntries(h, 'message="UpdateModel" AND email="sa-contributor@my-account.sa.hearth.local"');
      assert.ok(entries.length >= 1);
      assert.equal(entries[0].status.code, "PERMISSION_DENIED");
      assert.equal(entries[0].isAdminAction, false);
      const quota = await auditEntries(h, 'message="UpdateQuota" AND email="sa-admin@my-account.sa.hearth.local"');
      assert.equal(quota[0].status.code, "OK");
      assert.equal(quota[0].isAdminAction, true, "an admin's quota change is an admin action");
    });
  });
}
