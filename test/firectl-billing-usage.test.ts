import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { AccountUsage } from "../src/http/resources/account-usage.ts";
import type { BillingUsage } from "../src/http/resources/billing-usage.ts";
import type { TestHearth } from "./support/hearth.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";
import { firectlAt, ok, type Run } from "./support/run.ts";

const PUBLIC = "accounts/fireworks/models/tiny-public";

/**
 * `firectl billing get-usage` with Fireworks' flags (docs.fireworks.ai/accounts/exporting-usage-and-costs),
 * against a real Hearth whose usage was metered through a model server.
 */
let h: TestHearth;
let stop: () => Promise<void>;
let home: string;
let keyId: string;
const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const RANGE = ["--start-time", `${today}T00:00:00Z`, "--end-time", `${tomorrow}T00:00:00Z`];

const firectl = (args: string[]): Promise<Run> => firectlAt(home, h.baseUrl, h.adminKey)(["billing", "get-usage", ...args]);

before(async () => {
  ({ h, stop } = await startPlatform("sqlite"));
  home = mkdtempSync(join(tmpdir(), "firectl-billing-"));
  assert.equal((await h.call("POST", "/v1/accounts/my-account/users?userId=bot", { body: { serviceAccount: true, role: "user" } })).status, 200);
  const key = await h.call("POST", "/v1/accounts/my-account/users/bot/apiKeys", { body: { apiKey: { displayName: "ci-runner" } } });
  keyId = key.body.keyId;
  for (let i = 0; i < 2; i++) assert.equal((await infer(h, key.body.key, chat(PUBLIC))).status, 200);
});

after(async () => {
  await stop();
  rmSync(home, { recursive: true, force: true });
});

describe("firectl billing get-usage with Fireworks' flags", () => {
  test("--usage-type serverless --group-by api_key_id --group-by api_key_name --group-by model_name -o json prints the API's serverlessCosts", async () => {
    const got: AccountUsage = JSON.parse(
      ok(
        await firectl([
          ...RANGE,
          "--usage-type",
          "serverless",
          "--group-by",
          "api_key_id",
          "--group-by",
          "api_key_name",
          "--group-by",
          "model_name",
          "-o",
          "json",
        ]),
      ),
    );
    assert.deepEqual(
      got.serverlessCosts.map((r) => [r.group, r.promptTokens, r.completionTokens]),
      [[{ api_key_id: keyId, api_key_name: "ci-runner", model_name: PUBLIC }, "22", "14"]],
    );
    assert.deepEqual([got.dedicatedCosts, got.trainingCosts], [[], []]);
  });

  test("text prints account costs, then a row per day and group, the dimensions as columns in the order asked", async () => {
    const text = ok(await firectl([...RANGE, "--group-by", "model_name", "--group-by", "api_key_name"]));
    assert.match(text, /^Account costs\n {2}Serverless: +\$\d+\.\d{6}\n/m);
    assert.match(text, /^DAY \(UTC\)\s+MODEL_NAME\s+API_KEY_NAME\s+PROMPT TOKENS\s+COMPLETION TOKENS\s+COST USD$/m);
    assert.match(text, new RegExp(`^${today}\\s+${PUBLIC}\\s+ci-runner\\s+22\\s+14\\s+\\d+\\.\\d{6}$`, "m"));
    const costs = ok(await firectl([...RANGE, "--account-costs-only"]));
    assert.match(costs, /^Account costs\n/);
    assert.doesNotMatch(costs, /PROMPT TOKENS/);
    const refused = await firectl([...RANGE, "--account-costs-only", "-o", "json"]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--account-costs-only prints text only/);
  });

  test("--filter key=value keeps the rows of the values given (repeated values OR'ed); dedicated-deployment answers empty", async () => {
    const one: AccountUsage = JSON.parse(ok(await firectl([...RANGE, "--filter", "api_key_name=ci-runner", "--filter", "api_key_name=other", "-o", "json"])));
    assert.deepEqual(
      one.serverlessCosts.map((r) => r.group),
      [{ model_name: PUBLIC }],
    );
    const none: AccountUsage = JSON.parse(ok(await firectl([...RANGE, "--filter", "model_name=accounts/x/models/y", "-o", "json"])));
    assert.deepEqual(none.serverlessCosts, []);
    const dedicated: AccountUsage = JSON.parse(
      ok(await firectl([...RANGE, "--usage-type", "dedicated-deployment", "--group-by", "deployment_name", "--group-by", "accelerator_type", "-o", "json"])),
    );
    assert.deepEqual(dedicated, { serverlessCosts: [], dedicatedCosts: [], trainingCosts: [] });
  });

  test("what Hearth cannot do is refused naming it: a bad flag value exits 2, an unfillable dimension or timezone is the API's 400 (exit 1)", async () => {
    const type = await firectl([...RANGE, "--usage-type", "on-demand"]);
    assert.equal(type.code, 2);
    assert.match(type.stderr, /--usage-type.*allowed choices are all, serverless, dedicated-deployment, training/);
    const filter = await firectl([...RANGE, "--filter", "model_name"]);
    assert.equal(filter.code, 2);
    assert.match(filter.stderr, /--filter 'model_name': use key=value/);
    const mixed = await firectl([...RANGE, "--usage-type", "serverless", "--group-by", "day"]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--group-by day is Hearth's dimension/);
    const zone = await firectl([...RANGE, "--timezone", "Europe/London"]);
    assert.equal(zone.code, 1);
    assert.match(zone.stderr, /timezone "Europe\/London".*UTC/);
    const annotation = await firectl([...RANGE, "--group-by", "annotations.team"]);
    assert.equal(annotation.code, 1);
    assert.match(annotation.stderr, /annotations\.team/);
  });

  test("without Fireworks' flags it prints Hearth's report as before", async () => {
    const hearth: BillingUsage = JSON.parse(ok(await firectl(["--group-by", "day,model", "-o", "json"])));
    assert.deepEqual(
      hearth.usage.map((u) => [u.day, u.model, u.requestCount]),
      [[today, PUBLIC, 2]],
    );
  });
});
