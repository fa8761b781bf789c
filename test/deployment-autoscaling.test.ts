import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { startPlatform } from "./support/platform.ts";
import { field, firectlShell, ok, type FirectlShell } from "./support/run.ts";

/**
 * A deployment's autoscaling policy (Fireworks' Deployment.autoscalingPolicy) over REST as the
 * Python SDK sends it and through firectl as Fireworks' "Autoscaling" page writes it: stored,
 * reported with Fireworks' defaults for what is unset, changed field by field, cleared by an update
 * mask, and checked by Fireworks' rules. Also a bare public model id deploys (Fireworks' examples
 * deploy `falcon-7b`). Found by a newcomer run: the flags and the field were refused.
 */
const A = "/v1/accounts/my-account";
const DEFAULTS = { scaleUpWindow: "30s", scaleDownWindow: "600s", scaleToZeroWindow: "3600s", loadTargets: { default: 0.8 } };
/** The deployment-config.json docs/firectl.md shows, as the repository ships it. */
const EXAMPLE_CONFIG = fileURLToPath(new URL("../examples/deployment-config.json", import.meta.url));

for (const dialect of DIALECTS) {
  describe(`deployment autoscaling policy (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let shell: FirectlShell;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      shell = firectlShell(() => ({ baseUrl: h.baseUrl, key: h.adminKey }));
    });
    after(async () => {
      shell.close();
      await stop();
    });

    test("REST: the SDK's autoscalingPolicy is stored and reported, the unset fields at their defaults; a PATCH changes one field; a mask clears to the default", async () => {
      const plain = await h.call("POST", `${A}/deployments?deploymentId=plain`, { body: { baseModel: "accounts/fireworks/models/tiny-public" } });
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      assert.deepEqual(plain.body.autoscalingPolicy, DEFAULTS);

      const made = await h.call("POST", `${A}/deployments?deploymentId=scaled`, {
        body: {
          baseModel: "accounts/fireworks/models/tiny-public",
          autoscalingPolicy: { scale_to_zero_window: "7200s", loadTargets: { concurrent_requests: 5 } },
        },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.deepEqual(made.body.autoscalingPolicy, { ...DEFAULTS, scaleToZeroWindow: "7200s", loadTargets: { concurrent_requests: 5 } });

      const patched = await h.call("PATCH", `${A}/deployments/scaled`, { body: { autoscalingPolicy: { scaleUpWindow: "15s" } } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual(patched.body.autoscalingPolicy, {
        ...DEFAULTS,
        scaleUpWindow: "15s",
        scaleToZeroWindow: "7200s",
        loadTargets: { concurrent_requests: 5 },
      });

      const cleared = await h.call("PATCH", `${A}/deployments/scaled?updateMask=autoscalingPolicy.loadTargets,autoscaling_policy.scale_to_zero_window`, {
        body: {},
      });
      assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
      assert.deepEqual(cleared.body.autoscalingPolicy, { ...DEFAULTS, scaleUpWindow: "15s" });
      const whole = await h.call("PATCH", `${A}/deployments/scaled?updateMask=autoscalingPolicy`, { body: { autoscalingPolicy: { scaleDownWindow: "60s" } } });
      assert.deepEqual(whole.body.autoscalingPolicy, { ...DEFAULTS, scaleDownWindow: "60s" }, "the mask names the whole message: the rest is back to defaults");
      assert.deepEqual((await h.call("GET", `${A}/deployments/scaled?readMask=autoscaling_policy`)).body, {
        name: "accounts/my-account/deployments/scaled",
        autoscalingPolicy: { ...DEFAULTS, scaleDownWindow: "60s" },
      });
    });

    test("Fireworks' rules: each bad policy is a 400 naming the field, and nothing changes", async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ scaleToZeroWindow: "60s" }, /autoscalingPolicy\.scaleToZeroWindow must be at least 300s \(5 minutes\), not 60s/],
        [{ scaleUpWindow: "10m" }, /autoscalingPolicy\.scaleUpWindow/],
        [{ loadTargets: { default: 1.5 } }, /autoscalingPolicy\.loadTargets\.default is a fraction/],
        [{ loadTargets: { requests_per_second: 0 } }, /autoscalingPolicy\.loadTargets\.requests_per_second must be a number above 0/],
        [{ loadTargets: { tokens_generated_per_second: 10.5 } }, /must be a whole number of tokens per second/],
        [{ loadTargets: { gpu_utilization: 0.5 } }, /"autoscalingPolicy\.loadTargets": the keys are default, tokens_generated_per_second/],
        [{ scaleUpWindows: "30s" }, /unknown field "scaleUpWindows" in autoscalingPolicy/],
      ];
      for (const [policy, message] of cases) {
        const res = await h.call("PATCH", `${A}/deployments/plain`, { body: { autoscalingPolicy: policy } });
        assert.equal(res.status, 400, `${JSON.stringify(policy)}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, JSON.stringify(policy));
      }
      assert.deepEqual((await h.call("GET", `${A}/deployments/plain`)).body.autoscalingPolicy, DEFAULTS);
    });

    test("firectl: Fireworks' --wait and --wait-timeout, --file with flags on top, and dataset create --quiet", async () => {
      const dir = mkdtempSync(join(tmpdir(), "firectl-file-"));
      try {
        const file = join(dir, "deployment-config.json");
        writeFileSync(
          file,
          JSON.stringify({ displayName: "from file", maxReplicaCount: 4, autoscalingPolicy: { scaleUpWindow: "45s", scaleDownWindow: "900s" } }),
        );
        const made = ok(
          await shell.run(
            `firectl deployment create tiny-public --deployment-id from-file --file=${file} --scale-down-window 20m --wait --wait-timeout 1h0m0s`,
          ),
        );
        assert.equal(field(made, "State"), "READY");
        assert.equal(field(made, "Display Name"), "from file");
        assert.equal(field(made, "Max Replica Count"), "4");
        assert.equal(field(made, "Scale Up Window"), "45s", "from the file");
        assert.equal(field(made, "Scale Down Window"), "1200s", "the flag wins");
        // The example file docs/firectl.md names, as shipped.
        const example = ok(await shell.run(`firectl deployment create tiny-public --deployment-id example --file=${EXAMPLE_CONFIG} --scale-to-zero-window 1h`));
        assert.deepEqual(
          ["Display Name", "Max Replica Count", "Accelerator Type", "Precision", "Scale Up Window", "Scale To Zero Window"].map((name) => field(example, name)),
          ["Llama 3.1 8B Instruct", "2", "NVIDIA_H100_80GB", "FP8", "30s", "3600s"],
        );
        writeFileSync(file, JSON.stringify({ description: "updated from a file" }));
        assert.equal(field(ok(await shell.run(`firectl deployment update from-file --file ${file}`)), "Description"), "updated from a file");
        writeFileSync(file, "[1,2]");
        const notObject = await shell.run(`firectl deployment update from-file --file ${file}`);
        assert.equal(notObject.code, 2);
        assert.match(notObject.stderr, /expected a JSON object of Deployment fields/);
        // Regression (fuzzer): a field given twice was read as its last value; the server refuses such a body, and so does firectl.
        writeFileSync(file, '{"description": "first", "autoscalingPolicy": {"scaleUpWindow": "45s", "scaleUpWindow": "60s"}}');
        const twice = await shell.run(`firectl deployment update from-file --file ${file}`);
        assert.equal(twice.code, 2, twice.stdout);
        assert.match(twice.stderr, /--file .*: field "scaleUpWindow" is given twice in one object: give it once/);
        assert.equal(field(ok(await shell.run("firectl deployment get from-file")), "Description"), "updated from a file");

        // A deployment that ends FAILED: --wait says so and exits 1.
        assert.equal((await h.call("POST", `${A}/models?modelId=far`, { body: { model: { backend: "nowhere" } } })).status, 200);
        const failed = await shell.run("firectl deployment create far --deployment-id far-dep --wait");
        assert.equal(failed.code, 1);
        assert.match(failed.stderr, /deployment accounts\/my-account\/deployments\/far-dep is FAILED: /);
        assert.match(ok(await shell.run("firectl deployment delete far-dep --wait")), /Deleted deployment accounts\/my-account\/deployments\/far-dep/);
        assert.equal((await h.call("GET", `${A}/deployments/far-dep`)).body.state, "DELETED");
        const back = await shell.run("firectl deployment undelete far-dep --wait --wait-timeout 5m");
        assert.equal(back.code, 1, "undeleted, it is FAILED again");
        assert.match(back.stderr, /is FAILED/);

        const data = join(dir, "train.jsonl");
        writeFileSync(data, '{"messages":[{"role":"user","content":"Hi"}]}\n');
        assert.equal(field(ok(await shell.run(`firectl dataset create quiet-set ${data} --quiet`)), "State"), "READY");
        const external = await shell.run("firectl dataset create ext-set --external-url gs://bucket/obj");
        assert.equal(external.code, 2);
        assert.match(external.stderr, /--external-url is not served: Hearth stores a dataset's file itself/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("firectl: the Autoscaling page's commands create and update the policy; a bare public model id deploys", async () => {
      const created = ok(
        await shell.run(
          "firectl deployment create tiny-public --deployment-id fw-scaled --min-replica-count 0 --max-replica-count 3 --scale-to-zero-window 1h --scale-up-window 15s --load-targets concurrent_requests=5,default=0.5",
        ),
      );
      assert.equal(field(created, "Base Model"), "accounts/fireworks/models/tiny-public");
      assert.equal(field(created, "Scale To Zero Window"), "3600s");
      assert.equal(field(created, "Scale Up Window"), "15s");
      assert.equal(field(created, "Load Targets"), "concurrent_requests=5,default=0.5");
      const updated = ok(await shell.run("firectl deployment update fw-scaled --scale-down-window 30m"));
      assert.equal(field(updated, "Scale Down Window"), "1800s");
      assert.equal(field(updated, "Scale Up Window"), "15s", "the other fields stay");
      const bad = await shell.run("firectl deployment update fw-scaled --load-targets gpu=1");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--load-targets.*keys among default, tokens_generated_per_second/);
      for (const spelling of ["0x1", "1e0", "Infinity"]) {
        const respelled = await shell.run(`firectl deployment update fw-scaled --load-targets default=${spelling}`);
        assert.equal(respelled.code, 2, spelling);
        assert.match(respelled.stderr, /--load-targets.*expected key=number pairs/, spelling);
      }
      const short = await shell.run("firectl deployment update fw-scaled --scale-to-zero-window 1m");
      assert.equal(short.code, 1);
      assert.match(short.stderr, /scaleToZeroWindow must be at least 300s/);
      const missing = await shell.run("firectl deployment create no-such-model");
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /model "no-such-model" not found: neither accounts\/my-account\/models\/no-such-model nor accounts\/fireworks\/models\/no-such-model exists/,
      );
    });
  });
}
