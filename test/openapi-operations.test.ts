import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createSigninLink } from "../src/service/signin-links.ts";
import { insertBinding } from "../src/store/identity-bindings.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { operationsOf, schemaValidator, type OpenApiDocument, type Operation } from "./support/openapi.ts";
import { OperationCaller } from "./support/openapi-calls.ts";
import { startPlatform } from "./support/platform.ts";
import { enqueueWebhookEvent } from "../src/service/webhook-events.ts";

/**
 * Generated from `/openapi.json`: every operation is called once with a request built from its
 * declared examples, as the admin, against a Hearth whose inference backend is a model server the
 * test owns; its answer must match the operation's declared response schema.
 */

/** Operations that cannot be called without an external peer, and why. */
const SKIPPED: Record<string, string> = {
  StartOidcSignIn: "redirects to the authorization endpoint of a live OpenID provider, read from its discovery document",
  StartCliSignIn: "redirects to the authorization endpoint of a live OpenID provider, read from its discovery document",
  FinishOidcSignIn: "needs the authorization code an OpenID provider issues once a person signed in there",
  RedeemCliSignIn: "redeems a one-time code that only a sign-in completed at an OpenID provider produces",
  RefreshCliSignIn: "trades a refresh token at an OpenID provider's token endpoint",
  SignOutCli: "takes a refresh token that only a sign-in completed at an OpenID provider produces (test/firectl-signin.test.ts)",
  ReportApiKeyLeak: "takes a report signed by a secret scanner's key or carrying the operator's shared secret, not a bearer key (test/leak-reports.test.ts)",
};

/** Bodies in a format Hearth does not own, whose fields are not Hearth's to refuse, and why. */
const FOREIGN_BODIES: Record<string, string> = {
  ReportApiKeyLeak: "GitHub's secret-scanning partner format: a field GitHub adds must not make a leak report fail",
};

/** Run first, in this order: each makes what later ones name (a deployment's example names the model's). */
const FIRST = [
  "CreateUser",
  "CreateApiKey",
  "CreateModel",
  "CreateDeployment",
  "CreateDataset",
  "UploadDataset",
  "CreateIdentityProvider",
  "CreatePermissionPreset",
  "CreateWebhook",
  "CreateAuditSink",
];

/** Run last, in this order (a deployment before its model); each deletes what the suite made. */
const LAST = [
  "DeleteApiKey",
  "DeleteApiKey_delete",
  "DeleteDeployment",
  "DeleteModel",
  "DeleteDataset",
  "DeleteIdentityProvider",
  "DeletePermissionPreset",
  "DeleteAuditSink",
  "DeleteWebhook",
  "DeleteUser",
];

type Setup = (h: TestHearth, caller: OperationCaller, op: Operation) => Promise<Record<string, string>>;

/** State no operation of the API makes, set up right before the operation that needs it; returns path values. */
const SETUP: Record<string, Setup> = {
  // A binding is made by a person's first sign-in through the provider: written as that sign-in does.
  UnbindIdentity: async (h, caller, op) => {
    const userId = await caller.hold("/v1/accounts/{accountId}/users");
    const identityProvider = String(op.requestBody?.content["application/json"]?.schema.examples?.[0]?.identityProvider);
    const row = {
      account_id: h.accountId,
      user_id: userId,
      identity_provider_id: identityProvider,
      issuer: "https://login.example.com",
      subject: "248289761001",
    };
    await insertBinding(h.deps.store.db, { ...row, create_time: Date.now() });
    return {};
  },
  // An upload URL is for a dataset still UPLOADING (the suite's own is READY by now).
  GetDatasetUploadEndpoint: async (h) => ({ datasetId: await uploadingDataset(h, "signed-endpoint") }),
  // A signed URL's path and query come from :getUploadEndpoint / :getDownloadEndpoint, for the example's size.
  PutSignedDatasetFile: async (h, _caller, op) => {
    const datasetId = await uploadingDataset(h, "signed-put");
    const size = Buffer.byteLength(String(op.requestBody?.content["application/jsonl"]?.schema.examples?.[0]));
    const res = await h.call("POST", `/v1/accounts/${h.accountId}/datasets/${datasetId}:getUploadEndpoint`, {
      body: { filenameToSize: { "train.jsonl": String(size) } },
    });
    return signedUrlValues(res.body.filenameToSignedUrls["train.jsonl"]);
  },
  GetSignedDatasetFile: async (h, caller) => {
    const datasetId = await caller.hold(`/v1/accounts/{accountId}/datasets`);
    const res = await h.call("GET", `/v1/accounts/${h.accountId}/datasets/${datasetId}:getDownloadEndpoint`);
    return signedUrlValues(Object.values<string>(res.body.filenameToSignedUrls)[0]!);
  },
  // Only a deleted deployment can be undeleted: one of the operator's public model, soft-deleted.
  UndeleteDeployment: async (h) => {
    const base = `/v1/accounts/${h.accountId}/deployments`;
    const created = await h.call("POST", `${base}?deploymentId=undeletable`, { body: { baseModel: "accounts/fireworks/models/tiny-public" } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal((await h.call("DELETE", `${base}/undeletable`)).status, 200);
    return { deploymentId: "undeletable" };
  },
  // A delivery is made by an event the webhook subscribes to (its example's first type) while it is enabled.
  RedeliverWebhookDelivery: async (h, caller) => {
    const webhookId = await caller.hold(`/v1/accounts/{accountId}/webhooks`);
    // UpdateWebhook's example disabled it; a disabled webhook is sent nothing.
    await h.call("PATCH", `/v1/accounts/${h.accountId}/webhooks/${webhookId}?updateMask=state`, { body: { state: "ENABLED" } });
    await enqueueWebhookEvent(h.deps.store.db, h.accountId, "api_key.expiring", {});
    const res = await h.call("GET", `/v1/accounts/${h.accountId}/webhooks/${webhookId}/deliveries`);
    return { webhookId, deliveryId: res.body.webhookDeliveries[0].name.split("/").pop() };
  },
  // A sign-in link is made by the operator (`hearth signin-link`).
  RedeemSigninLink: async (h) => {
    const link = await createSigninLink(h.deps, h.accountId, h.deps.config.adminEmail, h.baseUrl);
    return { token: link.url.slice(link.url.lastIndexOf("/") + 1) };
  },
};

/** Creates an empty dataset (state UPLOADING) named `datasetId`. */
async function uploadingDataset(h: TestHearth, datasetId: string): Promise<string> {
  const res = await h.call("POST", `/v1/accounts/${h.accountId}/datasets?datasetId=${datasetId}`, { body: {} });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return datasetId;
}

/** A signed dataset URL's path values and query, for `OperationCaller.build`. */
function signedUrlValues(url: string): Record<string, string> {
  const parsed = new URL(url);
  const [, datasetId, filename] = /\/datasets\/([^/]+)\/files\/([^/]+)$/.exec(parsed.pathname) ?? assert.fail(`not a signed file URL: ${url}`);
  return { datasetId: datasetId!, filename: decodeURIComponent(filename!), ...Object.fromEntries(parsed.searchParams) };
}

/** The order the suite calls operations in: FIRST, then the rest in document order, then LAST. */
function ordered(ops: Operation[]): Operation[] {
  const byId = (id: string) => ops.find((o) => o.operationId === id) ?? assert.fail(`no operation ${id} in /openapi.json`);
  const middle = ops.filter((o) => !FIRST.includes(o.operationId) && !LAST.includes(o.operationId));
  return [...FIRST.map(byId), ...middle, ...LAST.map(byId)];
}

/** The OpenAI-compatible operations (they answer OpenAI's error shape): they make nothing, and keep body fields Hearth does not know. */
const openAiCompatible = (op: Operation): boolean => op.responses.default?.content?.["application/json"]?.schema.$ref === "#/components/schemas/OpenAIError";

/** Where the answer departs from the schema, one line per mismatch (instance path, rule, detail). */
function mismatches(errors: ReadonlyArray<{ instancePath: string; message?: string | undefined; params: unknown }>): string {
  return errors.map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`).join("\n");
}

for (const dialect of DIALECTS) {
  describe(`every operation of /openapi.json, called validly (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let doc: OpenApiDocument;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      doc = (await h.call("GET", "/openapi.json", { key: null })).body;
    });
    after(() => stop());

    test("the suite's lists name operations that exist; every creation and deletion is ordered", () => {
      const ops = operationsOf(doc);
      const ids = new Set(ops.map((o) => o.operationId));
      for (const id of [...Object.keys(SKIPPED), ...FIRST, ...LAST, ...Object.keys(SETUP)]) assert.ok(ids.has(id), `${id} is not an operation`);
      const unordered = [...ids].filter((id) => /^(Create|Delete)/.test(id) && !SKIPPED[id] && !FIRST.includes(id) && !LAST.includes(id));
      const inference = new Set(ops.filter(openAiCompatible).map((o) => o.operationId));
      assert.ok(inference.has("CreateChatCompletion") && inference.has("CreateEmbeddings"));
      assert.deepEqual(
        unordered.filter((id) => !inference.has(id)),
        [],
      );
    });

    test("each answers its example request with its declared response", async (t) => {
      const compile = schemaValidator(doc);
      const caller = new OperationCaller(h, doc, operationsOf(doc));
      let covered = 0;
      const all = ordered(operationsOf(doc));
      for (const op of all) {
        const title = `${op.operationId} ${op.method} ${op.path}`;
        const skip = SKIPPED[op.operationId];
        if (skip) {
          await t.test(title, { skip }, () => undefined);
          continue;
        }
        await t.test(title, async () => {
          const given = (await SETUP[op.operationId]?.(h, caller, op)) ?? {};
          const req = await caller.build(op, given);
          const res = await caller.send(req);
          const text = await res.text();
          const declared = op.responses[String(res.status)];
          assert.ok(res.status < 400 && declared, `${req.init.method} ${req.url} answered ${res.status} (declared: ${Object.keys(op.responses)}): ${text}`);
          if (res.status === 302) {
            assert.ok(res.headers.get("location"), "a redirect without Location");
          } else {
            const [type, media] = Object.entries(declared.content ?? {})[0] ?? assert.fail("no content declared");
            assert.ok(res.headers.get("content-type")?.startsWith(type), `content-type ${res.headers.get("content-type")}, declared ${type}`);
            const body: unknown = type === "application/json" ? JSON.parse(text) : text;
            const validate = compile(media.schema);
            if (!validate(body)) assert.fail(`the answer does not match the declared schema:\n${mismatches(validate.errors ?? [])}\n${text.slice(0, 2000)}`);
            caller.record(op, body);
          }
          if (LAST.includes(op.operationId) && req.target) caller.forget(req.target);
          covered++;
        });
      }
      const skipped = all.filter((o) => SKIPPED[o.operationId]).length;
      t.diagnostic(`${covered} operations called and validated, ${skipped} skipped, of ${all.length}`);
      assert.equal(covered + skipped, all.length);
    });

    test("every JSON request body refuses a field it does not declare, naming it, and accepts proto names", async (t) => {
      // OpenAI-compatible bodies keep fields Hearth does not know: upstream models take many.
      let checked = 0;
      for (const op of operationsOf(doc)) {
        const schema = op.requestBody?.content["application/json"]?.schema;
        if (!schema || openAiCompatible(op) || FOREIGN_BODIES[op.operationId]) continue;
        await t.test(`${op.operationId} ${op.method} ${op.path}`, async () => {
          // The body is read before anything is looked up: any well-formed ids do.
          const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === "accountId" ? h.accountId : "some-id"));
          const example = (schema.examples?.[0] ?? {}) as Record<string, unknown>;
          const send = (body: unknown) =>
            fetch(`${h.baseUrl}${url}`, {
              method: op.method.toUpperCase(),
              headers: { authorization: `Bearer ${h.adminKey}`, "content-type": "application/json" },
              body: JSON.stringify(body),
            });
          const res = await send({ ...example, notAField: 1 });
          const text = await res.text();
          assert.equal(res.status, 400, text);
          assert.match(JSON.parse(text).error.message, /unknown field "notAField"/);
          // The same example under proto (snake_case) names is not refused as unknown.
          const snake = Object.fromEntries(Object.entries(example).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
          const proto = await (await send(snake)).text();
          assert.doesNotMatch(proto, /unknown field/, `${op.operationId} with proto names: ${proto}`);
          checked++;
        });
      }
      t.diagnostic(`${checked} operations with JSON bodies checked`);
      assert.ok(checked >= 10, `only ${checked} operations have JSON bodies`);
    });
  });
}
