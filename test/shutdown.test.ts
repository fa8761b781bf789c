import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import type { FakeUpstream } from "./support/model-server.ts";
import { account, chat, infer, startPlatform } from "./support/platform.ts";
import type { TestHearth } from "./support/hearth.ts";

/**
 * Shutdown drains in-flight requests and then ends, whatever clients left behind: a client gone
 * before the backend's headers, one gone mid-stream, a connection opened with nothing sent on it.
 * Each of these once held `close()` for the keep-alive time-out (72 s by default, kept here).
 * Shutdown does not depend on the store, so one dialect is enough.
 */
const PUBLIC = "accounts/fireworks/models/tiny-public";

describe("shutdown", () => {
  let h: TestHearth;
  let up: FakeUpstream;
  let stopped: Promise<void> | undefined;
  before(async () => {
    ({ h, up } = await startPlatform("sqlite"));
  });
  after(async () => {
    await (stopped ??= h.stop());
    await up.close();
  });

  test(
    "after clients left before the headers and mid-stream, close() drains the request in flight (200, Connection: close) and ends within seconds",
    { timeout: 8_000 },
    async () => {
      const { keys } = await account(h, "shutdown-acct", { caller: "user" });
      const key = keys.caller!;
      const backendGot = (n: number) => {
        const before = up.requests.length;
        return async () => {
          while (up.requests.length < before + n) await new Promise((r) => setTimeout(r, 10));
        };
      };

      // Gone before the backend's headers ("late": they come after 400 ms), plain and streamed.
      for (const stream of [false, true]) {
        const controller = new AbortController();
        const got = backendGot(1);
        const answer = infer(h, key, chat(PUBLIC, "late", { stream }), undefined, controller.signal).catch((e: unknown) => e);
        await got();
        controller.abort();
        assert.ok((await answer) instanceof Error);
      }
      // Gone mid-stream.
      const controller = new AbortController();
      const streamed = await infer(h, key, chat(PUBLIC, "slow", { stream: true }), undefined, controller.signal);
      assert.equal(streamed.status, 200);
      await streamed.body!.getReader().read();
      controller.abort();
      // A connection with nothing sent on it (a browser's preconnect).
      const { port } = new URL(h.baseUrl);
      const idle = connect(Number(port), "127.0.0.1");
      await new Promise((resolve) => idle.once("connect", resolve));
      const idleClosed = new Promise((resolve) => idle.once("close", resolve));
      idle.on("error", () => {});

      // A request in flight when shutdown starts is answered, and told the connection closes.
      const got = backendGot(1);
      const inFlight = infer(h, key, chat(PUBLIC, "late"));
      await got();
      stopped = h.stop();
      const answer = await inFlight;
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("connection"), "close");
      assert.equal(((await answer.json()) as any).object, "chat.completion");
      await stopped;
      await idleClosed;
    },
  );
});
