import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";
import { account, setQuota, startPlatform } from "./support/platform.ts";

/**
 * Fireworks' three-step dataset upload over HTTP: `:getUploadEndpoint` signs a URL, curl (a real
 * process, no API key) PUTs the file there, `:validateUpload` checks it and makes the dataset READY;
 * `:getDownloadEndpoint` signs a download URL. Tampered, forged and expired URLs are refused (403).
 */
const A = "/v1/accounts/my-account";
const run = promisify(execFile);

/** One CHAT example padded to exactly `bytes` bytes (newline included). */
function chatLine(bytes: number): string {
  const base = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":""}]}\n';
  return base.replace('""}]', `"${"a".repeat(bytes - base.length)}"}]`);
}

/** curl as a person types it: the HTTP status and the body as text. */
async function curl(...args: string[]): Promise<{ status: number; text: string }> {
  const { stdout } = await run("curl", ["-sS", "-w", "\n%{http_code}", ...args]);
  const at = stdout.lastIndexOf("\n");
  return { status: Number(stdout.slice(at + 1)), text: stdout.slice(0, at) };
}

/** A request over real HTTP (the signed URLs name the origin the request reached), with the admin's key unless `key` is given. */
async function http(h: TestHearth, method: string, path: string, options: { body?: unknown; key?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? h.adminKey}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${h.baseUrl}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  return { status: res.status, body: await res.json() };
}

/** PUTs `file` to a signed URL with curl, without any API key. */
const put = (url: string, file: string) => curl("-X", "PUT", "-T", file, "-H", "Content-Type: application/octet-stream", url);

for (const dialect of DIALECTS) {
  describe(`dataset upload and download endpoints (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let dir: string;
    let n = 0;
    const train = () => join(dir, "train.jsonl");
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      dir = mkdtempSync(join(tmpdir(), "dataset-endpoints-"));
      writeFileSync(train(), chatLine(120));
    });
    after(async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function dataset(): Promise<string> {
      const id = `ep-${++n}`;
      const res = await http(h, "POST", `${A}/datasets?datasetId=${id}`, { body: {} });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return id;
    }

    async function uploadUrl(id: string, size = "120"): Promise<string> {
      const res = await http(h, "POST", `${A}/datasets/${id}:getUploadEndpoint`, { body: { filenameToSize: { "train.jsonl": size } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body.filenameToSignedUrls), ["train.jsonl"]);
      const url = res.body.filenameToSignedUrls["train.jsonl"];
      return url;
    }

    test("the issue's requests: a signed URL, a PUT by curl without a key, :validateUpload makes it READY, a signed download gives it back", async () => {
      const id = await dataset();
      const url = await uploadUrl(id);
      const parsed = new URL(url);
      assert.equal(parsed.origin, h.baseUrl);
      assert.equal(parsed.pathname, `${A}/datasets/${id}/files/train.jsonl`);
      assert.deepEqual([...parsed.searchParams.keys()], ["size", "issued", "expires", "signer", "signature"]);
      // The signer is named by its key's id, never by the key itself.
      assert.match(parsed.searchParams.get("signer")!, /^key:[\w-]+$/);
      assert.ok(!url.includes(h.adminKey) && !url.includes("fw_"), url);
      const expires = Number(parsed.searchParams.get("expires"));
      assert.ok(Math.abs(expires - (Date.now() / 1000 + 3600)) < 60, "expires an hour from now, in Unix seconds");

      const stored = await put(url, train());
      assert.equal(stored.status, 200, stored.text);
      assert.equal((await http(h, "GET", `${A}/datasets/${id}`)).body.state, "UPLOADING", "READY only after :validateUpload");

      const validated = await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} });
      assert.equal(validated.status, 200, JSON.stringify(validated.body));
      assert.deepEqual(validated.body, {});
      const ready = (await http(h, "GET", `${A}/datasets/${id}`)).body;
      assert.equal(ready.state, "READY");
      assert.equal(ready.exampleCount, "1");
      assert.equal(ready.sizeBytes, "120");
      assert.equal((await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} })).status, 200, "validating again changes nothing");

      const download = await http(h, "GET", `${A}/datasets/${id}:getDownloadEndpoint`);
      assert.equal(download.status, 200, JSON.stringify(download.body));
      const downloadUrl = download.body.filenameToSignedUrls[`${id}.jsonl`];
      const got = await curl(downloadUrl);
      assert.equal(got.status, 200);
      assert.equal(got.text, chatLine(120));
      const unsigned = await curl(downloadUrl.slice(0, downloadUrl.indexOf("?")));
      assert.equal(unsigned.status, 403, unsigned.text);
      assert.match(JSON.parse(unsigned.text).error.message, /not signed/);
      const asUpload = await put(downloadUrl, train());
      assert.equal(asUpload.status, 403, "a download URL does not authorize a PUT");
      const audited = await auditEntries(h, `method="ValidateDatasetUpload" AND resource="accounts/my-account/datasets/${id}"`);
      assert.equal(audited.length, 1);
      const uploaded = await auditEntries(h, `method="UploadDatasetFile" AND resource="accounts/my-account/datasets/${id}"`);
      assert.equal(uploaded.length, 1);
      // The PUT carried no key: it is the act of the URL's signer, the admin's key (it was audited with no principal).
      const signerKey = parsed.searchParams.get("signer")!.slice("key:".length);
      assert.deepEqual([uploaded[0].email, uploaded[0].apiKeyId], ["admin@example.com", signerKey]);
      assert.equal(uploaded[0].principal, "admin@example.com");
      assert.notEqual(uploaded[0].principalUid, "");
    });

    test("regression: readMask of :getUploadEndpoint (body) and :getDownloadEndpoint (query) is checked and applied; downloadLineage=true is refused, not ignored", async () => {
      const id = await dataset();
      const endpoint = `${A}/datasets/${id}:getUploadEndpoint`;
      const refusedUpload = await http(h, "POST", endpoint, { body: { filenameToSize: { "a.jsonl": 10 }, readMask: "bogus" } });
      assert.equal(refusedUpload.status, 400, JSON.stringify(refusedUpload.body));
      assert.match(refusedUpload.body.error.message, /"readMask": unknown field "bogus" \(fields: filenameToSignedUrls\)/);
      for (const readMask of ["filename_to_signed_urls", "filenameToSignedUrls", "*", ""]) {
        const res = await http(h, "POST", endpoint, { body: { filenameToSize: { "train.jsonl": "120" }, readMask } });
        assert.equal(res.status, 200, `${readMask}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(Object.keys(res.body), ["filenameToSignedUrls"], readMask);
      }
      assert.equal((await put(await uploadUrl(id), train())).status, 200);
      assert.equal((await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} })).status, 200);

      const download = `${A}/datasets/${id}:getDownloadEndpoint`;
      const refusedBefore = (await auditEntries(h, `method="GetDatasetDownloadEndpoint" AND status:"INVALID_ARGUMENT"`)).length;
      const both = await http(h, "GET", `${download}?readMask=bogus&downloadLineage=true`);
      assert.equal(both.status, 400, JSON.stringify(both.body));
      const mask = await http(h, "GET", `${download}?readMask=bogus`);
      assert.equal(mask.status, 400);
      assert.match(mask.body.error.message, /"readMask": unknown field "bogus" \(fields: filenameToSignedUrls\)/);
      const lineage = await http(h, "GET", `${download}?downloadLineage=true`);
      assert.equal(lineage.status, 400);
      assert.match(lineage.body.error.message, /downloadLineage=true is not served: a Hearth dataset has no lineage/);
      const notBoolean = await http(h, "GET", `${download}?downloadLineage=yes`);
      assert.equal(notBoolean.status, 400);
      assert.match(notBoolean.body.error.message, /downloadLineage must be true or false/);
      assert.equal((await auditEntries(h, `method="GetDatasetDownloadEndpoint" AND status:"INVALID_ARGUMENT"`)).length, refusedBefore + 4);
      const served = await http(h, "GET", `${download}?downloadLineage=false&read_mask=filename_to_signed_urls`);
      assert.equal(served.status, 200, JSON.stringify(served.body));
      assert.deepEqual(Object.keys(served.body.filenameToSignedUrls), [`${id}.jsonl`]);
      assert.equal((await curl(served.body.filenameToSignedUrls[`${id}.jsonl`])).text, chatLine(120));
    });

    test("a signed URL is bound to the dataset it was issued for: deleted and re-created under the same id, the old URLs are refused", async () => {
      const id = await dataset();
      const staleUpload = await uploadUrl(id);
      assert.equal((await put(staleUpload, train())).status, 200);
      assert.equal((await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} })).status, 200);
      const staleDownload = (await http(h, "GET", `${A}/datasets/${id}:getDownloadEndpoint`)).body.filenameToSignedUrls[`${id}.jsonl`];
      assert.equal((await curl(staleDownload)).status, 200);

      assert.equal((await http(h, "DELETE", `${A}/datasets/${id}`)).status, 200);
      assert.equal((await curl(staleDownload)).status, 403, "the deleted dataset's download URL");
      assert.equal((await http(h, "POST", `${A}/datasets?datasetId=${id}`, { body: {} })).status, 200);
      const secret = join(dir, "secret.jsonl");
      writeFileSync(secret, chatLine(130));
      assert.equal((await put(await uploadUrl(id, "130"), secret)).status, 200);
      assert.equal((await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} })).status, 200);
      const old = await curl(staleDownload);
      assert.equal(old.status, 403, "a URL issued for the deleted dataset does not read the new one's content");
      assert.doesNotMatch(old.text, /aaaa/);
      assert.equal((await put(staleUpload, train())).status, 403, "nor write into it");
    });

    test("a tampered or forged signed URL is refused 403 and audited in the dataset's account; nothing is stored", async () => {
      // An account of its own: its first refusals from this address are audited one by one.
      const { admin } = await account(h, "ep-tamper", {});
      const base = "/v1/accounts/ep-tamper/datasets";
      assert.equal((await http(h, "POST", `${base}?datasetId=t1`, { key: admin, body: {} })).status, 200);
      const signed = await http(h, "POST", `${base}/t1:getUploadEndpoint`, { key: admin, body: { filenameToSize: { "train.jsonl": "120" } } });
      const url = new URL(signed.body.filenameToSignedUrls["train.jsonl"]);
      const bigger = new URL(url);
      bigger.searchParams.set("size", "100000");
      const later = new URL(url);
      later.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 86_400));
      const forged = new URL(url);
      const sig = forged.searchParams.get("signature")!;
      forged.searchParams.set("signature", `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`);
      const otherFile = new URL(url);
      otherFile.pathname = otherFile.pathname.replace("train.jsonl", "other.jsonl");
      const otherDataset = new URL(url);
      otherDataset.pathname = otherDataset.pathname.replace("/datasets/t1/", "/datasets/t2/");
      for (const bad of [bigger, later, forged, otherFile, otherDataset]) {
        const res = await put(bad.toString(), train());
        assert.equal(res.status, 403, `${bad}: ${res.text}`);
        assert.match(JSON.parse(res.text).error.message, /signature does not match/);
      }
      const filter = encodeURIComponent('method="PutSignedDatasetFile" AND status:"PERMISSION_DENIED"');
      const refusals = (await http(h, "GET", `/v1/accounts/ep-tamper/auditLogs?pageSize=50&filter=${filter}`, { key: admin })).body.auditLogs;
      assert.ok(refusals.length >= 1, "refusals are audited in the dataset's account");
      const first = refusals.at(-1);
      assert.equal(first.resource, "accounts/ep-tamper/datasets/t1/files/train.jsonl");
      assert.equal(first.principal, "");
      const validate = await http(h, "POST", `${base}/t1:validateUpload`, { key: admin, body: {} });
      assert.equal(validate.status, 400);
      assert.match(validate.body.error.message, /nothing was uploaded/);
    });

    test("a signed URL's numbers are decimal digits as signed: another spelling of the same number (0x78 for 120) is a 400 naming it; nothing is stored", async () => {
      const id = await dataset();
      const url = new URL(await uploadUrl(id));
      const spellings: Array<[string, string]> = [
        ["size", "0x78"],
        ["size", "1.2e2"],
        ["size", " 120"],
        ["expires", `${url.searchParams.get("expires")}.0`],
        ["issued", `0x${Number(url.searchParams.get("issued")).toString(16)}`],
      ];
      for (const [name, value] of spellings) {
        const respelled = new URL(url);
        respelled.searchParams.set(name, value);
        const res = await put(respelled.toString(), train());
        assert.equal(res.status, 400, `${name}=${value}: ${res.text}`);
        assert.match(JSON.parse(res.text).error.message, new RegExp(`"${name}".*must be a whole number in decimal digits`), `${name}=${value}`);
      }
      const validate = await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} });
      assert.match(validate.body.error.message, /nothing was uploaded/);
    });

    test("a PUT of more than the declared size is refused and stores nothing; the size must be a number of bytes", async () => {
      const id = await dataset();
      const url = await uploadUrl(id, "119");
      const res = await put(url, train());
      assert.equal(res.status, 400, res.text);
      assert.match(JSON.parse(res.text).error.message, /larger than the 119 bytes declared for "train.jsonl"/);
      assert.match((await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} })).body.error.message, /nothing was uploaded/);
      for (const size of ["-1", "12x", "0"]) {
        const refused = await http(h, "POST", `${A}/datasets/${id}:getUploadEndpoint`, { body: { filenameToSize: { "train.jsonl": size } } });
        assert.equal(refused.status, 400, size);
        assert.match(refused.body.error.message, /filenameToSize\["train.jsonl"\]/);
      }
      const two = await http(h, "POST", `${A}/datasets/${id}:getUploadEndpoint`, { body: { filenameToSize: { "a.jsonl": "1", "b.jsonl": "1" } } });
      assert.equal(two.status, 400);
      assert.match(two.body.error.message, /names 2 files/);
      // A lone surrogate (sent as the JSON escape "\ud800") could not be put in a URL: it was a 500.
      const lone = await http(h, "POST", `${A}/datasets/${id}:getUploadEndpoint`, { body: { filenameToSize: { "a\ud800.jsonl": "1" } } });
      assert.equal(lone.status, 400, JSON.stringify(lone.body));
      assert.match(lone.body.error.message, /well-formed Unicode/);
    });

    test(":validateUpload names the first bad line and leaves the dataset UPLOADING; a fixed file PUT again is accepted", async () => {
      const id = await dataset();
      const bad = join(dir, "bad.jsonl");
      const text = `${chatLine(100)}{"messages":[{"role":"robot","content":"x"}]}\n`;
      writeFileSync(bad, text);
      const url = await uploadUrl(id, String(Buffer.byteLength(text)));
      assert.equal((await put(url, bad)).status, 200);
      const refused = await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /line 2/);
      assert.match(refused.body.error.message, /robot/);
      assert.equal((await http(h, "GET", `${A}/datasets/${id}`)).body.state, "UPLOADING");
      writeFileSync(bad, chatLine(text.length));
      const asJson = await curl("-T", bad, "-H", "Content-Type: application/json", url);
      assert.equal(asJson.status, 400);
      assert.match(JSON.parse(asJson.text).error.message, /without a Content-Type or with application\/jsonl, /);
      // `curl -T` as a person types it: no Content-Type at all.
      assert.equal((await curl("-T", bad, url)).status, 200, "the same URL takes the corrected file");
      assert.equal((await http(h, "POST", `${A}/datasets/${id}:validateUpload`, { body: {} })).status, 200);
      assert.equal((await http(h, "GET", `${A}/datasets/${id}`)).body.exampleCount, "1");
    });

    test("the dataset-storage-bytes quota binds the signed upload as it binds :upload", async () => {
      const other = await account(h, "ep-quota", {});
      await setQuota(h, "ep-quota", "dataset-storage-bytes", 150, other.admin);
      const base = "/v1/accounts/ep-quota/datasets";
      const call = (method: string, url: string, body?: unknown) => http(h, method, url, { key: other.admin, ...(body ? { body } : {}) });
      assert.equal((await call("POST", `${base}?datasetId=q1`, {})).status, 200);
      const big = await call("POST", `${base}/q1:getUploadEndpoint`, { filenameToSize: { "train.jsonl": "151" } });
      assert.equal(big.status, 429, JSON.stringify(big.body));
      assert.match(big.body.error.message, /dataset-storage-bytes/);
      // Two signed URLs, each within the quota alone: a file PUT counts at once, never validated or
      // not, so the second PUT finds the room taken (unvalidated files cannot fill the disk).
      assert.equal((await call("POST", `${base}?datasetId=q2`, {})).status, 200);
      const first = (await call("POST", `${base}/q1:getUploadEndpoint`, { filenameToSize: { "train.jsonl": "120" } })).body.filenameToSignedUrls["train.jsonl"];
      const second = (await call("POST", `${base}/q2:getUploadEndpoint`, { filenameToSize: { "train.jsonl": "120" } })).body.filenameToSignedUrls[
        "train.jsonl"
      ];
      assert.equal((await put(first, train())).status, 200);
      assert.equal((await put(first, train())).status, 200, "a PUT again replaces the file: it is not counted twice");
      const over = await put(second, train());
      assert.equal(over.status, 429, over.text);
      assert.match(JSON.parse(over.text).error.message, /quota "dataset-storage-bytes" exceeded: 120 of 150 in use/);
      assert.equal((await call("POST", `${base}/q1:validateUpload`, {})).status, 200, "the validated file replaces the pending one in the count");
      assert.equal((await call("GET", `${base}/q1`)).body.sizeBytes, "120");
      const nothing = await call("POST", `${base}/q2:validateUpload`, {});
      assert.equal(nothing.status, 400, JSON.stringify(nothing.body));
      assert.match(nothing.body.error.message, /nothing was uploaded/, "the refused PUT stored nothing");
      assert.equal((await call("GET", `${base}/q2`)).body.state, "UPLOADING");
    });

    test(":upload answers with Fireworks' upload response fields besides the dataset", async () => {
      const id = await dataset();
      const { stdout } = await run("curl", [
        "-sS",
        "-H",
        `Authorization: Bearer ${h.adminKey}`,
        "-F",
        `file=@${train()}`,
        `${h.baseUrl}${A}/datasets/${id}:upload`,
      ]);
      const body = JSON.parse(stdout);
      assert.equal(body.id, id);
      assert.equal(body.bytes, 120);
      assert.equal(body.object, "file");
      assert.equal(body.purpose, "fine-tune");
      assert.equal(body.filename, `${id}.jsonl`);
      assert.equal(body.created_at, Math.floor(Date.parse(body.createTime) / 1000));
      assert.equal(body.state, "READY");
    });
  });

  describe(`signed dataset URLs expire (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let dir: string;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect, {}, { HEARTH_SIGNED_URL_TTL_SECONDS: "1" }));
      dir = mkdtempSync(join(tmpdir(), "dataset-expiry-"));
      writeFileSync(join(dir, "train.jsonl"), chatLine(120));
    });
    after(async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("a signed upload URL used after HEARTH_SIGNED_URL_TTL_SECONDS is refused 403 as expired", async () => {
      assert.equal((await http(h, "POST", `${A}/datasets?datasetId=late`, { body: {} })).status, 200);
      const res = await http(h, "POST", `${A}/datasets/late:getUploadEndpoint`, { body: { filenameToSize: { "train.jsonl": "120" } } });
      const url = res.body.filenameToSignedUrls["train.jsonl"];
      const expires = Number(new URL(url).searchParams.get("expires"));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires * 1000 - Date.now()) + 50));
      const late = await put(url, join(dir, "train.jsonl"));
      assert.equal(late.status, 403, late.text);
      assert.match(JSON.parse(late.text).error.message, /expired at/);
      assert.equal((await auditEntries(h, `method="PutSignedDatasetFile" AND status:"PERMISSION_DENIED"`)).length, 1);
    });
  });
}
