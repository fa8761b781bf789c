import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";
import { until } from "./support/until.ts";

const A = "/v1/accounts/my-account";
const PUBLIC = "accounts/fireworks/models/tiny-public";

/**
 * A deployment whose backend did not answer its probe is FAILED; once the backend answers again it
 * becomes READY by itself (every `deployments.recheckFailedMs`), as a Kubernetes readiness probe
 * brings a pod back: before, it stayed FAILED, refusing every call, until someone sent it a PATCH.
 */
for (const dialect of DIALECTS) {
  describe(`FAILED deployments recover once their backend answers (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let key: string;
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect, { deployments: { probeTimeoutMs: 1000, recheckFailedMs: 200 } }));
      key = (await serviceAccountWithKey(h, "caller", "contributor")).key;
    });
    after(() => stop());

    test("FAILED while the backend answers 503, READY by itself once it answers again; a deployment deleted meanwhile stays deleted", async () => {
      up.modelsStatus = 503;
      for (const id of ["sick", "dropped"]) {
        const made = await h.call("POST", `${A}/deployments?deploymentId=${id}`, { key, body: { baseModel: PUBLIC } });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        assert.equal(made.body.state, "FAILED");
      }
      const refused = await infer(h, key, chat(`${A.slice(4)}/deployments/sick`));
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as any).error.message, /deployments\/sick" is FAILED: backend "local" answered 503/);
      // Still down over several rounds: still FAILED, with the backend's answer as its reason.
      await new Promise((r) => setTimeout(r, 700));
      const still = (await h.call("GET", `${A}/deployments/sick`)).body;
      assert.deepEqual([still.state, still.status.message], ["FAILED", 'backend "local" answered 503 to GET /models']);
      assert.equal((await h.call("DELETE", `${A}/deployments/dropped`)).status, 200);

      up.modelsStatus = 200;
      const healed = await until("the FAILED deployment to become READY", async () => {
        const d = (await h.call("GET", `${A}/deployments/sick`)).body;
        return d.state === "READY" ? d : undefined;
      });
      assert.equal(healed.status.message, "");
      const served = await infer(h, key, chat(`${A.slice(4)}/deployments/sick`));
      assert.equal(served.status, 200, await served.text());
      assert.equal((await h.call("GET", `${A}/deployments/dropped`)).body.state, "DELETED", "a deleted deployment is not brought back");
    });
  });
}
