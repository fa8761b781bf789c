import assert from "node:assert/strict";
import { request, type ClientRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";
import { startPlatform } from "./support/platform.ts";
import { until } from "./support/until.ts";

/**
 * A dataset's upload and download while something else happens to it: bodies that stream in over
 * real HTTP while the dataset is deleted and created again, replaced by a signed PUT, or cut off by
 * the client, and a download cut by a delete. Each once ended in a stored file that was not the one
 * sent (or a download that looked complete); now each ends in a clear refusal, audited.
 */
const A = "/v1/accounts/my-account";

/** One CHAT example padded to exactly `bytes` bytes (newline included). */
function chatLine(bytes: number, fill = "a"): string {
  const base = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":""}]}\n';
  return base.replace('""}]', `"${fill.repeat(bytes - base.length)}"}]`);
}

/** A request whose body the test writes piece by piece: `req` to write or destroy it, `answer` its status and text. */
function streaming(url: string, method: string, headers: Record<string, string>): { req: ClientRequest; answer: Promise<{ status: number; text: string }> } {
  const req = request(url, { method, headers });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  return { req, answer };
}

for (const dialect of DIALECTS) {
  describe(`dataset uploads and downloads racing other changes (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let n = 0;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    const call = async (method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = { authorization: `Bearer ${h.adminKey}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${h.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const dataset = async (id = `race-${++n}`): Promise<string> => {
      const res = await call("POST", `${A}/datasets?datasetId=${id}`, {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return id;
    };
    const uploadUrl = async (id: string, size: number): Promise<string> => {
      const res = await call("POST", `${A}/datasets/${id}:getUploadEndpoint`, { filenameToSize: { "train.jsonl": String(size) } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.filenameToSignedUrls["train.jsonl"];
    };
    /** Stored chunks of the dataset: a streaming body has reached the handler once one is stored. */
    const chunkCount = async (id: string) => (await h.deps.store.db.selectFrom("dataset_chunks").select("seq").where("dataset_id", "=", id).execute()).length;
    const download = async (id: string) => {
      const res = await fetch(`${h.baseUrl}${A}/datasets/${id}:download`, { headers: { authorization: `Bearer ${h.adminKey}` } });
      return { status: res.status, length: res.headers.get("content-length"), text: await res.text() };
    };

    test("a signed PUT that finishes after its dataset was deleted and created again under the same id is refused 409 and stores nothing", async () => {
      const id = await dataset();
      const line = chatLine(400_000);
      const put = streaming(await uploadUrl(id, line.length), "PUT", { "content-type": "application/octet-stream", "content-length": String(line.length) });
      put.req.write(line.slice(0, 300_000));
      await until("the PUT to store its first chunk", async () => (await chunkCount(id)) >= 1 || undefined);
      assert.equal((await call("DELETE", `${A}/datasets/${id}`)).status, 200);
      await dataset(id);
      put.req.end(line.slice(300_000));
      const answer = await put.answer;
      assert.equal(answer.status, 409, answer.text);
      assert.match(JSON.parse(answer.text).error.message, /deleted and created again/);
      const fresh = (await call("GET", `${A}/datasets/${id}`)).body;
      assert.deepEqual([fresh.state, fresh.sizeBytes], ["UPLOADING", "0"], "the new dataset holds nothing of the old URL's file");
      const refused = await auditEntries(h, `method="UploadDatasetFile" AND resource="accounts/my-account/datasets/${id}" AND status:"ABORTED"`);
      assert.equal(refused.length, 1, "the refused PUT is audited");
      assert.equal(refused[0].email, "admin@example.com", "as the act of the URL's signer");
    });

    test("a signed PUT landing while an :upload streams leaves that upload whole: the dataset becomes READY with every byte sent", async () => {
      const id = await dataset();
      // Large enough for several stored chunks before the PUT lands.
      const lines = Array.from({ length: 12 }, (_, i) => chatLine(100_000, String.fromCharCode(97 + i))).join("");
      const upload = streaming(`${h.baseUrl}${A}/datasets/${id}:upload`, "POST", {
        authorization: `Bearer ${h.adminKey}`,
        "content-type": "application/jsonl",
        "content-length": String(lines.length),
      });
      upload.req.write(lines.slice(0, 700_000));
      await until("the upload to store its first chunks", async () => (await chunkCount(id)) >= 2 || undefined);
      const small = chatLine(120);
      const put = await fetch(await uploadUrl(id, 120), { method: "PUT", body: small, headers: { "content-type": "application/octet-stream" } });
      assert.equal(put.status, 200, await put.text());
      upload.req.end(lines.slice(700_000));
      const answer = await upload.answer;
      assert.equal(answer.status, 200, answer.text);
      const got = await download(id);
      assert.equal(got.status, 200);
      assert.equal(got.text.length, lines.length, "no chunk of the streaming upload was deleted by the PUT");
      assert.equal(got.text, lines);
      assert.equal(got.length, String(lines.length), "a download declares its length");
    });

    test("a signed PUT whose body ends inside a UTF-8 character is refused 400 and audited; nothing is stored", async () => {
      const id = await dataset();
      const body = Buffer.concat([Buffer.from(chatLine(100, "é").slice(0, 60)), Buffer.from([0xc3])]);
      const put = await fetch(await uploadUrl(id, body.length), { method: "PUT", body, headers: { "content-type": "application/octet-stream" } });
      assert.equal(put.status, 400);
      assert.match(((await put.json()) as any).error.message, /not UTF-8 text/);
      assert.equal((await call("GET", `${A}/datasets/${id}`)).body.sizeBytes, "0");
      const refused = await auditEntries(h, `method="UploadDatasetFile" AND resource="accounts/my-account/datasets/${id}" AND status:"INVALID_ARGUMENT"`);
      assert.equal(refused.length, 1);
      assert.equal(refused[0].principal, "admin@example.com", "the URL's signer");
    });

    test("a signed PUT larger than signed is refused and audited in the dataset's account", async () => {
      const id = await dataset();
      const put = await fetch(await uploadUrl(id, 10), { method: "PUT", body: chatLine(120), headers: { "content-type": "application/octet-stream" } });
      assert.equal(put.status, 400);
      const refused = await auditEntries(h, `method="UploadDatasetFile" AND resource="accounts/my-account/datasets/${id}" AND status:"INVALID_ARGUMENT"`);
      assert.equal(refused.length, 1);
    });

    test("an :upload the client cuts off is audited as CANCELLED, not as an internal error, and stores nothing", async () => {
      const id = await dataset();
      const upload = streaming(`${h.baseUrl}${A}/datasets/${id}:upload`, "POST", {
        authorization: `Bearer ${h.adminKey}`,
        "content-type": "application/jsonl",
        "content-length": "1000000",
      });
      upload.answer.catch(() => undefined);
      upload.req.write(chatLine(300_000));
      await until("the upload to store a chunk", async () => (await chunkCount(id)) >= 1 || undefined);
      upload.req.destroy();
      const filter = `method="UploadDataset" AND resource="accounts/my-account/datasets/${id}"`;
      await until("the cut upload's audit entry", async () => (await auditEntries(h, filter)).length === 1 || undefined);
      const [entry] = await auditEntries(h, filter);
      assert.equal(entry.status.code, "CANCELLED", JSON.stringify(entry));
      assert.equal((await call("GET", `${A}/datasets/${id}`)).body.state, "UPLOADING");
      assert.equal(await chunkCount(id), 0, "the cut upload's chunks are deleted");
    });

    test("a multipart :upload the client cuts off is audited as CANCELLED too, and stores nothing (it used to hang for ever)", async () => {
      const id = await dataset();
      const upload = streaming(`${h.baseUrl}${A}/datasets/${id}:upload`, "POST", {
        authorization: `Bearer ${h.adminKey}`,
        "content-type": "multipart/form-data; boundary=XYZ",
        "content-length": "1000000",
      });
      upload.answer.catch(() => undefined);
      upload.req.write(
        `--XYZ\r\nContent-Disposition: form-data; name="file"; filename="train.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${chatLine(300_000)}`,
      );
      await until("the upload to store a chunk", async () => (await chunkCount(id)) >= 1 || undefined);
      upload.req.destroy();
      const filter = `method="UploadDataset" AND resource="accounts/my-account/datasets/${id}"`;
      await until("the cut upload's audit entry", async () => (await auditEntries(h, filter)).length === 1 || undefined);
      assert.equal((await auditEntries(h, filter))[0].status.code, "CANCELLED");
      assert.equal(await chunkCount(id), 0, "the cut upload's chunks are deleted");
    });

    test("a signed PUT whose signer's key is deleted while the body arrives is refused as it lands, and stores nothing", async () => {
      const bot = await h.call("POST", `${A}/users?userId=race-bot`, { body: { serviceAccount: true, role: "contributor" } });
      assert.equal(bot.status, 200);
      const key = await h.call("POST", `${A}/users/race-bot/apiKeys`, { body: { apiKey: {} } });
      const id = `race-${++n}`;
      const headers = { authorization: `Bearer ${key.body.key}`, "content-type": "application/json" };
      assert.equal((await fetch(`${h.baseUrl}${A}/datasets?datasetId=${id}`, { method: "POST", headers, body: "{}" })).status, 200);
      const line = chatLine(400_000);
      const signed = await fetch(`${h.baseUrl}${A}/datasets/${id}:getUploadEndpoint`, {
        method: "POST",
        headers,
        body: JSON.stringify({ filenameToSize: { "train.jsonl": String(line.length) } }),
      });
      const url = ((await signed.json()) as any).filenameToSignedUrls["train.jsonl"];
      const put = streaming(url, "PUT", { "content-type": "application/octet-stream", "content-length": String(line.length) });
      put.req.write(line.slice(0, 300_000));
      await until("the PUT to store its first chunk", async () => (await chunkCount(id)) >= 1 || undefined);
      assert.equal((await call("DELETE", `${A}/users/race-bot/apiKeys/${key.body.keyId}`)).status, 200);
      put.req.end(line.slice(300_000));
      const answer = await put.answer;
      assert.equal(answer.status, 403, answer.text);
      assert.match(JSON.parse(answer.text).error.message, /the API key that asked for this URL no longer exists/);
      assert.equal((await call("GET", `${A}/datasets/${id}`)).body.sizeBytes, "0");
      assert.equal(await chunkCount(id), 0);
    });

    test("a form PUT to a signed URL is refused (its boundaries would be stored as the file), and the refusal is audited", async () => {
      const id = await dataset();
      const form = new FormData();
      form.append("file", new Blob([chatLine(100)], { type: "application/jsonl" }), "train.jsonl");
      const encoded = new Response(form);
      const bytes = Buffer.from(await encoded.arrayBuffer());
      const put = await fetch(await uploadUrl(id, bytes.length), {
        method: "PUT",
        body: bytes,
        headers: { "content-type": encoded.headers.get("content-type")! },
      });
      assert.equal(put.status, 400);
      assert.match(((await put.json()) as any).error.message, /not as a form/);
      assert.equal((await call("GET", `${A}/datasets/${id}`)).body.sizeBytes, "0");
      const refused = await auditEntries(h, `method="UploadDatasetFile" AND resource="accounts/my-account/datasets/${id}" AND status:"INVALID_ARGUMENT"`);
      assert.equal(refused.length, 1);
    });

    test("a download cut by the dataset's deletion fails instead of ending as if complete", async () => {
      const id = await dataset();
      const lines = Array.from({ length: 250 }, () => chatLine(100_000)).join("");
      const up = await fetch(`${h.baseUrl}${A}/datasets/${id}:upload`, {
        method: "POST",
        body: lines,
        headers: { authorization: `Bearer ${h.adminKey}`, "content-type": "application/jsonl" },
      });
      assert.equal(up.status, 200, await up.text());
      const res = await fetch(`${h.baseUrl}${A}/datasets/${id}:download`, { headers: { authorization: `Bearer ${h.adminKey}` } });
      assert.equal(res.headers.get("content-length"), String(lines.length));
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.ok(first.value && first.value.length > 0);
      assert.equal((await call("DELETE", `${A}/datasets/${id}`)).status, 200);
      let received = first.value.length;
      const cut = await (async () => {
        try {
          for (;;) {
            const next = await reader.read();
            if (next.done) return false;
            received += next.value.length;
          }
        } catch {
          return true;
        }
      })();
      assert.ok(cut, `the download ended as if complete after ${received} of ${lines.length} bytes`);
      assert.ok(received < lines.length);
    });
  });
}
