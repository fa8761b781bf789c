import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";
import { firectlAt, firstColumn, ok } from "./support/run.ts";

/**
 * The public catalogue (`accounts/fireworks/models`, from HEARTH_CONFIG) refused every list
 * parameter but readMask, so `firectl list models -a fireworks`, which sends pageSize, always
 * failed. It now pages, filters, orders and masks like an account's model list.
 */
const P = "/v1/accounts/fireworks/models";
const INVALID_TOKEN = "invalid pageToken: it is malformed or altered, or was issued for a different filter, orderBy or list; start again without pageToken";
const ids = (body: { models: { name: string }[] }) => body.models.map((m) => m.name.split("/").at(-1));

for (const dialect of DIALECTS) {
  describe(`the public model catalogue lists like an account's models (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let home: string;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      home = mkdtempSync(join(tmpdir(), "public-models-"));
      const created = await h.call("POST", "/v1/accounts/my-account/models?modelId=own", { body: { backend: "local", upstreamModel: "tiny-upstream" } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
    });
    after(async () => {
      await stop();
      rmSync(home, { recursive: true, force: true });
    });

    test("regression: pageSize pages the catalogue (was 400 unknown query parameter); the token continues it", async () => {
      const first = await h.call("GET", `${P}?pageSize=1`);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(ids(first.body), ["nomic-embed-text-v1-5"]);
      assert.equal(first.body.totalSize, 2);
      assert.ok(first.body.nextPageToken);
      const second = await h.call("GET", `${P}?pageSize=1&pageToken=${encodeURIComponent(first.body.nextPageToken)}`);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.deepEqual(ids(second.body), ["tiny-public"]);
      assert.equal(second.body.nextPageToken, "");
      assert.equal(second.body.totalSize, 2);
      assert.equal(second.body.models[0].public, true);
    });

    test("filter takes the account list's fields a public model has; orderBy and readMask apply", async () => {
      const byBackend = await h.call("GET", `${P}?filter=${encodeURIComponent('upstream_model:"NOMIC" AND backend="local"')}`);
      assert.equal(byBackend.status, 200, JSON.stringify(byBackend.body));
      assert.deepEqual(ids(byBackend.body), ["nomic-embed-text-v1-5"]);
      assert.equal(byBackend.body.totalSize, 1);
      const byName = await h.call("GET", `${P}?filter=${encodeURIComponent('name="accounts/fireworks/models/tiny-public"')}`);
      assert.deepEqual(ids(byName.body), ["tiny-public"]);
      const negated = await h.call("GET", `${P}?filter=${encodeURIComponent("NOT model_id=tiny-public")}`);
      assert.deepEqual(ids(negated.body), ["nomic-embed-text-v1-5"]);
      const ordered = await h.call("GET", `${P}?orderBy=${encodeURIComponent("display_name desc")}&readMask=display_name`);
      assert.equal(ordered.status, 200, JSON.stringify(ordered.body));
      assert.deepEqual(ordered.body.models, [
        { name: "accounts/fireworks/models/tiny-public", displayName: "tiny-public" },
        { name: "accounts/fireworks/models/nomic-embed-text-v1-5", displayName: "nomic-embed-text-v1-5" },
      ]);
    });

    test("a field, order or parameter the catalogue does not have is a 400 naming it", async () => {
      const unknownField = await h.call("GET", `${P}?filter=${encodeURIComponent('created_by="a@b.c"')}`);
      assert.equal(unknownField.status, 400);
      assert.equal(
        unknownField.body.error.message,
        "invalid filter: unknown field 'created_by' (known fields: name, model_id, display_name, backend, upstream_model) at position 1",
      );
      const badOrder = await h.call("GET", `${P}?orderBy=create_time`);
      assert.equal(badOrder.status, 400);
      assert.match(badOrder.body.error.message, /^invalid orderBy "create_time": use fields name, display_name/);
      const unknownParameter = await h.call("GET", `${P}?showDeleted=true`);
      assert.equal(unknownParameter.status, 400);
      assert.match(
        unknownParameter.body.error.message,
        /^unknown query parameter "showDeleted" \(parameters: pageSize, pageToken, filter, orderBy, readMask\)/,
      );
    });

    test("a catalogue page token continues only the catalogue, with the same filter; an account's token does not continue it", async () => {
      const first = await h.call("GET", `${P}?pageSize=1`);
      const token = encodeURIComponent(first.body.nextPageToken);
      for (const path of [`${P}?pageSize=1&filter=backend%3Dlocal&pageToken=${token}`, `/v1/accounts/my-account/models?pageSize=1&pageToken=${token}`]) {
        const res = await h.call("GET", path);
        assert.equal(res.status, 400, path);
        assert.equal(res.body.error.message, INVALID_TOKEN);
      }
      assert.equal((await h.call("POST", "/v1/accounts/my-account/models?modelId=own2", { body: { backend: "local" } })).status, 200);
      const own = await h.call("GET", "/v1/accounts/my-account/models?pageSize=1");
      assert.ok(own.body.nextPageToken);
      const res = await h.call("GET", `${P}?pageSize=1&pageToken=${encodeURIComponent(own.body.nextPageToken)}`);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.message, INVALID_TOKEN);
    });

    test("regression: firectl list models -a fireworks lists the catalogue (exited 1); --page-size and --filter work", async () => {
      const firectl = firectlAt(home, h.baseUrl, h.adminKey);
      assert.deepEqual(firstColumn(ok(await firectl(["list", "models", "-a", "fireworks"]))), ["nomic-embed-text-v1-5", "tiny-public"]);
      const page = ok(await firectl(["model", "list", "-a", "fireworks", "--page-size", "1"]));
      assert.deepEqual(firstColumn(page.split("\n\nNext page token:")[0]!), ["nomic-embed-text-v1-5"]);
      assert.match(page, /Next page token: \S+/);
      assert.deepEqual(firstColumn(ok(await firectl(["list", "models", "-a", "fireworks", "--filter", 'model_id="tiny-public"']))), ["tiny-public"]);
    });
  });
}
