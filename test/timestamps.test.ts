import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";

/**
 * Every timestamp the API reads — in a body, a query parameter or a filter — is read one way
 * (`readTimestamp`): a date or time that does not exist is a 400 naming the field, never rolled
 * over (`2027-02-30` was stored as March 2nd, `24:00:00` as the next day), and neither is an
 * instant past 9999-12-31 in UTC (`9999-12-31T23:59:59-23:59` was stored and read back as
 * `+010000-01-01T23:58:59.000Z`, which no client parses).
 */
const A = "/v1/accounts/my-account";
const KEYS = `${A}/users/admin-example-com/apiKeys`;

for (const dialect of DIALECTS) {
  describe(`timestamps that RFC 3339 refuses are refused, not rolled over (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    const keyCount = async () => (await h.call("GET", `${KEYS}?pageSize=200`)).body.apiKeys.length as number;

    test("the reproductions: an expireTime past 9999 in UTC, on a day that does not exist or at 24:00 is a 400 naming expireTime; no key is made; each refusal is audited", async () => {
      const cases: Array<[string, string]> = [
        ["9999-12-31T23:59:59-23:59", "in UTC it is after 9999-12-31T23:59:59Z, the last time RFC 3339 can write"],
        ["2027-02-30T00:00:00Z", "2027-02-30 is not a date: that month has 28 days (RFC 3339 §5.7)"],
        ["2027-01-01T24:00:00Z", "24:00:00 is not a time of day: hours run from 00 to 23, minutes and seconds from 00 to 59 (RFC 3339 §5.7)"],
      ];
      const keys = await keyCount();
      const refusals = (await auditEntries(h, 'method="CreateApiKey" AND status:"INVALID_ARGUMENT"')).length;
      for (const [expireTime, problem] of cases) {
        const res = await h.call("POST", KEYS, { body: { apiKey: { displayName: "tz", expireTime } } });
        assert.equal(res.status, 400, `${expireTime}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.message, `invalid expireTime "${expireTime}": ${problem}`);
      }
      assert.equal(await keyCount(), keys, "no key was made");
      assert.equal((await auditEntries(h, 'method="CreateApiKey" AND status:"INVALID_ARGUMENT"')).length, refusals + cases.length);
    });

    test("an expireTime whose offset moves it within range is taken, and read back as the same instant in UTC", async () => {
      const res = await h.call("POST", KEYS, { body: { apiKey: { displayName: "tz-ok", expireTime: "9999-12-31T23:59:59+23:59" } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const keyId = res.body.keyId as string;
      assert.equal((await h.call("GET", `${KEYS}/${keyId}`)).body.expireTime, "9999-12-31T00:00:59.000Z");
      // An update and a rotation read expireTime the same way.
      const update = await h.call("PATCH", `${KEYS}/${keyId}`, { body: { expireTime: "2027-02-29T00:00:00Z" } });
      assert.equal(update.status, 400, JSON.stringify(update.body));
      assert.match(update.body.error.message, /invalid expireTime "2027-02-29T00:00:00Z": 2027-02-29 is not a date/);
      const rotate = await h.call("POST", `${KEYS}/${keyId}:rotate`, { body: { expireTime: "2027-06-31T00:00:00Z" } });
      assert.equal(rotate.status, 400, JSON.stringify(rotate.body));
      assert.match(rotate.body.error.message, /invalid expireTime "2027-06-31T00:00:00Z": 2027-06-31 is not a date: that month has 30 days/);
      assert.equal((await h.call("GET", `${KEYS}/${keyId}`)).body.expireTime, "9999-12-31T00:00:59.000Z", "unchanged");
    });

    test("query parameters: billingUsage's and the audit log's startTime and endTime refuse a day or time that does not exist", async () => {
      const cases: Array<[string, RegExp]> = [
        [`${A}/billingUsage?startTime=2026-02-30T00:00:00Z`, /invalid startTime "2026-02-30T00:00:00Z": 2026-02-30 is not a date: that month has 28 days/],
        [`${A}/billingUsage?endTime=2026-03-01T00:00:00%2B24:00`, /invalid endTime "2026-03-01T00:00:00\+24:00": \+24:00 is not an offset/],
        [`${A}/auditLogs?startTime=2026-01-01T24:00:00Z`, /invalid startTime "2026-01-01T24:00:00Z": 24:00:00 is not a time of day/],
        [`${A}/auditLogs:export?endTime=2026-13-01T00:00:00Z`, /invalid endTime "2026-13-01T00:00:00Z": 2026-13-01 is not a date: months run from 01 to 12/],
      ];
      for (const [url, message] of cases) {
        const res = await h.call("GET", url);
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message, url);
      }
      const refused = await auditEntries(h, 'method="GetBillingUsage" AND status:"INVALID_ARGUMENT"');
      assert.equal(refused.length, 2);
      const ok = await h.call("GET", `${A}/billingUsage?startTime=2026-02-28T00:00:00Z&endTime=2026-03-01T00:00:00Z`);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.startTime, "2026-02-28T00:00:00.000Z");
    });

    test("filter literals: a timestamp that does not exist is an invalid filter saying why", async () => {
      const cases: Array<[string, RegExp]> = [
        [`${A}/deployments`, /field 'create_time' takes an RFC 3339 timestamp, not "2026-02-30T00:00:00Z" \(2026-02-30 is not a date: that month has 28 days/],
        [`${A}/users`, /field 'create_time' takes an RFC 3339 timestamp, not "2026-02-30T00:00:00Z" \(2026-02-30 is not a date/],
      ];
      for (const [list, message] of cases) {
        const res = await h.call("GET", `${list}?filter=${encodeURIComponent('create_time > "2026-02-30T00:00:00Z"')}`);
        assert.equal(res.status, 400, `${list}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /^invalid filter: /);
        assert.match(res.body.error.message, message, list);
      }
      const past = await h.call("GET", `${A}/auditLogs?filter=${encodeURIComponent('timestamp < "9999-12-31T23:59:59-23:59"')}`);
      assert.equal(past.status, 400, JSON.stringify(past.body));
      assert.match(past.body.error.message, /after 9999-12-31T23:59:59Z/);
      const fine = await h.call("GET", `${A}/deployments?filter=${encodeURIComponent('create_time > "2026-02-28T00:00:00Z"')}`);
      assert.equal(fine.status, 200, JSON.stringify(fine.body));
    });
  });
}
