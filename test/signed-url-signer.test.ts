import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { createSigninLink } from "../src/service/signin-links.ts";
import { auditEntries, human, serviceAccountWithKey } from "./support/fixtures.ts";
import { startPlatform } from "./support/platform.ts";

/**
 * A signed dataset URL acts for the principal that asked for it, as it stands when the URL is used:
 * its key disabled, deleted or its owner's role lowered, the URL is refused 403 (audited in the
 * dataset's account) even before it expires; the key enabled again, the URL works again. (It used to
 * outlive its signer for its whole lifetime.)
 */
const A = "/v1/accounts/my-account";
const LINE = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}]}\n';

for (const dialect of DIALECTS) {
  describe(`signed dataset URLs follow their signer (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
    });
    after(() => stop());

    const as = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${h.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const put = async (url: string) => {
      const res = await fetch(url, { method: "PUT", body: LINE, headers: { "content-type": "application/octet-stream" } });
      return { status: res.status, text: await res.text() };
    };

    test("an upload URL stops working while its key is disabled, works again once it is enabled, and stops for good when the key is deleted", async () => {
      const bot = await serviceAccountWithKey(h, "signer-bot", "contributor");
      const keys = `${A}/users/signer-bot/apiKeys`;
      assert.equal((await as(bot.key, "POST", `${A}/datasets?datasetId=signed-1`, {})).status, 200);
      const signed = await as(bot.key, "POST", `${A}/datasets/signed-1:getUploadEndpoint`, { filenameToSize: { "train.jsonl": String(LINE.length) } });
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      const url: string = signed.body.filenameToSignedUrls["train.jsonl"];
      assert.equal(new URL(url).searchParams.get("signer"), `key:${bot.keyId}`);

      assert.equal((await h.call("POST", `${keys}/${bot.keyId}:disable`, { body: { disableReason: "UNUSED" } })).status, 200);
      const refused = await put(url);
      assert.equal(refused.status, 403, refused.text);
      assert.match(JSON.parse(refused.text).error.message, /the API key that asked for this URL is disabled/);
      assert.equal((await h.call("GET", `${A}/datasets/signed-1`)).body.sizeBytes, "0", "nothing stored");

      assert.equal((await h.call("POST", `${keys}/${bot.keyId}:enable`, { body: {} })).status, 200);
      assert.equal((await put(url)).status, 200, "the key enabled again, its URL works again");

      assert.equal((await h.call("DELETE", `${keys}/${bot.keyId}`)).status, 200);
      const gone = await put(url);
      assert.equal(gone.status, 403);
      assert.match(JSON.parse(gone.text).error.message, /the API key that asked for this URL no longer exists/);
      const audited = await auditEntries(h, 'method="PutSignedDatasetFile" AND status:"PERMISSION_DENIED"');
      assert.ok(audited.length >= 2, "each refusal is audited in the dataset's account");
    });

    test("an upload URL stops working once its signer's role no longer lets it upload; a download URL outlives no deleted signer", async () => {
      const bot = await serviceAccountWithKey(h, "signer-demoted", "contributor");
      assert.equal((await as(bot.key, "POST", `${A}/datasets?datasetId=signed-2`, {})).status, 200);
      const signed = await as(bot.key, "POST", `${A}/datasets/signed-2:getUploadEndpoint`, { filenameToSize: { "train.jsonl": String(LINE.length) } });
      const url: string = signed.body.filenameToSignedUrls["train.jsonl"];
      assert.equal((await h.call("PATCH", `${A}/users/signer-demoted`, { body: { role: "inference-user" } })).status, 200);
      const refused = await put(url);
      assert.equal(refused.status, 403, refused.text);
      assert.match(JSON.parse(refused.text).error.message, /no longer holds "datasets.manageOwn"/);
      assert.ok(!refused.text.includes("signer-demoted@"), "whoever holds the URL is not told the signer's email");
      assert.equal((await h.call("PATCH", `${A}/users/signer-demoted`, { body: { role: "contributor" } })).status, 200);
      assert.equal((await put(url)).status, 200);
      assert.equal((await as(bot.key, "POST", `${A}/datasets/signed-2:validateUpload`, {})).status, 200);

      const download = await as(bot.key, "GET", `${A}/datasets/signed-2:getDownloadEndpoint`);
      const downloadUrl: string = download.body.filenameToSignedUrls["signed-2.jsonl"];
      assert.equal(await (await fetch(downloadUrl)).text(), LINE);
      assert.equal((await h.call("DELETE", `${A}/users/signer-demoted`)).status, 200);
      const after = await fetch(downloadUrl);
      assert.equal(after.status, 403);
      assert.match(((await after.json()) as any).error.message, /no longer exists/);
    });

    test("a URL a signed-in person asked for names that person, and stops working once the person is deleted", async () => {
      await human(h, "dana@example.com", "contributor");
      const link = await createSigninLink(h.deps, "my-account", "dana@example.com");
      const signIn = await h.call("GET", new URL(link.url).pathname, { key: null });
      const cookie = String([signIn.headers["set-cookie"]].flat().find((l) => String(l).startsWith("hearth_session="))).split(";")[0]!;
      const session = await h.call("GET", "/auth/session", { key: null, headers: { cookie } });
      const asDana = { key: null, headers: { cookie, "x-csrf-token": session.body.csrfToken } };
      assert.equal((await h.call("POST", `${A}/datasets?datasetId=signed-4`, { ...asDana, body: {} })).status, 200);
      const made = await h.call("POST", `${A}/datasets/signed-4:getUploadEndpoint`, {
        ...asDana,
        body: { filenameToSize: { "train.jsonl": String(LINE.length) } },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const url = new URL(made.body.filenameToSignedUrls["train.jsonl"]);
      const dana = await h.call("GET", `${A}/users/dana-example-com`);
      assert.equal(url.searchParams.get("signer"), `user:${dana.body.uid}`);
      const signedPath = `${url.pathname}${url.search}`;
      const putAt = (path: string) => h.call("PUT", path, { key: null, body: LINE, headers: { "content-type": "application/octet-stream" } });
      assert.equal((await putAt(signedPath)).status, 200);
      // An admin's :revokeSessions (a compromised account) ends the URLs the person asked for before it.
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await h.call("POST", `${A}/users/dana-example-com:revokeSessions`, { body: {} })).status, 200);
      const revoked = await putAt(signedPath);
      assert.equal(revoked.status, 403);
      assert.match(revoked.body.error.message, /the user that asked for this URL had its sessions revoked since it was made/);
      assert.equal((await h.call("DELETE", `${A}/users/dana-example-com`)).status, 200);
      const refused = await putAt(signedPath);
      assert.equal(refused.status, 403);
      assert.match(refused.body.error.message, /the user that asked for this URL no longer exists/);
    });

    test("a key's allowedCidrs bind the URLs it asked for: a URL is refused from an address its key does not allow", async () => {
      const bot = await serviceAccountWithKey(h, "signer-fenced", "contributor");
      assert.equal((await as(bot.key, "POST", `${A}/datasets?datasetId=signed-5`, {})).status, 200);
      const signed = await as(bot.key, "POST", `${A}/datasets/signed-5:getUploadEndpoint`, { filenameToSize: { "train.jsonl": String(LINE.length) } });
      const url: string = signed.body.filenameToSignedUrls["train.jsonl"];
      const fenced = await h.call("PATCH", `${A}/users/signer-fenced/apiKeys/${bot.keyId}`, { body: { allowedCidrs: ["203.0.113.0/24"] } });
      assert.equal(fenced.status, 200, JSON.stringify(fenced.body));
      const refused = await put(url);
      assert.equal(refused.status, 403, refused.text);
      assert.match(JSON.parse(refused.text).error.message, /does not allow requests from 127\.0\.0\.1/);
      assert.equal((await h.call("PATCH", `${A}/users/signer-fenced/apiKeys/${bot.keyId}`, { body: { allowedCidrs: ["127.0.0.0/8"] } })).status, 200);
      assert.equal((await put(url)).status, 200);
    });

    test("a URL whose signer was changed in its query is refused: the signer is signed", async () => {
      const signed = await h.call("POST", `${A}/datasets?datasetId=signed-3`, { body: {} });
      assert.equal(signed.status, 200);
      const made = await as(h.adminKey, "POST", `${A}/datasets/signed-3:getUploadEndpoint`, { filenameToSize: { "train.jsonl": String(LINE.length) } });
      const url = new URL(made.body.filenameToSignedUrls["train.jsonl"]);
      url.searchParams.set("signer", "key:someone-else");
      const res = await put(url.toString());
      assert.equal(res.status, 403);
      assert.match(JSON.parse(res.text).error.message, /signature does not match/);
    });
  });
}
