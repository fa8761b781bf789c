import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";

for (const dialect of DIALECTS) {
  describe(`health, readiness and metrics (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
    });
    after(() => h.stop());

    test("/healthz and /readyz answer without credentials; readiness names the coordination mode", async () => {
      assert.equal((await h.call("GET", "/healthz", { key: null })).status, 200);
      const ready = await h.call("GET", "/readyz", { key: null });
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: "ready", store: true, cluster: dialect === "postgres" ? "postgres" : "single", clusterReady: true });
    });

    test("/metrics counts requests by route pattern, cache hits and quota rejections", async () => {
      await h.call("GET", "/verifyApiKey");
      await h.call("GET", "/verifyApiKey");
      await h.call("GET", "/v1/accounts/my-account/users/admin-example-com");
      await h.call("PATCH", "/v1/accounts/my-account/quotas/api-keys-per-user", { body: { value: 1 } });
      assert.equal((await h.call("POST", "/v1/accounts/my-account/users/admin-example-com/apiKeys", { body: { apiKey: {} } })).status, 429);
      const res = await h.app.inject({ method: "GET", url: "/metrics" });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers["content-type"]), /^text\/plain/);
      const text = res.body;
      assert.match(text, /hearth_http_requests_total\{method="GET",route="\/verifyApiKey",status="200"\} 2/);
      assert.match(text, /route="\/v1\/accounts\/:accountId\/users\/:userId"/, "labels carry the pattern, not ids");
      assert.doesNotMatch(text, /admin-example-com/);
      assert.match(text, /hearth_quota_rejections_total\{quota="api-keys-per-user"\} 1/);
      const hits = Number(/hearth_key_cache_hits_total (\d+)/.exec(text)?.[1]);
      assert.ok(hits >= 1);
      assert.match(text, /hearth_http_request_duration_seconds_bucket/);
    });
  });
}

describe("behind a trusted proxy", () => {
  test("the client address comes from X-Forwarded-For only when HEARTH_TRUST_PROXY allows it", async () => {
    for (const [trust, expected] of [
      ["127.0.0.1", "203.0.113.7"],
      [undefined, "127.0.0.1"],
    ] as const) {
      const h = await startHearth("sqlite", trust ? { HEARTH_TRUST_PROXY: trust } : {});
      try {
        await h.call("GET", "/v1/accounts/my-account/users", { key: null, headers: { "x-forwarded-for": "203.0.113.7" } });
        const entries = await h.call("GET", "/v1/accounts/my-account/auditLogs?filter=status%3A%22UNAUTHENTICATED%22");
        assert.equal(entries.body.auditLogs[0].clientIp, expected);
      } finally {
        await h.stop();
      }
    }
  });
});
