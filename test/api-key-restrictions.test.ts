import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { account, chat, infer, setQuota, startPlatform } from "./support/platform.ts";
import type { FakeUpstream } from "./support/model-server.ts";

/**
 * Per-key restrictions over HTTP: scopes (∩ the owner's current role), allowedModels on the
 * OpenAI-compatible routes, allowedCidrs on every route (before any quota), and the per-key limits'
 * storage; each refusal a sentence naming what refused it.
 */

const A = "/v1/accounts/my-account";
const TINY = "accounts/fireworks/models/tiny-public";
const EMBED = "accounts/fireworks/models/nomic-embed-text-v1-5";
const INSIDE = "203.0.113.9";
const OUTSIDE = "198.51.100.7";

/** A key of `userId` with `restrictions`, made by the admin (or by `by`). */
async function keyWith(h: TestHearth, userId: string, restrictions: Record<string, unknown>, by?: string) {
  const res = await h.call("POST", `${A}/users/${userId}/apiKeys`, { body: { apiKey: restrictions }, ...(by ? { key: by } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { key: string; keyId: string } & Record<string, unknown>;
}

const from = (address: string) => ({ "x-forwarded-for": address });

function inferFrom(h: TestHearth, key: string, address: string, body: Record<string, unknown>, path = "/inference/v1/chat/completions"): Promise<Response> {
  return fetch(`${h.baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...from(address) },
    body: JSON.stringify(body),
  });
}

for (const dialect of DIALECTS) {
  describe(`API key restrictions over HTTP (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect, {}, { HEARTH_TRUST_PROXY: "true" }));
      await serviceAccountWithKey(h, "viewer", "inference-user");
    });
    after(() => stop());

    test("restrictions are stored on create, shown on get, changed and lifted by UpdateApiKey", async () => {
      await serviceAccountWithKey(h, "sa-stored", "user");
      const made = await keyWith(h, "sa-stored", {
        scopes: ["models.list", "inference.run", "models.list"],
        allowedModels: [TINY, "accounts/my-account/models/*"],
        allowedCidrs: ["203.0.113.0/24", "2001:DB8::/32", "192.0.2.1"],
        rpm: 60,
        tpm: 10000,
        monthlySpendUsd: 12.5,
      });
      assert.ok(made.key);
      const path = `${A}/users/sa-stored/apiKeys/${made.keyId}`;
      const got = await h.call("GET", path);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.scopes, ["models.list", "inference.run"], "de-duplicated");
      assert.deepEqual(got.body.allowedModels, [TINY, "accounts/my-account/models/*"]);
      assert.deepEqual(got.body.allowedCidrs, ["203.0.113.0/24", "2001:db8::/32", "192.0.2.1/32"], "canonical networks; a bare address is itself");
      assert.equal(got.body.rpm, 60);
      assert.equal(got.body.tpm, 10000);
      assert.equal(got.body.monthlySpendUsd, 12.5);

      const patched = await h.call("PATCH", `${path}?updateMask=rpm,allowedCidrs,displayName`, { body: { rpm: 5, displayName: "narrow" } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.rpm, 5);
      assert.equal(patched.body.allowedCidrs, undefined, "named in the mask without a value: lifted");
      assert.equal(patched.body.displayName, "narrow");
      assert.equal(patched.body.tpm, 10000, "not in the mask: unchanged");

      const noMask = await h.call("PATCH", path, { body: { monthlySpendUsd: 0, scopes: [] } });
      assert.equal(noMask.status, 200);
      assert.equal(noMask.body.monthlySpendUsd, undefined);
      assert.equal(noMask.body.scopes, undefined);
      const again = await h.call("GET", path);
      assert.deepEqual(
        { rpm: again.body.rpm, tpm: again.body.tpm, scopes: again.body.scopes, allowedModels: again.body.allowedModels },
        { rpm: 5, tpm: 10000, scopes: undefined, allowedModels: [TINY, "accounts/my-account/models/*"] },
      );
      const readBack = await h.call("PATCH", path, { body: { ...again.body, rpm: 7 } });
      assert.equal(readBack.status, 200, `the key read back is accepted whole: ${JSON.stringify(readBack.body)}`);
      assert.equal(readBack.body.rpm, 7);
      assert.equal(readBack.body.prefix, again.body.prefix);
      const [entry] = await auditEntries(h, `method="UpdateApiKey" AND resource="accounts/my-account/users/sa-stored/apiKeys/${made.keyId}"`);
      assert.ok(entry, "the update is audited");
    });

    test("bad restrictions are 400s naming the field and the value", async () => {
      await serviceAccountWithKey(h, "sa-bad", "user");
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ scopes: ["models.list", "models.fly"] }, /unknown scope "models\.fly" in scopes/],
        [{ allowedCidrs: ["10.0.0.0/33"] }, /allowedCidrs entry "10\.0\.0\.0\/33"/],
        [{ allowedCidrs: ["10.0.0.1/8"] }, /allowedCidrs entry "10\.0\.0\.1\/8": host bits are set; the network is 10\.0\.0\.0\/8/],
        [{ allowedCidrs: ["corp-vpn"] }, /allowedCidrs entry "corp-vpn"/],
        [{ allowedModels: ["tiny-public"] }, /allowedModels entry "tiny-public"/],
        [{ allowedModels: ["accounts/*/models/x"] }, /allowedModels entry "accounts\/\*\/models\/x"/],
        [{ rpm: -1 }, /rpm/],
        [{ tpm: 1.5 }, /tpm/],
        [{ monthlySpendUsd: 5_000_000 }, /monthlySpendUsd must be between 0/],
        [{ budget: 5 }, /unknown field "budget"/],
      ];
      for (const [fields, message] of cases) {
        const created = await h.call("POST", `${A}/users/sa-bad/apiKeys`, { body: { apiKey: fields } });
        assert.equal(created.status, 400, `create ${JSON.stringify(fields)}: ${JSON.stringify(created.body)}`);
        assert.match(created.body.error.message, message);
      }
      const { keyId } = await keyWith(h, "sa-bad", {});
      const patched = await h.call("PATCH", `${A}/users/sa-bad/apiKeys/${keyId}`, { body: { allowedCidrs: ["300.1.2.3/8"] } });
      assert.equal(patched.status, 400);
      assert.match(patched.body.error.message, /allowedCidrs entry "300\.1\.2\.3\/8"/);
      const masked = await h.call("PATCH", `${A}/users/sa-bad/apiKeys/${keyId}?updateMask=prefix`, { body: {} });
      assert.equal(masked.status, 400);
      assert.match(masked.body.error.message, /field "prefix" cannot be updated/);
    });

    test("a scoped key is refused any action outside its scopes, with a sentence naming the scope", async () => {
      await serviceAccountWithKey(h, "sa-scoped", "user");
      const { key } = await keyWith(h, "sa-scoped", { scopes: ["models.list", "accounts.get"] });
      assert.equal((await h.call("GET", `${A}/models`, { key })).status, 200);
      const refused = await h.call("GET", `${A}/users`, { key });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /this API key's scopes do not include "users\.list"/);
      const denied = await infer(h, key, chat(TINY));
      assert.equal(denied.status, 403);
      assert.match(((await denied.json()) as any).error.message, /scopes do not include "inference\.run"/);
      const [entry] = await auditEntries(h, 'method="ListUsers" AND status:"PERMISSION_DENIED"');
      assert.ok(entry, "the refusal is audited");
    });

    test("a key's scopes cannot go beyond its owner's role, and a role downgrade narrows the key on its next request", async () => {
      const beyond = await h.call("POST", `${A}/users/viewer/apiKeys`, { body: { apiKey: { scopes: ["models.list", "models.create"] } } });
      assert.equal(beyond.status, 403);
      assert.match(beyond.body.error.message, /scopes models\.create are beyond the role "inference-user" of the key's owner "viewer"/);

      await serviceAccountWithKey(h, "builder", "contributor");
      const { key, keyId } = await keyWith(h, "builder", { scopes: ["models.create", "models.list"] });
      const made = await h.call("POST", `${A}/models?modelId=built-1`, { key, body: { backend: "local" } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      // The key is cached now; the downgrade drops it on every process.
      assert.equal((await h.call("PATCH", `${A}/users/builder`, { body: { role: "inference-user" } })).status, 200);
      const refused = await h.call("POST", `${A}/models?modelId=built-2`, { key, body: { backend: "local" } });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /role "inference-user" cannot create models/);
      assert.equal((await h.call("GET", `${A}/models`, { key })).status, 200, "a scope the new role still holds still works");
      const widen = await h.call("PATCH", `${A}/users/builder/apiKeys/${keyId}`, { body: { scopes: ["models.create"] } });
      assert.equal(widen.status, 403, "nor can the key be widened beyond the new role");
      assert.match(widen.body.error.message, /models\.create are beyond the role "inference-user"/);
    });

    test("a scoped key creates keys only with apiKeys.create, and never with wider scopes than its own", async () => {
      await serviceAccountWithKey(h, "sa-minter", "user");
      const without = await keyWith(h, "sa-minter", { scopes: ["models.list"] });
      const refused = await h.call("POST", `${A}/users/sa-minter/apiKeys`, { key: without.key, body: { apiKey: { scopes: ["models.list"] } } });
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /scopes do not include "apiKeys\.create"/);

      const minter = await keyWith(h, "sa-minter", { scopes: ["apiKeys.create", "apiKeys.get", "models.list"] });
      const narrower = await h.call("POST", `${A}/users/sa-minter/apiKeys`, { key: minter.key, body: { apiKey: { scopes: ["models.list"] } } });
      assert.equal(narrower.status, 200, JSON.stringify(narrower.body));
      const wider = await h.call("POST", `${A}/users/sa-minter/apiKeys`, { key: minter.key, body: { apiKey: { scopes: ["models.list", "users.list"] } } });
      assert.equal(wider.status, 403);
      assert.match(wider.body.error.message, /this API key cannot give an API key scopes beyond its own: its scopes do not include users\.list/);
      const unscoped = await h.call("POST", `${A}/users/sa-minter/apiKeys`, { key: minter.key, body: { apiKey: {} } });
      assert.equal(unscoped.status, 403);
      assert.match(
        unscoped.body.error.message,
        /limited to scopes apiKeys\.create, apiKeys\.get, models\.list: a key it creates or changes must set scopes within them/,
      );
      const widenSelf = await h.call("PATCH", `${A}/users/sa-minter/apiKeys/${minter.keyId}`, { key: minter.key, body: { scopes: ["users.list"] } });
      assert.equal(widenSelf.status, 403);
      assert.match(widenSelf.body.error.message, /scopes do not include "apiKeys\.update"/);

      // An admin's scoped key cannot mint an unscoped service-account key (that would be the account's whole role).
      const adminId = (await h.call("GET", "/verifyApiKey")).body.userId;
      const adminScoped = await keyWith(h, adminId, { scopes: ["apiKeys.createForServiceAccount", "models.list"] });
      const sa = await h.call("POST", `${A}/users/sa-minter/apiKeys`, { key: adminScoped.key, body: { apiKey: {} } });
      assert.equal(sa.status, 403);
      assert.match(sa.body.error.message, /must set scopes within them/);
      const saScoped = await h.call("POST", `${A}/users/sa-minter/apiKeys`, { key: adminScoped.key, body: { apiKey: { scopes: ["models.list"] } } });
      assert.equal(saScoped.status, 200, JSON.stringify(saScoped.body));
    });

    test("allowedModels: a model outside the list is refused on every OpenAI-compatible route as a missing model is; the model list shows only allowed ones", async () => {
      await serviceAccountWithKey(h, "sa-models", "user");
      const { key } = await keyWith(h, "sa-models", { allowedModels: [EMBED] });
      const before = up.requests.length;
      const refusal = (model: string) => ({
        error: {
          message: `model "${model}" does not exist, or is not among this API key's allowedModels`,
          type: "not_found_error",
          code: "model_not_found",
          param: null,
        },
      });
      for (const mount of ["/inference/v1", "/v1"]) {
        const res = await infer(h, key, chat(TINY), `${mount}/chat/completions`);
        assert.equal(res.status, 404);
        assert.deepEqual(await res.json(), refusal(TINY));
      }
      const completion = await infer(h, key, { model: TINY, prompt: "hi" }, "/inference/v1/completions");
      assert.equal(completion.status, 404);
      await completion.arrayBuffer();
      assert.equal(up.requests.length, before, "nothing reached the backend");
      const embedded = await infer(h, key, { model: EMBED, input: "hello" }, "/inference/v1/embeddings");
      assert.equal(embedded.status, 200);
      await embedded.arrayBuffer();
      // A model outside the list on the wrong endpoint: the same 404, not the 400 that would tell its
      // kind ("…is not an embedding model (kind HF_BASE_MODEL)", found by attacking this wave's work).
      const wrongEndpoint = await infer(h, key, { model: TINY, input: "hello" }, "/inference/v1/embeddings");
      assert.equal(wrongEndpoint.status, 404);
      assert.deepEqual(await wrongEndpoint.json(), refusal(TINY));

      const list = await h.call("GET", "/inference/v1/models", { key });
      assert.deepEqual(
        list.body.data.map((m: any) => m.id),
        [EMBED],
      );
      const one = await h.call("GET", `/inference/v1/models/${TINY}`, { key });
      assert.equal(one.status, 404);
      assert.deepEqual(one.body, refusal(TINY));

      const pattern = await keyWith(h, "sa-models", { allowedModels: ["accounts/fireworks/models/*"] });
      const ok = await infer(h, pattern.key, chat(TINY));
      assert.equal(ok.status, 200);
      await ok.arrayBuffer();
      const [entry] = await auditEntries(h, 'method="CreateChatCompletion" AND status:"NOT_FOUND" AND status:"allowedModels"');
      assert.ok(entry, "the refusal is audited");
    });

    test("allowedModels: a restricted key cannot tell a model it may not call from one that does not exist, on any route", async () => {
      await serviceAccountWithKey(h, "sa-probe", "user");
      assert.equal((await h.call("POST", `${A}/models?modelId=probe-secret`, { body: { backend: "local", upstreamModel: "tiny-upstream" } })).status, 200);
      for (const [id, backend, state] of [
        ["probe-ready", "local", "READY"],
        ["probe-down", "nowhere", "FAILED"],
      ] as const) {
        const dep = await h.call("POST", `${A}/deployments?deploymentId=${id}`, { body: { baseModel: `${A.slice(4)}/models/probe-secret`, backend } });
        assert.equal(dep.status, 200, JSON.stringify(dep.body));
        assert.equal(dep.body.state, state);
      }
      const { key } = await keyWith(h, "sa-probe", { allowedModels: [EMBED] });
      const before = up.requests.length;
      const answer = async (path: string, model: string, body: Record<string, unknown>) => {
        const res = await infer(h, key, { model, ...body }, path);
        const text = (await res.text()).replaceAll(model, "MODEL");
        return `${res.status} ${text}`;
      };
      // Each pair: something that exists (a public model, the account's model, a deployment up or
      // down, a model#deployment), and a name of the same shape that does not.
      const pairs = [
        [TINY, "accounts/fireworks/models/no-such-model"],
        [`${A.slice(4)}/models/probe-secret`, `${A.slice(4)}/models/no-such-model`],
        [`${A.slice(4)}/deployments/probe-ready`, `${A.slice(4)}/deployments/no-such-deployment`],
        [`${A.slice(4)}/deployments/probe-down`, `${A.slice(4)}/deployments/no-such-deployment`],
        [`${A.slice(4)}/models/probe-secret#${A.slice(4)}/deployments/probe-ready`, `${A.slice(4)}/models/probe-secret#${A.slice(4)}/deployments/no-such`],
        [`${EMBED}#${A.slice(4)}/deployments/probe-ready`, `${EMBED}#${A.slice(4)}/deployments/no-such-deployment`],
      ];
      for (const [path, body] of [
        ["/inference/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] }],
        ["/inference/v1/completions", { prompt: "hi" }],
        ["/inference/v1/embeddings", { input: "hi" }],
      ] as const) {
        for (const [existing, missing] of pairs) {
          const seen = await answer(path, existing!, body);
          assert.match(seen, /^404 /, `${path} ${existing}`);
          assert.equal(seen, await answer(path, missing!, body), `${path}: ${existing} answers as ${missing}`);
        }
      }
      assert.equal(up.requests.length, before, "nothing reached the backend");
      const get = async (model: string) => {
        const res = await h.call("GET", `/inference/v1/models/${model}`, { key });
        return `${res.status} ${JSON.stringify(res.body).replaceAll(model, "MODEL")}`;
      };
      assert.equal(await get(`${A.slice(4)}/models/probe-secret`), await get(`${A.slice(4)}/models/no-such-model`));
      assert.match(await get(`${A.slice(4)}/models/probe-secret`), /^404 /);
      // An unrestricted key of the same account still learns what is wrong.
      const open = await keyWith(h, "sa-probe", {});
      const down = await infer(h, open.key, chat(`${A.slice(4)}/deployments/probe-down`));
      assert.equal(down.status, 400);
      assert.match(((await down.json()) as any).error.message, /deployment "accounts\/my-account\/deployments\/probe-down" is /);
      const absent = await infer(h, open.key, chat(`${A.slice(4)}/models/no-such-model`));
      assert.equal(absent.status, 404);
      assert.match(((await absent.json()) as any).error.message, /^model "accounts\/my-account\/models\/no-such-model" not found$/);
    });

    test("allowedModels names deployments too: a deployment matches by its own name or by the model it serves", async () => {
      await serviceAccountWithKey(h, "sa-deployments", "user");
      assert.equal((await h.call("POST", `${A}/models?modelId=served`, { body: { backend: "local", upstreamModel: "tiny-upstream" } })).status, 200);
      for (const id of ["dep-a", "dep-b"]) {
        const dep = await h.call("POST", `${A}/deployments?deploymentId=${id}`, { body: { baseModel: "accounts/my-account/models/served" } });
        assert.equal(dep.status, 200, JSON.stringify(dep.body));
      }
      const byDeployment = await keyWith(h, "sa-deployments", { allowedModels: ["accounts/my-account/deployments/dep-a"] });
      const allowed = await infer(h, byDeployment.key, chat("accounts/my-account/deployments/dep-a"));
      assert.equal(allowed.status, 200, await allowed.clone().text());
      await allowed.arrayBuffer();
      for (const model of ["accounts/my-account/deployments/dep-b", "accounts/my-account/models/served"]) {
        const refused = await infer(h, byDeployment.key, chat(model));
        assert.equal(refused.status, 404, model);
        assert.match(((await refused.json()) as any).error.message, /is not among this API key's allowedModels/);
      }
      const byModel = await keyWith(h, "sa-deployments", { allowedModels: ["accounts/my-account/models/served"] });
      const served = await infer(h, byModel.key, chat("accounts/my-account/deployments/dep-b"));
      assert.equal(served.status, 200, "the deployment serves an allowed model");
      await served.arrayBuffer();
    });

    test("allowedCidrs: a request from elsewhere is refused on every route, audited with its address, before any quota", async () => {
      // An account of its own: its rate window holds only this test's requests.
      const C = "/v1/accounts/cidr-account";
      const { admin } = await account(h, "cidr-account", { "sa-cidrs": "user" });
      await setQuota(h, "cidr-account", "serverless-inference-rpm", 2, admin);
      const made = await h.call("POST", `${C}/users/sa-cidrs/apiKeys`, { key: admin, body: { apiKey: { allowedCidrs: ["203.0.113.0/24"], rpm: 2 } } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const { key, keyId } = made.body;
      const before = up.requests.length;
      const usageBefore = JSON.stringify((await h.call("GET", `${C}/billingUsage`, { key: admin })).body);
      for (let i = 0; i < 3; i++) {
        const res = await inferFrom(h, key, OUTSIDE, chat(TINY));
        assert.equal(res.status, 403);
        assert.match(
          ((await res.json()) as any).error.message,
          /this API key may not be used from address 198\.51\.100\.7: it is outside the key's allowedCidrs/,
        );
      }
      assert.equal(up.requests.length, before, "nothing reached the backend");
      assert.equal(JSON.stringify((await h.call("GET", `${C}/billingUsage`, { key: admin })).body), usageBefore, "nothing was spent");

      // The window is untouched: both requests of the minute still pass from inside, the third does not.
      for (let i = 0; i < 2; i++) {
        const res = await inferFrom(h, key, INSIDE, chat(TINY, "hi", { max_tokens: 5 }));
        assert.equal(res.status, 200, await res.clone().text());
        if (i === 0) assert.equal(res.headers.get("x-ratelimit-remaining-requests"), "1", "the refused requests took nothing from the window");
        await res.arrayBuffer();
      }
      const third = await inferFrom(h, key, INSIDE, chat(TINY));
      assert.equal(third.status, 429, "the window does count requests from inside");
      await third.arrayBuffer();

      // The control plane and /verifyApiKey too.
      const control = await h.call("GET", C, { key, headers: from(OUTSIDE) });
      assert.equal(control.status, 403);
      assert.match(control.body.error.message, /198\.51\.100\.7/);
      assert.equal((await h.call("GET", C, { key, headers: from(INSIDE) })).status, 200);
      assert.equal((await h.call("GET", "/verifyApiKey", { key, headers: from(OUTSIDE) })).status, 403);
      assert.equal((await h.call("GET", "/verifyApiKey", { key, headers: from(INSIDE) })).status, 200);

      const filter = encodeURIComponent(`status:"PERMISSION_DENIED" AND api_key_id="${keyId}"`);
      const entries = (await h.call("GET", `${C}/auditLogs?pageSize=200&filter=${filter}`, { key: admin })).body.auditLogs as any[];
      assert.equal(entries.length, 5, "every refusal audited");
      assert.deepEqual(new Set(entries.map((e) => e.clientIp)), new Set([OUTSIDE]), "with its client address");
      assert.deepEqual(entries.map((e) => e.method).sort(), [
        "CreateChatCompletion",
        "CreateChatCompletion",
        "CreateChatCompletion",
        "GetAccount",
        "VerifyApiKey",
      ]);

      // Lifting the restriction applies on the key's next request (its cached principal is dropped).
      assert.equal((await h.call("PATCH", `${C}/users/sa-cidrs/apiKeys/${keyId}`, { key: admin, body: { allowedCidrs: [] } })).status, 200);
      assert.equal((await h.call("GET", C, { key, headers: from(OUTSIDE) })).status, 200);
    });

    test("a restriction added to a cached key holds from its next request; IPv6 networks match", async () => {
      await serviceAccountWithKey(h, "sa-cached", "user");
      const { key, keyId } = await keyWith(h, "sa-cached", {});
      assert.equal((await h.call("GET", A, { key, headers: from(OUTSIDE) })).status, 200);
      const patched = await h.call("PATCH", `${A}/users/sa-cached/apiKeys/${keyId}?updateMask=allowedCidrs`, { body: { allowedCidrs: ["2001:db8::/32"] } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((await h.call("GET", A, { key, headers: from(OUTSIDE) })).status, 403);
      assert.equal((await h.call("GET", A, { key, headers: from("2001:db8::5") })).status, 200);
    });
  });
}
