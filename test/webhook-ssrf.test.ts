import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { classifyAddress } from "../src/domain/network-address.ts";
import type { ResolvedAddress } from "../src/service/outbound-fetch.ts";
import { human, otherAccount } from "./support/fixtures.ts";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { until } from "./support/until.ts";

/**
 * A webhook URL is tenant-configured: without the operator's HEARTH_ALLOW_PRIVATE_NETWORKS=true,
 * one that names or resolves to a loopback, private, link-local or metadata address is refused when
 * it is set, and again when a delivery connects (the name may resolve elsewhere by then). The test's
 * network counts 127.0.0.1 as public, so a loopback listener can stand for a public receiver.
 */
const A = "/v1/accounts/my-account";

/** A TCP listener counting connections: whatever reaches it, TLS or not, is seen. */
async function connectionCounter(host: string) {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  server.listen(0, host);
  await once(server, "listening");
  return { port: (server.address() as { port: number }).port, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

for (const dialect of DIALECTS) {
  describe(`webhook private addresses (${dialect})`, () => {
    let h: TestHearth;
    const lookups: string[] = [];
    // *.gated.test answers (an address counted public) once the test opens the gate; never.test never answers.
    let openGate = () => {};
    const gate = new Promise<void>((r) => (openGate = r));
    before(async () => {
      const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
        lookups.push(hostname);
        if (hostname.endsWith(".gated.test")) return gate.then(() => [{ address: "127.0.0.1", family: 4 }]);
        if (hostname === "never.test") await new Promise(() => {});
        if (hostname === "internal.test") return [{ address: "10.0.0.5", family: 4 }];
        if (hostname === "metadata.test") return [{ address: "169.254.169.254", family: 4 }];
        // rebind.test answers public when the webhook is created, then a private address.
        if (hostname === "rebind.test") return [{ address: lookups.filter((l) => l === hostname).length === 1 ? "127.0.0.1" : "127.0.0.2", family: 4 }];
        return [{ address: "203.0.113.10", family: 4 }];
      };
      h = await startHearth(
        dialect,
        { HEARTH_WEBHOOK_POLL_MS: "20", HEARTH_WEBHOOK_RETRY_BASE_MS: "3600000" },
        {
          network: { classify: (address) => (address === "127.0.0.1" ? "public" : classifyAddress(address)), lookup },
        },
      );
    });
    after(() => h.stop());

    test("creation refuses private, loopback, link-local and metadata targets, literal or by name, naming url", async () => {
      for (const url of [
        "https://10.1.2.3/hook",
        "https://127.0.0.2/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.2:8080/hook",
        "https://internal.test/hook",
        "https://metadata.test/hook",
      ]) {
        const res = await h.call("POST", `${A}/webhooks`, { body: { url, events: ["principal.created"] } });
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.message, /^invalid url/, url);
      }
      const plainHttp = await h.call("POST", `${A}/webhooks`, { body: { url: "http://hooks.example.com/hook", events: ["principal.created"] } });
      assert.equal(plainHttp.status, 400);
      assert.match(plainHttp.body.error.message, /https/);
      assert.equal((await h.call("GET", `${A}/webhooks`)).body.webhooks.length, 0);
    });

    test("reproduction: webhooks whose name server is slow to answer no longer stall another account's changes; a name that never resolves is accepted after the lookup's time limit", async () => {
      const slow = [1, 2, 3].map((i) =>
        h.call("POST", `${A}/webhooks?webhookId=slow-${i}`, { body: { url: `https://h${i}.gated.test/hook`, events: ["principal.created"] } }),
      );
      await until("the lookups to start", async () => (lookups.filter((l) => l.endsWith("gated.test")).length === 3 ? true : undefined));
      const other = await otherAccount(h, `slow-dns-${dialect}`);
      const change = h.call("POST", `/v1/accounts/slow-dns-${dialect}/users`, { key: other, body: { email: "bystander@example.com", role: "user" } });
      // Before, the three lookups ran inside the changes' transaction: the bystander waited for the gate.
      const first = await Promise.race([change.then((r) => r.status), new Promise((r) => setTimeout(() => r("stalled"), 5_000))]);
      openGate();
      assert.equal(first, 200);
      for (const res of await Promise.all(slow)) assert.equal(res.status, 200, JSON.stringify(res.body));
      const never = await h.call("POST", `${A}/webhooks?webhookId=never`, { body: { url: "https://never.test/hook", events: ["principal.created"] } });
      assert.equal(never.status, 200, JSON.stringify(never.body));
    });

    test("a delivery to a name that now resolves to a private address is refused without connecting", async () => {
      const counter = await connectionCounter("127.0.0.2");
      try {
        const made = await h.call("POST", `${A}/webhooks?webhookId=rebind`, {
          body: { url: `https://rebind.test:${counter.port}/hook`, events: ["principal.created"] },
        });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        await human(h, "gina@example.com", "user");
        const delivery = await until("the refused attempt", async () => {
          const res = await h.call("GET", `${A}/webhooks/rebind/deliveries`);
          const d = res.body.webhookDeliveries[0];
          return d?.attempts.length === 1 ? d : undefined;
        });
        assert.equal(delivery.attempts[0].responseCode, 0);
        assert.match(delivery.attempts[0].error, /could not be reached/);
        assert.equal(delivery.state, "PENDING", "retried later, when the name may resolve elsewhere");
        assert.equal(counter.connections(), 0);
        assert.ok(lookups.filter((l) => l === "rebind.test").length >= 2, "resolved again at delivery");
      } finally {
        await counter.close();
      }
    });
  });
}
