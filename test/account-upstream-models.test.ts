import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { insertModel } from "../src/store/models.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { startUpstream, type FakeUpstream } from "./support/model-server.ts";
import { chat, infer } from "./support/platform.ts";

const A = "/v1/accounts/my-account";

/**
 * A backend's `accountUpstreamModels` (HEARTH_CONFIG) bounds the upstream model names an account's
 * own models may name on it. Without it a contributor registered `alias` with the upstream of the
 * operator's $100-per-million public model at $0, or with another account's private fine-tune's
 * upstream name, and called it; with `["{account}/*"]` each account keeps to its own namespace.
 */
for (const dialect of DIALECTS) {
  describe(`the upstream models an account's own models may name (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let contributor: string;
    before(async () => {
      up = await startUpstream();
      const file = join(mkdtempSync(join(tmpdir(), "hearth-platform-")), "platform.json");
      const pricey = { id: "pricey", upstreamModel: "pricey-upstream", inputPricePerMillionTokens: 100, outputPricePerMillionTokens: 100 };
      writeFileSync(
        file,
        JSON.stringify({
          publicAccountId: "fireworks",
          backends: [
            { name: "scoped", baseUrl: up.baseUrl, timeoutMs: 1500, models: [pricey], accountUpstreamModels: ["{account}/*"] },
            { name: "open", baseUrl: up.baseUrl, timeoutMs: 1500 },
          ],
        }),
      );
      h = await startHearth(dialect, { HEARTH_CONFIG: file });
      await h.listen();
      contributor = (await serviceAccountWithKey(h, "builder", "contributor")).key;
    });
    after(async () => {
      await h.stop();
      await up.close();
    });

    test("reproduction: a $0 alias of a public model's upstream, or of another account's fine-tune, is refused on a backend that keeps accounts to their namespace", async () => {
      for (const upstreamModel of ["pricey-upstream", "other-acct/private-finetune", "my-account-x/ft", "ft"]) {
        const res = await h.call("POST", `${A}/models?modelId=alias`, {
          key: contributor,
          body: { backend: "scoped", upstreamModel, inputPricePerMillionTokens: 0 },
        });
        assert.equal(res.status, 400, `${upstreamModel}: ${JSON.stringify(res.body)}`);
        assert.equal(
          res.body.error.message,
          `invalid upstreamModel ${JSON.stringify(upstreamModel)}: backend "scoped" serves this account's models only as "my-account/*"`,
        );
      }
      const own = await h.call("POST", `${A}/models?modelId=ft`, { key: contributor, body: { backend: "scoped", upstreamModel: "my-account/ft-1" } });
      assert.equal(own.status, 200, JSON.stringify(own.body));
      const moved = await h.call("PATCH", `${A}/models/ft?updateMask=upstreamModel`, { key: contributor, body: { upstreamModel: "pricey-upstream" } });
      assert.equal(moved.status, 400, JSON.stringify(moved.body));
      const elsewhere = await h.call("POST", `${A}/models?modelId=loose`, { key: contributor, body: { backend: "open", upstreamModel: "anything" } });
      assert.equal(elsewhere.status, 200, "a backend without the setting serves any name, as before");
      const toScoped = await h.call("PATCH", `${A}/models/loose?updateMask=backend`, { key: contributor, body: { backend: "scoped" } });
      assert.equal(toScoped.status, 400, "moving a model to the backend checks its upstream name there");
      assert.equal((await infer(h, contributor, chat("accounts/my-account/models/ft"))).status, 200);
      assert.equal(up.requests.at(-1)!.body.model, "my-account/ft-1");
    });

    test("a model stored before the operator narrowed the backend is not served", async () => {
      const now = Date.now();
      await insertModel(h.deps.store.db, {
        account_id: "my-account",
        id: "legacy",
        display_name: "",
        description: "",
        backend: "scoped",
        upstream_model: "pricey-upstream",
        input_price: 0,
        output_price: 0,
        created_by: "admin@example.com",
        creator_uid: "",
        create_time: now,
        update_time: now,
      });
      const sent = up.requests.length;
      const res = await infer(h, contributor, chat("accounts/my-account/models/legacy"));
      assert.equal(res.status, 400);
      assert.match(
        ((await res.json()) as any).error.message,
        /names upstream model "pricey-upstream", which backend "scoped" no longer serves to this account/,
      );
      assert.equal(up.requests.length, sent, "nothing reached the backend");
    });

    test("reproduction: a deployment cannot run an account's model on a backend whose accountUpstreamModels refuse its upstream name", async () => {
      // $0 on a backend without the setting, then deployed onto the one that keeps accounts to their namespace.
      const loose = await h.call("POST", `${A}/models?modelId=free-pricey`, {
        key: contributor,
        body: { backend: "open", upstreamModel: "pricey-upstream", inputPricePerMillionTokens: 0, outputPricePerMillionTokens: 0 },
      });
      assert.equal(loose.status, 200, JSON.stringify(loose.body));
      const refusal = `invalid backend "scoped" for accounts/my-account/models/free-pricey, whose upstreamModel is "pricey-upstream": backend "scoped" serves this account's models only as "my-account/*"`;
      for (const baseModel of ["accounts/my-account/models/free-pricey", "free-pricey"]) {
        const dep = await h.call("POST", `${A}/deployments?deploymentId=d1`, { key: contributor, body: { baseModel, backend: "scoped" } });
        assert.equal(dep.status, 400, JSON.stringify(dep.body));
        assert.equal(dep.body.error.message, refusal);
      }
      // On its own backend it deploys; moving it to the narrow backend is refused the same way.
      const onOpen = await h.call("POST", `${A}/deployments?deploymentId=d2`, { key: contributor, body: { baseModel: "free-pricey" } });
      assert.equal(onOpen.status, 200, JSON.stringify(onOpen.body));
      const moved = await h.call("PATCH", `${A}/deployments/d2?updateMask=backend`, { key: contributor, body: { backend: "scoped" } });
      assert.equal(moved.status, 400, JSON.stringify(moved.body));
      assert.equal(moved.body.error.message, refusal);
      assert.equal((await h.call("GET", `${A}/deployments/d2`)).body.backend, "open", "nothing changed");

      // A deployment made while the model's upstream was in the namespace, then the model re-pointed
      // on its own backend: the gateway refuses the deployment before anything reaches the backend.
      const ns = await h.call("POST", `${A}/models?modelId=ns`, { key: contributor, body: { backend: "open", upstreamModel: "my-account/ns-1" } });
      assert.equal(ns.status, 200, JSON.stringify(ns.body));
      const d3 = await h.call("POST", `${A}/deployments?deploymentId=d3`, { key: contributor, body: { baseModel: "ns", backend: "scoped" } });
      assert.equal(d3.status, 200, JSON.stringify(d3.body));
      assert.equal((await infer(h, contributor, chat("accounts/my-account/deployments/d3"))).status, 200);
      assert.equal(up.requests.at(-1)!.body.model, "my-account/ns-1");
      const repointed = await h.call("PATCH", `${A}/models/ns?updateMask=upstreamModel,inputPricePerMillionTokens`, {
        key: contributor,
        body: { upstreamModel: "pricey-upstream", inputPricePerMillionTokens: 0 },
      });
      assert.equal(repointed.status, 200, "allowed on the model's own backend");
      const sent = up.requests.length;
      const res = await infer(h, contributor, chat("accounts/my-account/deployments/d3"));
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as any).error.message, /on backend "scoped", which does not serve it to this account/);
      assert.equal(up.requests.length, sent, "nothing reached the backend");
    });
  });
}
