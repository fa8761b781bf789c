import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { serviceAccountWithKey } from "./support/fixtures.ts";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import type { FakeUpstream } from "./support/model-server.ts";
import { chat, infer, sseData, startPlatform } from "./support/platform.ts";
import { until } from "./support/until.ts";

const MODEL = "accounts/fireworks/models/tiny-public";

/**
 * The gateway keeps its connections to a backend alive: a call, streamed or not, that ends as it
 * should leaves its socket to the next one. A stream used to be cut at its `[DONE]` (or error
 * event) before the response's end had been read, which closed the socket and cost every streamed
 * call a new TCP connection.
 */
for (const dialect of DIALECTS) {
  describe(`upstream connections are kept alive (${dialect})`, () => {
    let h: TestHearth;
    let up: FakeUpstream;
    let stop: () => Promise<void>;
    let key: string;
    before(async () => {
      ({ h, up, stop } = await startPlatform(dialect));
      ({ key } = await serviceAccountWithKey(h, "bot", "contributor"));
    });
    after(() => stop());

    test("reproduction: 10 streamed, 5 streamed ending in an error event and 10 plain calls, one after another, open at most 3 connections (they opened 15)", async () => {
      // Warm: the first call opens the pool's socket.
      assert.equal((await infer(h, key, chat(MODEL))).status, 200);
      const before = up.connections;
      for (let i = 0; i < 10; i++) {
        const res = await infer(h, key, chat(MODEL, "hi", { stream: true }));
        assert.equal(res.status, 200);
        assert.equal((await sseData(res)).at(-1), "[DONE]");
      }
      for (let i = 0; i < 5; i++) {
        const res = await infer(h, key, chat(MODEL, "echo-auth", { stream: true }));
        assert.match((await sseData(res)).at(-1)!, /"error"/);
      }
      for (let i = 0; i < 10; i++) assert.equal(((await (await infer(h, key, chat(MODEL))).json()) as any).choices[0].message.content, "Hello, world");
      // A few spare: the backend closes a socket idle for a second, which a loaded machine may reach between two calls.
      assert.ok(up.connections - before <= 3, `${up.connections - before} new connections for 25 calls`);
    });

    test("a backend that goes on sending after its [DONE] does not hold the client, and loses its socket within seconds", async () => {
      const cancelled = up.cancelled;
      const started = Date.now();
      const res = await infer(h, key, chat(MODEL, "chatty", { stream: true }));
      assert.equal((await sseData(res)).at(-1), "[DONE]");
      // The backend goes on for ten seconds; the client's stream ended at the [DONE].
      assert.ok(Date.now() - started < 5_000, "the client's stream ended at [DONE]");
      await until("the backend's response to be closed", async () => (up.cancelled > cancelled ? true : undefined), 8_000);
    });
  });
}
