import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Deployment } from "../src/http/resources/deployment.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { freePort } from "./support/process.ts";
import { startUpstream, writePlatformConfig, type FakeUpstream } from "./support/model-server.ts";
import { account, chat, infer } from "./support/platform.ts";
import { field, firectlShell, firstColumn, ok } from "./support/run.ts";

/**
 * A deployment's desired state (replica bounds, accelerator, shape), `:scale`, and the soft delete
 * Fireworks clients expect (DELETED, `showDeleted`, `:undelete`, `hard`), on account "a" with the
 * public model `accounts/fireworks/models/m`, over HTTP and through firectl as typed in a shell.
 */
const A = "/v1/accounts/a";
const DAY = 24 * 3600 * 1000;
const ISSUE_BODY = { baseModel: "accounts/fireworks/models/m", minReplicaCount: 0, maxReplicaCount: 2 };

/** A Hearth whose operator catalogue holds `accounts/fireworks/models/m`, served by a fake upstream. */
async function startWithModelM(dialect: "sqlite" | "postgres"): Promise<{ h: TestHearth; up: FakeUpstream; dir: string }> {
  const up = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), "hearth-deployments-"));
  const file = writePlatformConfig(dir, up, {}, undefined, await freePort());
  const config = JSON.parse(readFileSync(file, "utf8")) as { backends: Array<{ models?: Array<Record<string, unknown>> }> };
  config.backends[0]!.models!.push({ id: "m", upstreamModel: "tiny-upstream", inputPricePerMillionTokens: 1, outputPricePerMillionTokens: 2 });
  writeFileSync(file, JSON.stringify(config));
  const h = await startHearth(dialect, { HEARTH_CONFIG: file });
  await h.listen();
  return { h, up, dir };
}

for (const dialect of DIALECTS) {
  describe(`deployment lifecycle (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let dir: string;
    let admin: string;
    const call = (method: string, url: string, body?: unknown) => h.call(method, url, { key: admin, ...(body === undefined ? {} : { body }) });
    const usage = async () => (await call("GET", `${A}/quotas/deployments`)).body.usage as number;

    before(async () => {
      ({ h, up, dir } = await startWithModelM(dialect));
      ({ admin } = await account(h, "a", {}));
    });
    after(async () => {
      await h.stop();
      await up.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("without deploymentId an id is generated; replica bounds, accelerator, shape, description and annotations are stored and returned", async () => {
      const generated = await call("POST", `${A}/deployments`, ISSUE_BODY);
      assert.equal(generated.status, 200, JSON.stringify(generated.body));
      assert.match(generated.body.name, /^accounts\/a\/deployments\/deployment-[0-9a-f]{10}$/);
      assert.equal(generated.body.state, "READY");
      assert.deepEqual([generated.body.minReplicaCount, generated.body.maxReplicaCount, generated.body.replicaCount], [0, 2, 0]);
      assert.equal(generated.body.acceleratorType, undefined);

      const full = {
        ...ISSUE_BODY,
        acceleratorType: "NVIDIA_H100_80GB",
        acceleratorCount: 2,
        deploymentShape: "accounts/fireworks/deploymentShapes/m-fast",
        description: "the fast one",
        annotations: { team: "search", "example.com/owner": "ops" },
      };
      const created = await call("POST", `${A}/deployments?deploymentId=full`, full);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const got = await call("GET", `${A}/deployments/full`);
      for (const [key, value] of Object.entries(full)) assert.deepEqual(got.body[key], value, key);
      assert.equal(got.body.replicaCount, 0);

      // Only the bounds default: maxReplicaCount is max(minReplicaCount, 1).
      const defaults = await call("POST", `${A}/deployments?deploymentId=defaults`, { baseModel: "accounts/fireworks/models/m", minReplicaCount: 3 });
      assert.deepEqual([defaults.body.minReplicaCount, defaults.body.maxReplicaCount, defaults.body.replicaCount], [3, 3, 3]);

      const updated = await call("PATCH", `${A}/deployments/defaults?updateMask=maxReplicaCount,minReplicaCount`, { maxReplicaCount: 5, minReplicaCount: 4 });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.deepEqual([updated.body.minReplicaCount, updated.body.maxReplicaCount, updated.body.replicaCount], [4, 5, 4]);
      for (const id of [idOf(generated.body), "full", "defaults"]) assert.equal((await call("DELETE", `${A}/deployments/${id}?hard=true`)).status, 200);
    });

    test("bad desired state is a 400 naming the field", async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ acceleratorType: "NVIDIA_T4" }, /acceleratorType must be one of NVIDIA_A100_80GB/],
        [{ minReplicaCount: 3, maxReplicaCount: 2 }, /minReplicaCount \(3\) must not exceed maxReplicaCount \(2\)/],
        [{ maxReplicaCount: -1 }, /maxReplicaCount must not be negative/],
        [{ acceleratorCount: 1.5 }, /acceleratorCount must be a whole number/],
        [{ deploymentShape: "not a shape" }, /deploymentShape is a shape id or accounts/],
        [{ annotations: { "bad key!": "x" } }, /annotation keys/],
      ];
      for (const [extra, message] of cases) {
        const res = await call("POST", `${A}/deployments?deploymentId=bad`, { ...ISSUE_BODY, ...extra });
        assert.equal(res.status, 400, JSON.stringify(extra));
        assert.match(res.body.error.message, message);
      }
      assert.equal((await call("GET", `${A}/deployments/bad`)).status, 404);
    });

    test(":scale sets replicaCount within the bounds", async () => {
      assert.equal((await call("POST", `${A}/deployments?deploymentId=d`, ISSUE_BODY)).status, 200);
      const scaled = await call("PATCH", `${A}/deployments/d:scale`, { replicaCount: 1 });
      assert.equal(scaled.status, 200, JSON.stringify(scaled.body));
      assert.equal(scaled.body.replicaCount, 1);
      assert.equal((await call("GET", `${A}/deployments/d`)).body.replicaCount, 1);

      const above = await call("PATCH", `${A}/deployments/d:scale`, { replicaCount: 3 });
      assert.equal(above.status, 400);
      assert.equal(above.body.error.message, "replicaCount 3 is outside the deployment's bounds: minReplicaCount 0, maxReplicaCount 2");
      const negative = await call("PATCH", `${A}/deployments/d:scale`, { replicaCount: -1 });
      assert.equal(negative.status, 400);
      assert.match(negative.body.error.message, /replicaCount must not be negative/);
      assert.equal((await call("PATCH", `${A}/deployments/nope:scale`, { replicaCount: 1 })).status, 404);
      assert.equal((await call("DELETE", `${A}/deployments/d?hard=true`)).status, 200);
    });

    test("regression: without orderBy deployments are listed oldest first, as Fireworks' ListDeployments orders them (create_time), not by name", async () => {
      const ids = ["zz-older", "aa-newer"];
      const both = encodeURIComponent('deployment_id="zz-older" OR deployment_id="aa-newer"');
      const idsOf = async (query: string) =>
        ((await call("GET", `${A}/deployments?filter=${both}${query}`)).body.deployments as Deployment[]).map((d) => d.name.split("/").pop());
      try {
        for (const id of ids) {
          assert.equal((await call("POST", `${A}/deployments?deploymentId=${id}`, ISSUE_BODY)).status, 200);
          await new Promise((resolve) => setTimeout(resolve, 5)); // distinct create times
        }
        assert.deepEqual(await idsOf(""), ["zz-older", "aa-newer"]);
        assert.deepEqual(await idsOf("&orderBy=name"), ["aa-newer", "zz-older"], "orderBy still wins");
        const first = await call("GET", `${A}/deployments?filter=${both}&pageSize=1`);
        assert.deepEqual(
          await idsOf(`&pageSize=1&pageToken=${encodeURIComponent(first.body.nextPageToken)}`),
          ["aa-newer"],
          "the page token continues in that order",
        );
      } finally {
        for (const id of ids) await call("DELETE", `${A}/deployments/${id}?hard=true`);
      }
    });

    test("delete is soft: DELETED, listed only with showDeleted, not counted, id kept, serves nothing, undeleted; hard=true purges", async () => {
      assert.equal((await call("POST", `${A}/deployments?deploymentId=d`, ISSUE_BODY)).status, 200);
      assert.equal((await infer(h, admin, chat("accounts/a/deployments/d"))).status, 200);
      assert.equal(await usage(), 1);

      const deleted = await call("DELETE", `${A}/deployments/d`);
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      const got = await call("GET", `${A}/deployments/d`);
      assert.equal(got.status, 200);
      assert.equal(got.body.state, "DELETED");
      assert.equal(Date.parse(got.body.purgeTime) - Date.parse(got.body.deleteTime), 7 * DAY);
      const names = async (query: string) => (await call("GET", `${A}/deployments${query}`)).body.deployments.map((d: Deployment) => d.name);
      assert.deepEqual(await names(""), []);
      assert.deepEqual(await names("?showDeleted=true"), ["accounts/a/deployments/d"]);
      assert.equal(await usage(), 0);

      const refused = await infer(h, admin, chat("accounts/a/deployments/d"));
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /deployment "accounts\/a\/deployments\/d" is DELETED/);
      const taken = await call("POST", `${A}/deployments?deploymentId=d`, ISSUE_BODY);
      assert.equal(taken.status, 409);
      assert.match(taken.body.error.message, /is deleted but not yet purged/);
      assert.equal((await call("PATCH", `${A}/deployments/d:scale`, { replicaCount: 1 })).status, 400);
      assert.equal((await call("DELETE", `${A}/deployments/d`)).status, 400);

      const restored = await call("POST", `${A}/deployments/d:undelete`, {});
      assert.equal(restored.status, 200, JSON.stringify(restored.body));
      assert.equal(restored.body.state, "READY");
      assert.equal(restored.body.deleteTime, undefined);
      assert.equal(await usage(), 1);
      assert.equal((await infer(h, admin, chat("accounts/a/deployments/d"))).status, 200);
      const again = await call("POST", `${A}/deployments/d:undelete`, {});
      assert.equal(again.status, 400);
      assert.match(again.body.error.message, /is not deleted/);

      assert.equal((await call("DELETE", `${A}/deployments/d?hard=true`)).status, 200);
      assert.equal((await call("GET", `${A}/deployments/d`)).status, 404);
      assert.deepEqual(await names("?showDeleted=true"), []);
      assert.equal((await call("POST", `${A}/deployments/d:undelete`, {})).status, 404);
      assert.equal((await call("POST", `${A}/deployments?deploymentId=d`, ISSUE_BODY)).status, 200);
      assert.equal((await call("DELETE", `${A}/deployments/d?hard=true`)).status, 200);
    });

    test("regression: :undelete takes no body: a field in one (validateOnly, bogus) is refused and the deployment stays DELETED; {} or none undeletes", async () => {
      assert.equal((await call("POST", `${A}/deployments?deploymentId=d2`, ISSUE_BODY)).status, 200);
      assert.equal((await call("DELETE", `${A}/deployments/d2`)).status, 200);
      const refused = await call("POST", `${A}/deployments/d2:undelete`, { bogus: 1, validateOnly: true });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /^unknown field "bogus" in the request body \(it takes none\)/);
      const validateOnly = await call("POST", `${A}/deployments/d2:undelete`, { validateOnly: true });
      assert.equal(validateOnly.status, 400);
      assert.match(validateOnly.body.error.message, /unknown field "validateOnly" in the request body/);
      assert.equal((await call("POST", `${A}/deployments/d2:undelete`, [])).status, 400);
      assert.equal((await call("GET", `${A}/deployments/d2`)).body.state, "DELETED");
      const restored = await h.call("POST", `${A}/deployments/d2:undelete`, { key: admin });
      assert.equal(restored.status, 200, JSON.stringify(restored.body));
      assert.equal(restored.body.state, "READY");
      assert.equal((await call("DELETE", `${A}/deployments/d2?hard=true`, {})).status, 200);
    });

    test("a deployment deleted longer ago than HEARTH_DELETED_RETENTION_DAYS (7) is purged: gone, not undeletable, its id free", async () => {
      assert.equal((await call("POST", `${A}/deployments?deploymentId=old`, ISSUE_BODY)).status, 200);
      assert.equal((await call("DELETE", `${A}/deployments/old`)).status, 200);
      await h.deps.store.db
        .updateTable("deployments")
        .set({ delete_time: Date.now() - 8 * DAY })
        .where("account_id", "=", "a")
        .where("id", "=", "old")
        .execute();
      assert.equal((await call("GET", `${A}/deployments/old`)).status, 404);
      assert.equal((await call("POST", `${A}/deployments/old:undelete`, {})).status, 404);
      assert.equal((await call("GET", `${A}/deployments?showDeleted=true`)).body.deployments.length, 0);
      assert.equal((await call("POST", `${A}/deployments?deploymentId=old`, ISSUE_BODY)).status, 200);
      assert.equal((await call("DELETE", `${A}/deployments/old?hard=true`)).status, 200);
    });

    test("regression: a deployment deleted while its readiness probe runs stays DELETED: the probe's READY does not bring it back to serve outside the quota", async () => {
      const real = h.deps.probeBackend;
      /** Holds every probe until `release` is called; `started` resolves when one is waiting. */
      const holdProbes = () => {
        let release!: () => void;
        let started!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const waiting = new Promise<void>((r) => (started = r));
        h.deps.probeBackend = async (backend, timeoutMs) => {
          started();
          await gate;
          return real(backend, timeoutMs);
        };
        return { release, waiting };
      };
      try {
        // A create whose probe answers after a delete committed.
        let held = holdProbes();
        const creating = call("POST", `${A}/deployments?deploymentId=racing`, ISSUE_BODY);
        await held.waiting;
        assert.equal((await call("DELETE", `${A}/deployments/racing`)).status, 200);
        held.release();
        const created = await creating;
        assert.equal(created.status, 200, JSON.stringify(created.body));
        assert.equal(created.body.state, "DELETED");
        assert.equal((await call("GET", `${A}/deployments/racing`)).body.state, "DELETED");
        assert.equal(await usage(), 0);
        const refused = await infer(h, admin, chat("accounts/a/deployments/racing"));
        assert.equal(refused.status, 400);
        assert.match(((await refused.json()) as { error: { message: string } }).error.message, /is DELETED/);

        // An undelete whose probe answers after the deployment was deleted again.
        held = holdProbes();
        const undeleting = call("POST", `${A}/deployments/racing:undelete`, {});
        await held.waiting;
        assert.equal((await call("DELETE", `${A}/deployments/racing`)).status, 200);
        held.release();
        assert.equal((await undeleting).status, 200);
        assert.equal((await call("GET", `${A}/deployments/racing`)).body.state, "DELETED");
        assert.equal(await usage(), 0);
      } finally {
        h.deps.probeBackend = real;
      }
      assert.equal((await call("DELETE", `${A}/deployments/racing?hard=true`)).status, 200);
    });
  });
}

const idOf = (d: { name: string }): string => d.name.split("/").pop()!;

describe("firectl deployment create|get|scale|delete|undelete, typed in a shell", () => {
  let h: TestHearth;
  let up: FakeUpstream;
  let dir: string;
  let admin: string;
  const sh = firectlShell(() => ({ baseUrl: h.baseUrl, key: admin }));
  const shell = sh.run;

  before(async () => {
    ({ h, up, dir } = await startWithModelM("sqlite"));
    ({ admin } = await account(h, "a", {}));
  });
  after(async () => {
    await h.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
    sh.close();
  });

  test("the Fireworks flags create, show, scale, delete and undelete a deployment", async () => {
    const created = ok(
      await shell(
        "firectl deployment create accounts/fireworks/models/m --deployment-id d --min-replica-count 0 --max-replica-count 2 " +
          "--accelerator-type NVIDIA_H100_80GB --accelerator-count 2 --description 'the fast one' --annotation team=search",
      ),
    );
    assert.equal(field(created, "State"), "READY");
    const shown = ok(await shell("firectl deployment get d"));
    assert.equal(field(shown, "Accelerator Type"), "NVIDIA_H100_80GB");
    assert.equal(field(shown, "Accelerator Count"), "2");
    assert.equal(field(shown, "Min Replica Count"), "0");
    assert.equal(field(shown, "Max Replica Count"), "2");
    assert.equal(field(shown, "Description"), "the fast one");
    assert.equal(field(shown, "Annotations"), "team=search");

    assert.equal(field(ok(await shell("firectl deployment scale d --replica-count=1")), "Replica Count"), "1");
    const tooMany = await shell("firectl deployment scale d --replica-count=3");
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /replicaCount 3 is outside the deployment's bounds: minReplicaCount 0, maxReplicaCount 2/);
    const badType = await shell("firectl deployment create accounts/fireworks/models/m --accelerator-type NVIDIA_T4");
    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /--accelerator-type/);

    assert.match(ok(await shell("firectl deployment delete d")), /Deleted deployment accounts\/a\/deployments\/d\./);
    assert.equal(field(ok(await shell("firectl deployment get d")), "State"), "DELETED");
    assert.deepEqual(firstColumn(ok(await shell("firectl deployment list"))), []);
    assert.deepEqual(firstColumn(ok(await shell("firectl deployment list --show-deleted"))), ["d"]);
    const restored = ok(await shell("firectl deployment undelete d"));
    assert.equal(field(restored, "State"), "READY");
    assert.equal(field(restored, "Replica Count"), "1");
    ok(await shell("firectl delete deployment d --hard"));
    assert.equal((await shell("firectl deployment get d")).code, 1);
  });
});
