import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BillingUsage } from "../src/http/resources/billing-usage.ts";
import type { Dataset } from "../src/http/resources/dataset.ts";
import type { TestHearth } from "./support/hearth.ts";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, infer, startPlatform } from "./support/platform.ts";
import { field, firectlAt, firstColumn, ok, type Run } from "./support/run.ts";

/** firectl's model, deployment, dataset and billing commands, end to end against a real Hearth and model server. */
let h: TestHearth;
let stop: () => Promise<void>;
let home: string;
let botKey: string;

const firectl = (args: string[], key = h.adminKey): Promise<Run> => firectlAt(home, h.baseUrl, key)(args);

before(async () => {
  ({ h, stop } = await startPlatform("sqlite"));
  home = mkdtempSync(join(tmpdir(), "firectl-resources-"));
  botKey = (await serviceAccountWithKey(h, "bot", "contributor")).key;
});

after(async () => {
  await stop();
  rmSync(home, { recursive: true, force: true });
});

describe("firectl: models, deployments, datasets and billing", () => {
  test("a contributor creates a model, deploys it, and manages both; list, get, update and delete work in both word orders", async () => {
    const model = ok(await firectl(["model", "create", "tiny", "--backend", "local", "--upstream-model", "tiny-upstream", "--input-price", "0.5"], botKey));
    assert.equal(field(model, "Name"), "accounts/my-account/models/tiny");
    assert.equal(field(model, "Created By"), "bot@my-account.sa.hearth.local");
    assert.equal(field(model, "Input Price"), "$0.5 per million tokens");

    const dep = ok(await firectl(["deployment", "create", "accounts/my-account/models/tiny", "--deployment-id", "dep"], botKey));
    assert.equal(field(dep, "State"), "READY");
    assert.deepEqual(firstColumn(ok(await firectl(["list", "deployments"], botKey))), ["dep"]);
    assert.equal(field(ok(await firectl(["deployment", "update", "dep", "--display-name", "prod"], botKey)), "Display Name"), "prod");
    assert.equal(field(ok(await firectl(["get", "deployment", "accounts/my-account/deployments/dep"], botKey)), "Display Name"), "prod");
    const publicModel = ok(await firectl(["model", "get", "accounts/fireworks/models/tiny-public"], botKey));
    assert.equal(field(publicModel, "Public"), "yes");

    const refused = await firectl(["model", "delete", "tiny"], botKey);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^firectl: model "accounts\/my-account\/models\/tiny" is used by 1 deployment\(s\); delete them first \(FAILED_PRECONDITION\)/,
    );
    ok(await firectl(["deployment", "delete", "dep"], botKey));
    assert.match(ok(await firectl(["model", "delete", "tiny"], botKey)), /Deleted model accounts\/my-account\/models\/tiny/);
    assert.deepEqual(firstColumn(ok(await firectl(["model", "list"]))), []);
  });

  test("firectl dataset create ID FILE.jsonl uploads the file; a refused upload keeps nothing and names the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "firectl-data-"));
    const good = join(dir, "train.jsonl");
    writeFileSync(good, '{"messages":[{"role":"user","content":"hi"}]}\n{"messages":[{"role":"user","content":"yo"}]}\n');
    const created = ok(await firectl(["dataset", "create", "my-data", good, "--display-name", "Train"], botKey));
    assert.equal(field(created, "State"), "READY");
    assert.equal(field(created, "Example Count"), "2");

    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"messages":[{"role":"user","content":"hi"}]}\nnot json\n');
    const refused = await firectl(["dataset", "create", "bad-data", bad], botKey);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, /^firectl: line 2 is not valid JSON.*\(INVALID_ARGUMENT\)\n$/);
    assert.deepEqual(firstColumn(ok(await firectl(["dataset", "list"], botKey))), ["my-data"]);

    // --format completion: lines are {"prompt", "completion"}; chat lines are then refused, naming the first.
    const pairs = join(dir, "pairs.jsonl");
    writeFileSync(pairs, '{"prompt":"2+2=","completion":"4"}\n');
    const completion = ok(await firectl(["dataset", "create", "pairs", pairs, "--format", "completion"], botKey));
    assert.equal(field(completion, "Format"), "COMPLETION");
    const mismatch = await firectl(["dataset", "create", "pairs-bad", good, "--format", "completion"], botKey);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /^firectl: line 1 is not a COMPLETION example: it needs "prompt", a string \(INVALID_ARGUMENT\)\n$/);
    const unknown = await firectl(["dataset", "create", "x", pairs, "--format", "text"], botKey);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--format takes chat, completion, rl, not "text"/);
    ok(await firectl(["dataset", "delete", "pairs"], botKey));
    // Without --format, as Fireworks' firectl uploads a file: its first line says what it holds (it was refused as not CHAT).
    const inferred = ok(await firectl(["dataset", "create", "pairs-2", pairs], botKey));
    assert.deepEqual([field(inferred, "State"), field(inferred, "Format")], ["READY", "COMPLETION"]);
    ok(await firectl(["dataset", "delete", "pairs-2"], botKey));

    const missing = await firectl(["dataset", "create", "x", join(dir, "absent.jsonl")], botKey);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*absent\.jsonl \(ENOENT\)/);
    assert.equal(field(ok(await firectl(["dataset", "update", "my-data", "--display-name", "Train v2"], botKey)), "Display Name"), "Train v2");
    assert.equal((JSON.parse(ok(await firectl(["dataset", "get", "my-data", "-o", "json"]))) as Dataset).exampleCount, "2");
    ok(await firectl(["delete", "dataset", "my-data"], botKey));
    rmSync(dir, { recursive: true, force: true });
  });

  test("firectl billing get-usage shows the tokens of each key", async () => {
    for (let i = 0; i < 2; i++) assert.equal((await infer(h, botKey, chat("accounts/fireworks/models/tiny-public"))).status, 200);
    const usage: BillingUsage = JSON.parse(ok(await firectl(["billing", "get-usage", "-o", "json"])));
    const row = usage.usage.find((u) => u.principal === "bot@my-account.sa.hearth.local");
    assert.ok(row, "a row for the key's principal");
    assert.deepEqual([row.requestCount, row.promptTokens, row.completionTokens], [2, 22, 14]);
    const text = ok(await firectl(["billing", "get-usage"]));
    assert.match(text, /accounts\/fireworks\/models\/tiny-public\s+bot@my-account\.sa\.hearth\.local\s+\S+\s+2\s+22\s+14/);
  });

  test("firectl billing get-usage --group-by day shows one row per UTC day; the API refuses an unknown dimension naming groupBy", async () => {
    assert.equal((await infer(h, botKey, chat("accounts/fireworks/models/tiny-public"))).status, 200);
    const today = new Date().toISOString().slice(0, 10);
    const all: BillingUsage = JSON.parse(ok(await firectl(["billing", "get-usage", "-o", "json"])));
    const byDay: BillingUsage = JSON.parse(ok(await firectl(["billing", "get-usage", "--group-by", "day", "-o", "json"])));
    assert.deepEqual(
      byDay.usage.map((u) => Object.keys(u).sort()),
      [["completionTokens", "costUsd", "day", "promptTokens", "requestCount", "totalTokens"]],
    );
    assert.equal(byDay.usage[0]!.day, today);
    assert.equal(byDay.usage[0]!.requestCount, all.total.requestCount);
    const byDayAndModel: BillingUsage = JSON.parse(ok(await firectl(["billing", "get-usage", "--group-by", "day,model", "-o", "json"])));
    assert.deepEqual(
      byDayAndModel.usage.map((u) => [u.day, u.model, u.principal]),
      [[today, "accounts/fireworks/models/tiny-public", undefined]],
    );
    assert.match(
      ok(await firectl(["billing", "get-usage", "--group-by", "day"])),
      new RegExp(`^DAY \\(UTC\\)\\s+REQUESTS[^\\n]*\\n${today}\\s+${all.total.requestCount}\\s`, "m"),
    );
    const refused = await h.call("GET", "/v1/accounts/my-account/billingUsage?groupBy=day,week", { key: h.adminKey });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /groupBy/);
    // firectl refuses it before asking, as a bad flag value (exit 2), naming the flag.
    for (const value of ["week", "day,day", "day,"]) {
      const local = await firectl(["billing", "get-usage", "--group-by", value]);
      assert.equal(local.code, 2, `${value}: ${local.stderr}`);
      assert.match(
        local.stderr,
        /^firectl: invalid --group-by '.*': use distinct values of day, model, principal, apiKey, comma-separated, or Fireworks' model_name, .*\(repeated\); see 'firectl billing get-usage --help'$/m,
      );
    }
  });
});
