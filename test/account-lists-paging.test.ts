import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { firectlShell, firstColumn, ok } from "./support/run.ts";

/**
 * The lists of identity providers, permission presets, webhooks and audit sinks page, filter, order and mask
 * like every other list (AIP-132, AIP-157, AIP-158, AIP-160), as Fireworks' SDK sends
 * ListIdentityProviders (`filter`, `orderBy`, `pageSize`, `pageToken`, `readMask`): they answered
 * one page and refused those parameters as unknown.
 */
const A = "/v1/accounts/my-account";

const LISTS = [
  {
    collection: "identityProviders",
    create: (i: number) => ({
      path: `${A}/identityProviders?identityProviderId=idp-${i}`,
      body: { displayName: `Élan provider ${i}`, oidcConfig: { issuerUrl: `https://login-${i}.corp.example`, clientId: `c${i}` } },
    }),
  },
  {
    collection: "permissionPresets",
    create: (i: number) => ({
      path: `${A}/permissionPresets?permissionPresetId=preset-${i}`,
      body: { displayName: `Élan preset ${i}`, actions: ["models.list"] },
    }),
  },
  {
    collection: "webhooks",
    create: (i: number) => ({
      path: `${A}/webhooks?webhookId=hook-${i}`,
      body: { displayName: `Élan hook ${i}`, url: `https://hooks-${i}.example/hearth`, events: ["api_key.leaked"] },
    }),
  },
] as const;

for (const dialect of DIALECTS) {
  describe(`identity providers, permission presets, webhooks and audit sinks page like every list (${dialect})`, () => {
    let h: TestHearth;
    const sh = firectlShell(() => ({ baseUrl: h.baseUrl, key: h.adminKey }));
    before(async () => {
      h = await startHearth(dialect);
      await h.listen();
      for (const list of LISTS)
        for (let i = 1; i <= 5; i++) {
          const { path, body } = list.create(i);
          const made = await h.call("POST", path, { body });
          assert.equal(made.status, 200, `${path}: ${JSON.stringify(made.body)}`);
        }
    });
    after(async () => {
      await h.stop();
      sh.close();
    });

    for (const { collection } of LISTS) {
      test(`${collection}: pageSize and pageToken walk every item once; filter, orderBy and readMask apply; unknown parameters are refused`, async () => {
        const url = `${A}/${collection}`;
        const ids: string[] = [];
        let token = "";
        for (let pages = 0; ; pages++) {
          assert.ok(pages < 10, "the pages end");
          const page = await h.call("GET", `${url}?pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
          assert.equal(page.status, 200, JSON.stringify(page.body));
          assert.ok(page.body[collection].length <= 2);
          assert.equal(page.body.totalSize, 5);
          ids.push(...page.body[collection].map((r: { name: string }) => r.name.split("/").pop()));
          token = page.body.nextPageToken;
          if (!token) break;
        }
        assert.equal(ids.length, 5);
        assert.deepEqual([...ids].sort(), ids, "by name by default");
        assert.equal(new Set(ids).size, 5, "each once");

        const newest = await h.call("GET", `${url}?orderBy=${encodeURIComponent("create_time desc")}&pageSize=1&readMask=name,displayName`);
        assert.equal(newest.status, 200, JSON.stringify(newest.body));
        assert.deepEqual(Object.keys(newest.body[collection][0]).sort(), ["displayName", "name"]);
        assert.match(newest.body[collection][0].displayName, / 5$/);

        const one = await h.call("GET", `${url}?filter=${encodeURIComponent(`display_name="${newest.body[collection][0].displayName.replace(/5$/, "3")}"`)}`);
        assert.equal(one.status, 200, JSON.stringify(one.body));
        assert.equal(one.body[collection].length, 1);
        assert.match(one.body[collection][0].name, /-3$/);

        // `:` on display_name folds case (and scripts) as on every other list.
        const folded = await h.call(
          "GET",
          `${url}?filter=${encodeURIComponent(`display_name:"${newest.body[collection][0].displayName.replace(/5$/, "4").toUpperCase()}"`)}`,
        );
        assert.equal(folded.status, 200, JSON.stringify(folded.body));
        assert.deepEqual(
          folded.body[collection].map((r: { name: string }) => r.name.split("-").pop()),
          ["4"],
        );

        const badFilter = await h.call("GET", `${url}?filter=${encodeURIComponent("colour=red")}`);
        assert.equal(badFilter.status, 400);
        assert.match(badFilter.body.error.message, /^invalid filter: unknown field 'colour'/);
        const unknown = await h.call("GET", `${url}?page_size_x=1`);
        assert.equal(unknown.status, 400);
        assert.match(unknown.body.error.message, /^unknown query parameter "page_size_x" \(parameters: pageSize, pageToken, filter, orderBy, readMask\)$/);
      });
    }

    test("auditSinks: pageSize and pageToken walk every sink once; filter on type, readMask and orderBy apply", async () => {
      const made: string[] = [];
      for (let i = 1; i <= 5; i++) {
        const body =
          i % 2
            ? { type: "SPLUNK_HEC", url: `https://splunk-${i}.example/services/collector/event`, hecToken: "t" }
            : { type: "WEBHOOK", webhook: `${A.slice(4)}/webhooks/hook-${i}` };
        const res = await h.call("POST", `${A}/auditSinks?auditSinkId=sink-${i}`, { body });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        made.push(`sink-${i}`);
      }
      const ids: string[] = [];
      let token = "";
      do {
        const page = await h.call("GET", `${A}/auditSinks?pageSize=2&readMask=name,type${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.equal(page.body.totalSize, 5);
        for (const sink of page.body.auditSinks) assert.deepEqual(Object.keys(sink).sort(), ["name", "type"]);
        ids.push(...page.body.auditSinks.map((s: { name: string }) => s.name.split("/").pop()));
        token = page.body.nextPageToken;
      } while (token);
      assert.deepEqual(ids, made);
      const webhooks = await h.call("GET", `${A}/auditSinks?filter=${encodeURIComponent("type=WEBHOOK")}&orderBy=${encodeURIComponent("create_time desc")}`);
      assert.deepEqual(
        webhooks.body.auditSinks.map((s: { name: string }) => s.name.split("/").pop()),
        ["sink-4", "sink-2"],
      );
      assert.equal((await h.call("GET", `${A}/auditSinks?filter=${encodeURIComponent("url=x")}`)).status, 400, "not a filter field");
    });

    test("firectl lists them whole, or one page with --page-size", async () => {
      for (const [noun, prefix] of [
        ["identity-provider", "idp-"],
        ["permission-preset", "preset-"],
        ["webhook", "hook-"],
      ] as const) {
        const all = firstColumn(ok(await sh.run(`firectl ${noun} list`))).filter((c) => c.startsWith(prefix));
        assert.deepEqual(
          all,
          [1, 2, 3, 4, 5].map((i) => `${prefix}${i}`),
          noun,
        );
        const page = ok(await sh.run(`firectl ${noun} list --page-size 2`));
        assert.deepEqual(
          firstColumn(page.split("\n\n")[0] ?? "").filter((c) => c.startsWith(prefix)),
          [`${prefix}1`, `${prefix}2`],
          noun,
        );
        assert.match(page, /next page token/i, noun);
      }
    });
  });
}
