import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { chat, startPlatform } from "./support/platform.ts";
import { openConnection, postHead } from "./support/raw-http.ts";
import { until } from "./support/until.ts";

/**
 * A request pipelined behind one in progress when the server starts to close: the framework
 * refuses new requests once closing has begun, and the fast path leaves them to it, so the backend
 * never sees one it could not answer or meter (it once did, and audited it after the store shut).
 */
const PUBLIC = "accounts/fireworks/models/tiny-public";

describe("a request pipelined while the server closes (fast path and framework route)", () => {
  test("is not forwarded to the backend by either path", async () => {
    const seen: Record<string, string[]> = {};
    for (const [label, path] of [
      ["framework", "/inference/v1/chat/completions/"],
      ["fast", "/inference/v1/chat/completions"],
    ] as const) {
      const { h, up, stop } = await startPlatform("sqlite");
      try {
        const bot = await serviceAccountWithKey(h, "bot", "user");
        const s = await openConnection(h.baseUrl);
        s.on("data", () => undefined);
        const req = (content: string) => {
          const b = JSON.stringify(chat(PUBLIC, content));
          return postHead(path, bot.key, Buffer.byteLength(b), { keepAlive: true }) + b;
        };
        s.write(req("late first"));
        // Closing starts once the first request is with the backend (which holds it 400 ms), however
        // slow the machine: before then the connection would still look idle and close unserved.
        await until("the first request at the backend", async () => up.requests[0]);
        const closing = h.close();
        await new Promise((r) => setTimeout(r, 30));
        s.write(req("late second"));
        await new Promise((r) => s.once("close", r));
        await closing;
        await new Promise((r) => setTimeout(r, 600));
        seen[label] = up.requests.map((r) => String(r.body?.messages?.[0]?.content));
      } finally {
        await stop().catch(() => undefined);
      }
    }
    assert.deepEqual(seen, { framework: ["late first"], fast: ["late first"] });
  });
});
