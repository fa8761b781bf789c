import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * Fireworks' Create API Key takes `annotations` (a string→string map); Hearth refused the field as
 * unknown and answered `{}` on every key. They are now kept at creation (bounded like a deployment's),
 * answered by get and list, and set at creation only (Fireworks has no update of a key).
 */
const KEYS = "/v1/accounts/my-account/users/bot1/apiKeys";

for (const dialect of DIALECTS) {
  describe(`API key annotations (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
      const sa = await h.call("POST", "/v1/accounts/my-account/users?userId=bot1", { body: { serviceAccount: true, role: "user" } });
      assert.equal(sa.status, 200, JSON.stringify(sa.body));
    });
    after(() => h.stop());

    test("regression: create with annotations is served (was 400 unknown field); get and list answer them", async () => {
      const created = await h.call("POST", KEYS, { body: { apiKey: { displayName: "ann", annotations: { team: "ml", "example.com/owner": "ops" } } } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(created.body.annotations, { team: "ml", "example.com/owner": "ops" });
      const got = await h.call("GET", `${KEYS}/${created.body.keyId}`);
      assert.deepEqual(got.body.annotations, { team: "ml", "example.com/owner": "ops" });
      const listed = await h.call("GET", `${KEYS}?readMask=annotations`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.apiKeys.find((k: { name: string }) => k.name.endsWith(`/${created.body.keyId}`)).annotations, {
        team: "ml",
        "example.com/owner": "ops",
      });
      const plain = await h.call("POST", KEYS, { body: { apiKey: {} } });
      assert.deepEqual(plain.body.annotations, {});
    });

    test("annotations beyond the bounds are a 400 naming the field; a value that is not a string too", async () => {
      const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
      const cases: [unknown, RegExp][] = [
        [tooMany, /apiKey\.annotations.*at most 64 annotations/],
        [{ "bad key!": "v" }, /apiKey\.annotations\.bad key!.*annotation keys are up to 63 letters/],
        [{ team: "x".repeat(1025) }, /apiKey\.annotations\.team/],
        [{ team: 5 }, /apiKey\.annotations\.team/],
        [{ team: "a\u0007b" }, /apiKey\.annotations\.team/],
      ];
      for (const [annotations, message] of cases) {
        const res = await h.call("POST", KEYS, { body: { apiKey: { annotations } } });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.status, "INVALID_ARGUMENT");
        assert.match(res.body.error.message, message);
      }
    });

    test("an update sending the key's annotations back is served; changing them is a 400, and they stay", async () => {
      const created = await h.call("POST", KEYS, { body: { apiKey: { annotations: { team: "ml", env: "prod" } } } });
      const path = `${KEYS}/${created.body.keyId}`;
      const got = await h.call("GET", path);
      const { key: _secret, ...sentBack } = got.body;
      const same = await h.call("PATCH", path, { body: { ...sentBack, displayName: "renamed", annotations: { env: "prod", team: "ml" } } });
      assert.equal(same.status, 200, JSON.stringify(same.body));
      assert.equal(same.body.displayName, "renamed");
      const changed = await h.call("PATCH", path, { body: { annotations: { team: "infra" } } });
      assert.equal(changed.status, 400, JSON.stringify(changed.body));
      assert.match(changed.body.error.message, /^annotations cannot be changed \(the key's are \{"team":"ml","env":"prod"\}\)/);
      assert.deepEqual((await h.call("GET", path)).body.annotations, { team: "ml", env: "prod" });
      const masked = await h.call("PATCH", `${path}?updateMask=annotations`, { body: { annotations: {} } });
      assert.equal(masked.status, 400, JSON.stringify(masked.body));
    });

    test("a rotated key keeps its annotations", async () => {
      const created = await h.call("POST", KEYS, { body: { apiKey: { annotations: { team: "ml" } } } });
      const rotated = await h.call("POST", `${KEYS}/${created.body.keyId}:rotate`, { body: {} });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.deepEqual(rotated.body.annotations, { team: "ml" });
    });
  });
}
