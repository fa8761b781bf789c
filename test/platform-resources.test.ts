import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AuditLog } from "../src/http/resources/audit-log.ts";
import type { Dataset } from "../src/http/resources/dataset.ts";
import type { Deployment } from "../src/http/resources/deployment.ts";
import type { Model } from "../src/http/resources/model.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries, serviceAccountWithKey } from "./support/fixtures.ts";
import { account, setQuota, startPlatform, upload } from "./support/platform.ts";
import type { FakeUpstream } from "./support/model-server.ts";

/** One line of chat data (a dataset's default format). */
const CHAT_LINE = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}';
const A = "/v1/accounts/my-account";
const TINY = "accounts/my-account/models/tiny";
const MAX_UPLOAD = 64 * 1024;

for (const dialect of DIALECTS) {
  describe(`models, deployments and datasets (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let maker: string;
    let other: string;
    const chunkRows = async (datasetId: string) =>
      (await h.deps.store.db.selectFrom("dataset_chunks").select("seq").where("dataset_id", "=", datasetId).execute()).length;

    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect, { datasets: { maxUploadBytes: MAX_UPLOAD } }));
      maker = (await serviceAccountWithKey(h, "maker", "contributor")).key;
      other = (await serviceAccountWithKey(h, "other", "contributor")).key;
    });
    after(() => stop());

    test("models: create, get, list with filter and paging, update with a mask, delete; every change audited by email", async () => {
      const created = await h.call("POST", `${A}/models?modelId=tiny`, {
        key: maker,
        body: { model: { displayName: "Tiny", backend: "local", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 0.2 } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(
        { ...created.body, createTime: undefined, updateTime: undefined },
        {
          name: TINY,
          displayName: "Tiny",
          description: "",
          backend: "local",
          upstreamModel: "tiny-upstream",
          kind: "HF_BASE_MODEL",
          inputPricePerMillionTokens: 0.2,
          outputPricePerMillionTokens: 0,
          state: "READY",
          status: { code: "OK", message: "" },
          public: false,
          createdBy: "maker@my-account.sa.hearth.local",
          createTime: undefined,
          updateTime: undefined,
        },
      );
      for (const id of ["alpha", "beta"]) {
        assert.equal((await h.call("POST", `${A}/models`, { key: other, body: { modelId: id, backend: "local" } })).status, 200);
      }
      assert.equal((await h.call("POST", `${A}/models?modelId=tiny`, { key: other, body: { backend: "local" } })).status, 409);
      const unknown = await h.call("POST", `${A}/models?modelId=gamma`, { key: other, body: { backend: "nope" } });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.message, /unknown backend "nope" \(backends: local, nowhere\)/);

      const page1 = await h.call("GET", `${A}/models?pageSize=2`);
      assert.deepEqual(
        page1.body.models.map((m: Model) => m.name.split("/").pop()),
        ["alpha", "beta"],
      );
      assert.equal(page1.body.totalSize, 3);
      const page2 = await h.call("GET", `${A}/models?pageSize=2&pageToken=${page1.body.nextPageToken}`);
      assert.deepEqual(
        page2.body.models.map((m: Model) => m.name.split("/").pop()),
        ["tiny"],
      );
      const filtered = await h.call(
        "GET",
        `${A}/models?filter=${encodeURIComponent('created_by="maker@my-account.sa.hearth.local"')}&orderBy=create_time desc`,
      );
      assert.deepEqual(
        filtered.body.models.map((m: Model) => m.name),
        [TINY],
      );
      assert.equal((await h.call("GET", `${A}/models?filter=colour%3Dred`)).status, 400);

      const masked = await h.call("PATCH", `${A}/models/tiny?updateMask=display_name`, { key: maker, body: { displayName: "Tiny 2", backend: "nowhere" } });
      assert.equal(masked.status, 200);
      assert.equal(masked.body.displayName, "Tiny 2");
      assert.equal(masked.body.backend, "local", "fields outside the mask do not change");
      const foreign = await h.call("PATCH", `${A}/models/tiny`, { key: other, body: { displayName: "mine" } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.body.error.message, 'role "contributor" cannot update models created by others');
      assert.equal((await h.call("DELETE", `${A}/models/alpha`)).status, 200, "an admin manages everything");

      const publicList = await h.call("GET", "/v1/accounts/fireworks/models", { key: other });
      assert.deepEqual(
        publicList.body.models.map((m: Model) => [m.name, m.kind]),
        [
          ["accounts/fireworks/models/nomic-embed-text-v1-5", "EMBEDDING_MODEL"],
          ["accounts/fireworks/models/tiny-public", "HF_BASE_MODEL"],
        ],
        "Fireworks' Model.kind",
      );
      assert.equal((await h.call("GET", "/v1/accounts/fireworks/models/tiny-public", { key: other })).body.public, true);
      assert.equal((await h.call("GET", "/v1/accounts/fireworks/models/nope", { key: other })).status, 404);

      const entries = await auditEntries(h, 'resource:"models/"');
      const methods = entries.map((e: AuditLog) => `${e.method} ${e.principal} ${e.status.code}`);
      assert.ok(methods.includes("CreateModel maker@my-account.sa.hearth.local OK"));
      assert.ok(methods.includes("UpdateModel maker@my-account.sa.hearth.local OK"));
      assert.ok(methods.includes("UpdateModel other@my-account.sa.hearth.local PERMISSION_DENIED"));
      assert.ok(methods.includes("DeleteModel admin@example.com OK"));
    });

    test("deployments are READY once the backend answers, FAILED with the reason when it does not, and probed again on update", async () => {
      const ready = await h.call("POST", `${A}/deployments?deploymentId=ready`, { key: maker, body: { baseModel: TINY, displayName: "ready" } });
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      assert.equal(ready.body.state, "READY");
      assert.equal(ready.body.backend, "local");
      const unreachable = await h.call("POST", `${A}/deployments?deploymentId=gone`, { key: maker, body: { baseModel: TINY, backend: "nowhere" } });
      assert.equal(unreachable.body.state, "FAILED");
      assert.match(unreachable.body.status.message, /^backend "nowhere" is unreachable \(connection refused\)$/);

      up.modelsStatus = 503;
      const sick = await h.call("POST", `${A}/deployments?deploymentId=sick`, { key: maker, body: { baseModel: "accounts/fireworks/models/tiny-public" } });
      assert.equal(sick.body.state, "FAILED");
      assert.equal(sick.body.status.message, 'backend "local" answered 503 to GET /models');
      // A backend that never answers fails the probe at its time limit (the deployments' probeTimeoutMs).
      up.modelsStatus = 0;
      const hung = await h.call("PATCH", `${A}/deployments/sick`, { key: maker, body: { displayName: "hung" } });
      assert.equal(hung.body.state, "FAILED");
      assert.equal(hung.body.status.message, 'backend "local" did not answer GET /models within 1000 ms');
      up.modelsStatus = 200;
      const healed = await h.call("PATCH", `${A}/deployments/sick`, { key: maker, body: { displayName: "healed" } });
      assert.equal(healed.body.state, "READY");
      assert.equal(healed.body.displayName, "healed");

      const list = await h.call("GET", `${A}/deployments?filter=state%3DFAILED`);
      assert.deepEqual(
        list.body.deployments.map((d: Deployment) => d.name),
        ["accounts/my-account/deployments/gone"],
      );
      const inUse = await h.call("DELETE", `${A}/models/tiny`, { key: maker });
      assert.equal(inUse.status, 400);
      assert.match(inUse.body.error.message, /is used by 2 deployment\(s\)/);
      assert.equal(
        (await h.call("POST", `${A}/deployments?deploymentId=x`, { key: maker, body: { baseModel: "accounts/elsewhere/models/tiny" } })).status,
        404,
      );
      for (const id of ["ready", "gone", "sick"]) assert.equal((await h.call("DELETE", `${A}/deployments/${id}`, { key: maker })).status, 200);
    });

    test("the deployments quota holds, also against concurrent creates", async () => {
      const acct = await account(h, "dep-quota", { builder: "contributor" });
      await h.call("POST", "/v1/accounts/dep-quota/models?modelId=m", { key: acct.admin, body: { backend: "local" } });
      await setQuota(h, "dep-quota", "deployments", 4, acct.admin);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          h.call("POST", `/v1/accounts/dep-quota/deployments?deploymentId=d${i}`, { key: acct.keys.builder!, body: { baseModel: "m" } }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 4);
      const refused = results.find((r) => r.status === 429)!;
      assert.equal(refused.body.error.message, 'quota "deployments" exceeded: 4 of 4 in use, this request needs 1 more');
      assert.equal((await h.call("GET", "/v1/accounts/dep-quota/quotas/deployments", { key: acct.admin })).body.usage, 4);
    });

    test("a dataset upload streams in, is validated line by line, and is readable back from the store", async () => {
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=good`, { key: maker, body: { dataset: { displayName: "Good" } } })).status, 200);
      const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ messages: [{ role: "user", content: `question ${i}` }] })).join("\r\n");
      const res = await upload(h, maker, "my-account", "good", `${lines}\n\n`);
      assert.equal(res.status, 200);
      const ds = (await res.json()) as Dataset;
      assert.equal(ds.state, "READY");
      assert.equal(ds.exampleCount, "500");
      const download = await fetch(`${h.baseUrl}${A}/datasets/good:download`, { headers: { authorization: `Bearer ${other}` } });
      assert.equal(await download.text(), `${lines.replaceAll("\r\n", "\n")}\n`);
      const again = await upload(h, maker, "my-account", "good", `${CHAT_LINE}\n`);
      assert.equal(again.status, 400, "a READY dataset's content is not replaced");
      const quota = await h.call("GET", `${A}/quotas/dataset-storage-bytes`);
      assert.equal(quota.body.usage, Number(ds.sizeBytes));
      assert.equal((await h.call("GET", `${A}/datasets/good`, { key: other })).body.exampleCount, "500");
      const foreign = await upload(h, other, "my-account", "good", `${CHAT_LINE}\n`);
      assert.equal(foreign.status, 403);
    });

    test("the body Fireworks' SDK and scripts send creates a dataset (userUploaded, exampleCount); a dataset read back whole updates it", async () => {
      // Found by a newcomer: {"dataset":{"userUploaded":{}}} was refused as an unknown field.
      const made = await h.call("POST", `${A}/datasets`, {
        body: { datasetId: "sdk-ds", dataset: { userUploaded: {}, exampleCount: "2", displayName: "SDK" } },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.deepEqual(made.body.userUploaded, {});
      assert.equal(made.body.exampleCount, "0", "counted at upload, not taken from the request");
      const bad = await h.call("POST", `${A}/datasets?datasetId=bad-ds`, { body: { dataset: { userUploaded: { bucket: "x" } } } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /unknown field "bucket" in dataset\.userUploaded/);
      const external = await h.call("POST", `${A}/datasets?datasetId=ext-ds`, { body: { dataset: { externalUrl: "gs://bucket/obj" } } });
      assert.equal(external.status, 400);
      assert.match(external.body.error.message, /unknown field "externalUrl"/);
      const read = (await h.call("GET", `${A}/datasets/sdk-ds`)).body;
      const renamed = await h.call("PATCH", `${A}/datasets/sdk-ds`, { body: { ...read, displayName: "SDK v2" } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.displayName, "SDK v2");
    });

    test("a bad JSONL line is refused naming the line, and nothing is stored", async () => {
      await h.call("POST", `${A}/datasets?datasetId=bad`, { key: maker, body: {} });
      const big = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(40_000) }] });
      const res = await upload(h, maker, "my-account", "bad", `${CHAT_LINE}\n${big}\n${CHAT_LINE}\n[1,2]\n{"never":"read"}\n`);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as any).error.message, "line 4 is not a JSON object");
      const notJson = await upload(h, maker, "my-account", "bad", `${CHAT_LINE}\n{"ok":\n`);
      assert.match(((await notJson.json()) as any).error.message, /^line 2 is not valid JSON/);
      const ds = await h.call("GET", `${A}/datasets/bad`);
      assert.equal(ds.body.state, "UPLOADING");
      assert.equal(ds.body.exampleCount, "0");
      assert.equal(await chunkRows("bad"), 0);
      const audit = await auditEntries(h, 'message="UploadDataset" AND status:"INVALID_ARGUMENT"');
      assert.equal(audit[0].principal, "maker@my-account.sa.hearth.local");
    });

    test("an oversized upload is refused naming the limit, and nothing is stored", async () => {
      await h.call("POST", `${A}/datasets?datasetId=huge`, { key: maker, body: {} });
      const line = `${JSON.stringify({ messages: [{ role: "user", content: "y".repeat(1000) }] })}\n`;
      const body = line.repeat(Math.ceil((MAX_UPLOAD * 3) / line.length));
      const res = await upload(h, maker, "my-account", "huge", body);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as any).error.message, `the upload is larger than the per-upload limit of ${MAX_UPLOAD} bytes`);
      // Without a Content-Length the limit is found while streaming.
      const chunked = await fetch(`${h.baseUrl}${A}/datasets/huge:upload`, {
        method: "POST",
        headers: { authorization: `Bearer ${maker}`, "content-type": "application/jsonl" },
        body: new Blob([body]).stream(),
        duplex: "half",
      } as RequestInit);
      assert.equal(chunked.status, 400);
      assert.match(((await chunked.json()) as any).error.message, /per-upload limit of 65536 bytes/);
      assert.equal(await chunkRows("huge"), 0);
      assert.equal((await h.call("GET", `${A}/datasets/huge`)).body.state, "UPLOADING");
    });

    test("the dataset-storage-bytes and datasets quotas hold, also for concurrent uploads", async () => {
      const acct = await account(h, "ds-quota", { loader: "contributor" });
      const key = acct.keys.loader!;
      const line = `${JSON.stringify({ messages: [{ role: "user", content: "z".repeat(58) }] })}\n`; // 102 bytes
      const body = line.repeat(100); // 10,200 bytes
      await setQuota(h, "ds-quota", "dataset-storage-bytes", 15_000, acct.admin);
      for (const id of ["one", "two"]) assert.equal((await h.call("POST", `/v1/accounts/ds-quota/datasets?datasetId=${id}`, { key, body: {} })).status, 200);
      const results = await Promise.all(["one", "two"].map((id) => upload(h, key, "ds-quota", id, body)));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 429]);
      const refused = (await results.find((r) => r.status === 429)!.json()) as any;
      assert.match(refused.error.message, /^quota "dataset-storage-bytes" exceeded: 10200 of 15000 in use, this request needs \d+ more$/);
      assert.equal((await h.call("GET", "/v1/accounts/ds-quota/quotas/dataset-storage-bytes", { key })).body.usage, 10_200);
      const stored = await h.deps.store.db.selectFrom("dataset_chunks").select("dataset_id").where("account_id", "=", "ds-quota").execute();
      assert.equal(new Set(stored.map((r) => r.dataset_id)).size, 1, "the refused upload left nothing behind");

      await setQuota(h, "ds-quota", "datasets", 2, acct.admin);
      const third = await h.call("POST", "/v1/accounts/ds-quota/datasets?datasetId=three", { key, body: {} });
      assert.equal(third.status, 429);
      assert.equal(third.body.error.message, 'quota "datasets" exceeded: 2 of 2 in use, this request needs 1 more');
      const done = results.findIndex((r) => r.status === 200);
      assert.equal((await h.call("DELETE", `/v1/accounts/ds-quota/datasets/${["one", "two"][done]}`, { key })).status, 200);
      assert.equal((await h.call("GET", "/v1/accounts/ds-quota/quotas/dataset-storage-bytes", { key })).body.usage, 0);
      assert.equal((await h.call("POST", "/v1/accounts/ds-quota/datasets?datasetId=three", { key, body: {} })).status, 200);
    });

    test("an upload that is not a raw JSONL body is refused with a clear message", async () => {
      await h.call("POST", `${A}/datasets?datasetId=wrong-type`, { key: maker, body: {} });
      const res = await h.call("POST", `${A}/datasets/wrong-type:upload`, { key: maker, body: { a: 1 } });
      assert.equal(res.status, 400);
      assert.match(
        res.body.error.message,
        /^:upload does not take Content-Type "application\/json": send the JSONL as the raw body with Content-Type application\/jsonl, /,
      );
    });

    test("regression: a multipart :upload with a second file part or a form field it does not take is refused and stores nothing", async () => {
      const send = (form: FormData) =>
        fetch(`${h.baseUrl}${A}/datasets/ds5:upload`, { method: "POST", headers: { authorization: `Bearer ${maker}` }, body: form });
      const a = `${CHAT_LINE}\n`;
      const b = `${CHAT_LINE}\n${CHAT_LINE}\n`;
      const file = (text: string, name: string) => new File([text], name, { type: "application/jsonl" });
      const refusedUploads = async () => (await auditEntries(h, 'method="UploadDataset" AND status:"INVALID_ARGUMENT"')).length;
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=ds5`, { key: maker, body: {} })).status, 200);
      const before = (await h.call("GET", `${A}/datasets/ds5`, { key: maker })).body;
      const refusedBefore = await refusedUploads();

      const refusals: Array<[string, (form: FormData) => void, RegExp]> = [
        [
          "two files",
          (f) => (f.append("file", file(a, "a.jsonl")), f.append("file", file(b, "b.jsonl"))),
          /^the multipart\/form-data body has more than one file part "file"/,
        ],
        [
          "a field after the file",
          (f) => (f.append("file", file(a, "a.jsonl")), f.append("bogus", "1")),
          /^unknown form field "bogus" in the multipart\/form-data body \(fields: file, purpose\)$/,
        ],
        ["a field before the file", (f) => (f.append("bogus", "1"), f.append("file", file(a, "a.jsonl"))), /^unknown form field "bogus"/],
        ["a file under another name", (f) => (f.append("file", file(a, "a.jsonl")), f.append("extra", file(b, "c.jsonl"))), /^unknown form field "extra"/],
        [
          "another purpose",
          (f) => (f.append("purpose", "batch"), f.append("file", file(a, "a.jsonl"))),
          /^form field "purpose" must be "fine-tune", not "batch"$/,
        ],
        [
          "purpose twice",
          (f) => (f.append("purpose", "fine-tune"), f.append("purpose", "fine-tune"), f.append("file", file(a, "a.jsonl"))),
          /given more than once/,
        ],
        ["the file as text", (f) => f.append("file", a), /^form field "file" must be a file part/],
      ];
      for (const [what, build, message] of refusals) {
        const form = new FormData();
        build(form);
        const res = await send(form);
        assert.equal(res.status, 400, `${what}: ${await res.clone().text()}`);
        assert.match(((await res.json()) as any).error.message, message, what);
        const now = (await h.call("GET", `${A}/datasets/ds5`, { key: maker })).body;
        assert.deepEqual([now.state, now.exampleCount, now.sizeBytes, now.updateTime], ["UPLOADING", "0", "0", before.updateTime], `${what} changes nothing`);
        assert.equal(await chunkRows("ds5"), 0, `${what} stores nothing`);
      }
      assert.equal(await refusedUploads(), refusedBefore + refusals.length, "each refusal is audited once");
      // The form OpenAI-style clients send: the file and purpose "fine-tune".
      const openai = new FormData();
      openai.append("purpose", "fine-tune");
      openai.append("file", file(a, "a.jsonl"));
      const stored = await send(openai);
      assert.equal(stored.status, 200, await stored.clone().text());
      assert.equal(((await stored.json()) as Dataset).exampleCount, "1");
      const download = await fetch(`${h.baseUrl}${A}/datasets/ds5:download`, { headers: { authorization: `Bearer ${maker}` } });
      assert.equal(await download.text(), a);
    });

    test("the multipart form upload Fireworks documents (curl -F file=@train.jsonl) works; a form without the file, or cut short, stores nothing", async () => {
      const send = (id: string, body: RequestInit["body"], headers: Record<string, string> = {}) =>
        fetch(`${h.baseUrl}${A}/datasets/${id}:upload`, { method: "POST", headers: { authorization: `Bearer ${maker}`, ...headers }, body });
      for (const id of ["form", "form-empty", "form-cut"])
        await h.call("POST", `${A}/datasets?datasetId=${id}`, { key: maker, body: { format: "COMPLETION" } });
      const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ prompt: `p${i}`, completion: `c${i}` })).join("\n");
      const form = new FormData();
      form.append("purpose", "fine-tune");
      form.append("file", new Blob([`${lines}\n`], { type: "application/jsonl" }), "train.jsonl");
      const res = await send("form", form);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as Dataset).exampleCount, "50");
      const download = await fetch(`${h.baseUrl}${A}/datasets/form:download`, { headers: { authorization: `Bearer ${maker}` } });
      assert.equal(await download.text(), `${lines}\n`);

      const noFile = new FormData();
      noFile.append("purpose", "fine-tune");
      const empty = await send("form-empty", noFile);
      assert.equal(empty.status, 400);
      assert.equal(((await empty.json()) as any).error.message, 'the multipart/form-data body has no file field named "file"');

      // The closing boundary never comes: the file's lines were valid, but the upload must not count.
      const cut = `--b0undary\r\nContent-Disposition: form-data; name="file"; filename="train.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${lines}\n`;
      const truncated = await send("form-cut", cut, { "content-type": "multipart/form-data; boundary=b0undary" });
      assert.equal(truncated.status, 400);
      assert.match(((await truncated.json()) as any).error.message, /^malformed multipart\/form-data body/);
      assert.equal((await h.call("GET", `${A}/datasets/form-cut`)).body.state, "UPLOADING");
      assert.equal(await chunkRows("form-cut"), 0);
      // Cut short inside a part that is not the file: refused the same way, and the server lives on.
      const cutOther = `--b0undary\r\nContent-Disposition: form-data; name="notes"; filename="notes.txt"\r\n\r\nhalf a no`;
      const other = await send("form-cut", cutOther, { "content-type": "multipart/form-data; boundary=b0undary" });
      assert.equal(other.status, 400);
      assert.match(((await other.json()) as any).error.message, /^malformed multipart\/form-data body/);
      const noBoundary = await send("form-cut", "x", { "content-type": "multipart/form-data" });
      assert.equal(noBoundary.status, 400);
      assert.match(((await noBoundary.json()) as any).error.message, /^malformed multipart\/form-data body/);
      // A part beside the file is refused once the form is read, which is bounded all the same (the
      // upload limit and 4 MiB of form), whether its length is declared or it streams without one.
      const huge = `--b0undary\r\nContent-Disposition: form-data; name="notes"; filename="n.txt"\r\n\r\n${"x".repeat(MAX_UPLOAD + 4 * 1024 * 1024 + 1)}\r\n--b0undary--\r\n`;
      const formType = { "content-type": "multipart/form-data; boundary=b0undary" };
      const declared = await send("form-cut", huge, formType);
      assert.equal(declared.status, 400);
      assert.match(((await declared.json()) as any).error.message, /^the multipart\/form-data body is larger than \d+ bytes/);
      const bytes = new TextEncoder().encode(huge);
      const streamed = await fetch(`${h.baseUrl}${A}/datasets/form-cut:upload`, {
        method: "POST",
        headers: { authorization: `Bearer ${maker}`, ...formType },
        body: new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
      assert.equal(streamed.status, 400);
      assert.match(((await streamed.json()) as any).error.message, /^the multipart\/form-data body is larger than \d+ bytes/);

      // /openapi.json describes both ways of sending the file.
      const upload = (await h.call("GET", "/openapi.json", { key: null })).body.paths["/v1/accounts/{accountId}/datasets/{datasetId}:upload"].post;
      assert.deepEqual(upload.requestBody.content["multipart/form-data"].schema.required, ["file"]);
      assert.equal(upload.requestBody.content["application/jsonl"].schema.format, "binary");

      // A form sent to a JSON route is refused, not read as an empty object.
      const toJson = await fetch(`${h.baseUrl}${A}/datasets?datasetId=via-form`, { method: "POST", headers: { authorization: `Bearer ${maker}` }, body: form });
      assert.equal(toJson.status, 400);
      assert.equal(((await toJson.json()) as any).error.message, "send the request body as JSON (Content-Type: application/json)");
      assert.equal((await h.call("GET", `${A}/datasets/via-form`)).status, 404);
    });
  });
}
