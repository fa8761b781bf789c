import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * An error message quotes what the client sent with every character outside printable ASCII escaped
 * (`quoted`), so a bidi control in it (U+202E) cannot reorder the sentence where it is read: firectl,
 * the console, the audit log. Ids, field and parameter names already were; the filter, orderBy,
 * readMask and updateMask messages put the text in raw (found by fuzzing list parameters), e.g.
 * `invalid filter: invalid field name '\u202e' at position 1` with the control itself in the JSON.
 */
const A = "/v1/accounts/my-account";
const RLO = "\u202e";

for (const dialect of DIALECTS) {
  describe(`messages quote the client's text escaped (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("regression: a bidi control in a filter, orderBy, readMask or updateMask is written \\u202e in the message and the audit entry", async () => {
      const q = encodeURIComponent;
      const cases: Array<[string, string, RegExp]> = [
        ["GET", `${A}/users?filter=${q(`${RLO}x=1`)}`, /^invalid filter: invalid field name '\\u202ex' at position 1$/],
        ["GET", `${A}/users?filter=${q(`role="${RLO}admin"`)}`, /^invalid filter: field 'role' takes one of .*, not "\\u202eadmin" at position 6$/],
        ["GET", `${A}/users?filter=${q(`role ${RLO}`)}`, /^invalid filter: expected a comparison operator after 'role' but found '\\u202e' at position 6$/],
        ["GET", `${A}/users?orderBy=${q(`name ${RLO}`)}`, /^invalid orderBy "name \\u202e": /],
        ["GET", `${A}/users?readMask=${q(RLO)}`, /field "readMask": unknown field "\\u202e" \(fields: /],
        ["PATCH", `${A}/users/admin-example-com?updateMask=${q(RLO)}`, /^invalid updateMask: unknown field "\\u202e" \(updatable: /],
      ];
      for (const [method, url, message] of cases) {
        const res = await h.call(method, url, method === "PATCH" ? { body: {} } : {});
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.ok(!res.body.error.message.includes(RLO), `no raw U+202E: ${JSON.stringify(res.body.error.message)}`);
        assert.match(res.body.error.message, message);
      }
      for (const entry of await auditEntries(h, 'status.code="INVALID_ARGUMENT"')) assert.ok(!entry.status.message.includes(RLO), entry.status.message);
    });

    test("regression: every refusal writes a control or bidi character it quotes as \\uXXXX, whichever service built the sentence", async () => {
      // Each of these put the value in plain quotes or JSON.stringify, which leave U+202E and U+200B as they are.
      const cases: Array<[string, string, unknown, RegExp]> = [
        ["POST", `${A}/permissionPresets?permissionPresetId=p1`, { actions: [`models.list${RLO}`] }, /^unknown action "models\.list\\u202e" in actions/],
        ["POST", `${A}/models?modelId=m1`, { backend: `local${RLO}` }, /^unknown backend "local\\u202e"/],
        ["POST", `${A}/deployments?deploymentId=d1`, { baseModel: `x\u200by${RLO}` }, /^invalid baseModel "x\\u200by\\u202e": /],
      ];
      for (const [method, url, body, message] of cases) {
        const res = await h.call(method, url, { body });
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, message);
        assert.doesNotMatch(res.body.error.message, /[\u202e\u200b]/);
      }
      const entries = await auditEntries(h, 'status.code="INVALID_ARGUMENT"');
      for (const entry of entries) assert.doesNotMatch(entry.status.message, /[\u202e\u200b]/, "nor the audit entries");
    });
  });
}
