import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { startUpstream, UPSTREAM_SECRET, writePlatformConfig, type FakeUpstream } from "./support/model-server.ts";
import { field, firectlShell, ok, type FirectlShell } from "./support/run.ts";

/**
 * Fireworks' Deployment fields beyond replicas and accelerators (precision, placement,
 * enableAddons, speculative decoding, …) over REST as the Python SDK sends them, and firectl's
 * flags for them as Fireworks' guides type them (`--region GLOBAL`, `--enable-addons`, …):
 * stored, shown under Fireworks' names, changed and cleared by an update mask, read by a read
 * mask, checked by Fireworks' enums and rules; expireTime and direct routes, which Hearth cannot
 * honour, refused with a sentence that says so. Found by a review: each field was refused as
 * unknown, and each flag as an unknown option.
 */
const A = "/v1/accounts/my-account";
const MODEL = "accounts/fireworks/models/example-chat";

for (const dialect of DIALECTS) {
  describe(`deployment serving options (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let shell: FirectlShell;
    before(async () => {
      up = await startUpstream();
      const backend = { name: "local", baseUrl: up.baseUrl, apiKey: UPSTREAM_SECRET, timeoutMs: 1500 };
      const models = [
        { id: "example-chat", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 1, outputPricePerMillionTokens: 2 },
        { id: "example-draft", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 1, outputPricePerMillionTokens: 2 },
      ];
      const config = writePlatformConfig(mkdtempSync(join(tmpdir(), "hearth-platform-")), up, { backends: [{ ...backend, models }] });
      h = await startHearth(dialect, { HEARTH_CONFIG: config });
      await h.listen();
      shell = firectlShell(() => ({ baseUrl: h.baseUrl, key: h.adminKey }));
    });
    after(async () => {
      shell.close();
      await h.stop();
      await up.close();
    });

    test("REST: the reviewer's create with precision FP8 is a 200, and the fields are stored, shown, masked and cleared", async () => {
      const made = await h.call("POST", `${A}/deployments?deploymentId=dep1`, {
        body: { baseModel: MODEL, minReplicaCount: 0, maxReplicaCount: 1, precision: "FP8" },
      });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.equal(made.body.precision, "FP8");
      assert.equal(made.body.state, "READY");

      const full = await h.call("POST", `${A}/deployments?deploymentId=dep2`, {
        body: {
          baseModel: MODEL,
          enable_addons: true,
          placement: { multiRegion: "US" },
          draftModel: "example-draft",
          draftTokenCount: 4,
          enableSessionAffinity: true,
          autoTune: { longPrompt: true },
          disableDeploymentSizeValidation: true,
          enableHotLoad: true,
          hotLoadBucketType: "S3",
          enableMtp: false,
          maxContextLength: 32768,
          directRouteType: "DIRECT_ROUTE_TYPE_UNSPECIFIED",
          expireTime: "",
        },
      });
      assert.equal(full.status, 200, JSON.stringify(full.body));
      const expected = {
        enableAddons: true,
        placement: { multiRegion: "US" },
        draftModel: "accounts/fireworks/models/example-draft",
        draftTokenCount: 4,
        enableSessionAffinity: true,
        autoTune: { longPrompt: true },
        disableDeploymentSizeValidation: true,
        enableHotLoad: true,
        hotLoadBucketType: "S3",
        maxContextLength: 32768,
      };
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(full.body[key], value, key);
      assert.equal("enableMtp" in full.body, false, "false is unset, left out as protobuf JSON does");
      assert.equal("expireTime" in full.body || "directRouteType" in full.body, false);

      const got = await h.call("GET", `${A}/deployments/dep2?readMask=placement,draft_model,autoTune`);
      assert.deepEqual(got.body, {
        name: "accounts/my-account/deployments/dep2",
        placement: { multiRegion: "US" },
        draftModel: "accounts/fireworks/models/example-draft",
        autoTune: { longPrompt: true },
      });
      const listed = await h.call("GET", `${A}/deployments?readMask=precision`);
      assert.deepEqual(
        listed.body.deployments.map((d: { name: string; precision?: string }) => [d.name, d.precision]),
        [
          ["accounts/my-account/deployments/dep1", "FP8"],
          ["accounts/my-account/deployments/dep2", undefined],
        ],
      );

      // A PATCH changes what it names and keeps the rest; an update mask clears to unset.
      const patched = await h.call("PATCH", `${A}/deployments/dep2`, { body: { precision: "BF16", placement: { region: "US_IOWA_1" } } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.precision, "BF16");
      assert.deepEqual(patched.body.placement, { region: "US_IOWA_1" });
      assert.equal(patched.body.enableAddons, true);
      const cleared = await h.call("PATCH", `${A}/deployments/dep2?updateMask=enable_addons,placement,autoTune,draftModel,draftTokenCount`, {
        body: {},
      });
      assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
      for (const key of ["enableAddons", "placement", "autoTune", "draftModel", "draftTokenCount"]) assert.equal(key in cleared.body, false, key);
      assert.equal(cleared.body.precision, "BF16");
      assert.equal(cleared.body.enableSessionAffinity, true);

      // The SDK's update takes back the resource it read: the options round-trip unchanged.
      const current = (await h.call("GET", `${A}/deployments/dep2`)).body;
      const back = await h.call("PATCH", `${A}/deployments/dep2`, { body: current });
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.deepEqual({ ...back.body, updateTime: current.updateTime }, current);
    });

    test("REST: Fireworks' enums and rules, each a 400 naming the field; expireTime and direct routes refused as not honoured", async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ precision: "FP7" }, /precision must be one of FP16, FP8, /],
        [{ placement: { multiRegion: "MARS" } }, /placement\.multiRegion must be one of GLOBAL, US, EUROPE, APAC/],
        [
          { placement: { region: "US_IOWA_1", multiRegion: "US" } },
          /placement names exactly one of region, multiRegion and regions, not region and multiRegion/,
        ],
        [{ placement: { zone: "a" } }, /unknown field "zone" in placement/],
        [{ enableAddons: "yes" }, /enableAddons must be true or false/],
        [{ draftTokenCount: -1 }, /draftTokenCount must not be negative/],
        [{ draftTokenCount: 2 ** 31 }, /draftTokenCount/],
        [{ draftModel: "example-draft" }, /draftTokenCount is required with draftModel \(typically 4\)/],
        [{ draftModel: "example-draft", draftTokenCount: 4, ngramSpeculationLength: 3 }, /draftModel and ngramSpeculationLength cannot be used together/],
        [{ draftModel: "not a model", draftTokenCount: 4 }, /invalid draftModel "not a model": use a model id or accounts\/\{account\}\/models\/\{model\}/],
        [{ hotLoadBucketType: "FTP" }, /hotLoadBucketType must be one of MINIO, S3, NEBIUS, FW_HOSTED/],
        [{ expireTime: "tomorrow" }, /invalid expireTime "tomorrow": expected an RFC 3339 timestamp/],
        [{ expireTime: "2099-01-01T00:00:00Z" }, /Hearth does not expire deployments \(Fireworks deletes one at its expireTime\)/],
        [{ directRouteType: "INTERNET" }, /Hearth serves deployments only through its gateway: direct routes \(directRouteType\) are not offered/],
        [{ directRouteApiKeys: ["k1"] }, /direct routes \(directRouteApiKeys\) are not offered/],
        [{ replicaCount: 1, region: "US_IOWA_1" }, /unknown field "(replicaCount|region)"/],
      ];
      for (const [fields, message] of cases) {
        const res = await h.call("POST", `${A}/deployments?deploymentId=refused`, { body: { baseModel: MODEL, ...fields } });
        assert.equal(res.status, 400, `${JSON.stringify(fields)}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, JSON.stringify(fields));
      }
      const missing = await h.call("POST", `${A}/deployments?deploymentId=refused`, {
        body: { baseModel: MODEL, draftModel: "no-such-draft", draftTokenCount: 4 },
      });
      assert.equal(missing.status, 404, "as a baseModel not found");
      assert.match(
        missing.body.error.message,
        /draftModel "no-such-draft": model "no-such-draft" not found: neither accounts\/my-account\/models\/no-such-draft/,
      );
      assert.equal((await h.call("GET", `${A}/deployments/refused`)).status, 404, "nothing was created");
      const patched = await h.call("PATCH", `${A}/deployments/dep1`, { body: { expireTime: "2099-01-01T00:00:00Z" } });
      assert.equal(patched.status, 400);
      assert.match(patched.body.error.message, /Hearth does not expire deployments/);
      const validated = await h.call("POST", `${A}/deployments?deploymentId=checked&validateOnly=true&disableSpeculativeDecoding=true`, {
        body: { baseModel: MODEL, precision: "FP4", placement: { regions: ["US_IOWA_1", "EU_FRANKFURT_1"] } },
      });
      assert.equal(validated.status, 200, JSON.stringify(validated.body));
      assert.deepEqual(validated.body.placement, { regions: ["US_IOWA_1", "EU_FRANKFURT_1"] });
    });

    test("firectl: the reviewer's create --region GLOBAL, and the guides' flags, create and update the fields", async () => {
      const global = ok(await shell.run(`firectl deployment create ${MODEL} --region GLOBAL --deployment-id fw-global`));
      assert.equal(field(global, "Placement"), "GLOBAL");
      assert.deepEqual((await h.call("GET", `${A}/deployments/fw-global`)).body.placement, { multiRegion: "GLOBAL" });

      const made = ok(
        await shell.run(
          `firectl deployment create ${MODEL} --deployment-id fw-lora --enable-addons --precision FP8 --region US_IOWA_1 --disable-speculative-decoding --long-prompt --enable-session-affinity`,
        ),
      );
      assert.equal(field(made, "Precision"), "FP8");
      assert.equal(field(made, "Placement"), "US_IOWA_1");
      assert.equal(field(made, "Enable Addons"), "true");
      assert.equal(field(made, "Long Prompt"), "true");
      assert.equal(field(made, "Enable Session Affinity"), "true");

      const drafted = ok(await shell.run("firectl deployment update fw-lora --draft-model example-draft --draft-token-count 4 --enable-addons=false"));
      assert.equal(field(drafted, "Draft Model"), "accounts/fireworks/models/example-draft");
      assert.equal(field(drafted, "Draft Token Count"), "4");
      assert.equal(field(drafted, "Enable Addons"), "false");
      assert.equal(field(drafted, "Precision"), "FP8", "the rest stays");
      const json = JSON.parse(ok(await shell.run("firectl deployment get fw-lora -o json")));
      assert.deepEqual([json.placement, json.autoTune, json.draftTokenCount], [{ region: "US_IOWA_1" }, { longPrompt: true }, 4]);

      const expiring = await shell.run(`firectl deployment create ${MODEL} --deployment-id fw-expiring --expire-time "2099-01-31 18:00:00"`);
      assert.equal(expiring.code, 1, expiring.stderr);
      assert.match(expiring.stderr, /Hearth does not expire deployments/);
      const badRegion = await shell.run(`firectl deployment create ${MODEL} --region MARS`);
      assert.equal(badRegion.code, 2);
      assert.match(badRegion.stderr, /--region.*use a multi-region \(GLOBAL, US, EUROPE, APAC\) or a region/);
      const badPrecision = await shell.run(`firectl deployment create ${MODEL} --precision FP7`);
      assert.equal(badPrecision.code, 2);
      assert.match(badPrecision.stderr, /--precision.*use one of FP16, FP8/);
      const ngram = await shell.run("firectl deployment update fw-lora --ngram-speculation-length 3");
      assert.equal(ngram.code, 1);
      assert.match(ngram.stderr, /draftModel and ngramSpeculationLength cannot be used together/);

      // A deployment read back as JSON is a deployment-config.json for another: its output-only
      // fields (name, state, createTime, …) are ignored, as AIP-133 and AIP-203 say (it was a 400).
      const file = join(mkdtempSync(join(tmpdir(), "hearth-deployment-file-")), "fw-lora.json");
      ok(await shell.run(`firectl deployment get fw-lora -o json > ${file}`));
      const copy = ok(await shell.run(`firectl deployment create ${MODEL} --file ${file} --deployment-id fw-copy`));
      assert.equal(field(copy, "Name"), "accounts/my-account/deployments/fw-copy");
      assert.equal(field(copy, "Draft Model"), "accounts/fireworks/models/example-draft");
      assert.equal(field(copy, "Precision"), "FP8");
      const read = (await h.call("GET", `${A}/deployments/fw-lora`)).body;
      const again = await h.call("POST", `${A}/deployments?deploymentId=fw-copy-2`, { body: read });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual([again.body.name, again.body.placement], ["accounts/my-account/deployments/fw-copy-2", read.placement]);
      assert.notEqual(again.body.createTime, read.createTime);
      const unknown = await h.call("POST", `${A}/deployments?deploymentId=fw-copy-3`, { body: { ...read, precison: "FP8" } });
      assert.equal(unknown.status, 400, "a field the resource does not have is still refused");
      assert.match(unknown.body.error.message, /unknown field "precison"/);
    });
  });
}
