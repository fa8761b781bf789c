import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { serve } from "./support/process.ts";

const A = "/v1/accounts/my-account";
const SECRET = randomBytes(32).toString("hex");
const INVALID = "invalid pageToken: it is malformed or altered, or was issued for a different filter, orderBy or list; start again without pageToken";
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
/** One character replaced by another of the base64url alphabet. */
const alter = (token: string, at: number): string => token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);

for (const dialect of DIALECTS) {
  describe(`page tokens are signed: forged or altered ones are a 400 naming pageToken (${dialect})`, () => {
    let h: TestHearth;
    let token: string;
    before(async () => {
      h = await startHearth(dialect, { HEARTH_SECRET_KEY: SECRET });
      for (const id of ["bot-a", "bot-b", "bot-c"]) {
        assert.equal((await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true, role: "user" } })).status, 200);
      }
      const first = await h.call("GET", `${A}/users?pageSize=1&orderBy=create_time`);
      assert.equal(first.status, 200);
      token = first.body.nextPageToken;
      assert.ok(token);
    });
    after(() => h.stop());

    const refuses = async (pageToken: string, path = `${A}/users?pageSize=1&orderBy=create_time`) => {
      const res = await h.call("GET", `${path}&pageToken=${encodeURIComponent(pageToken)}`);
      assert.equal(res.status, 400, `${pageToken}: ${JSON.stringify(res.body)}`);
      assert.deepEqual({ ...res.body.error, details: undefined }, { code: 400, status: "INVALID_ARGUMENT", message: INVALID, details: undefined });
    };

    test("a genuine token pages on", async () => {
      const next = await h.call("GET", `${A}/users?pageSize=1&orderBy=create_time&pageToken=${token}`);
      assert.equal(next.status, 200);
      assert.equal(next.body.users.length, 1);
    });

    test("regression: forged tokens — an object in the cursor, a string cursor on create_time — are 400s, not 500s", async () => {
      const [body] = token.split(".");
      const genuine = JSON.parse(Buffer.from(body!, "base64url").toString("utf8")) as { f: string; v: unknown[]; t: number };
      await refuses(b64({ f: genuine.f, v: [{ a: 1 }, "bot-a"], t: 4 }));
      await refuses(b64({ f: genuine.f, v: ["not-a-time", "bot-a"], t: 4 }));
      // The same forgeries with the genuine token's signature attached, and with a made-up one.
      const mac = token.split(".")[1]!;
      await refuses(`${b64({ f: genuine.f, v: [{ a: 1 }, "bot-a"], t: 4 })}.${mac}`);
      await refuses(`${b64({ f: genuine.f, v: ["not-a-time", "bot-a"], t: 4 })}.${"A".repeat(43)}`);
      await refuses("abc");
      await refuses("e30");
    });

    test("regression: a token altered by one character is a 400", async () => {
      for (const at of [0, 5, token.indexOf(".") - 1, token.indexOf(".") + 1, token.length - 1]) await refuses(alter(token, at));
      await refuses(`${token}A`);
      await refuses(token.slice(0, -1));
    });

    test("a token from another list, filter or orderBy is a 400", async () => {
      await refuses(token, `${A}/users?pageSize=1&orderBy=create_time&filter=${encodeURIComponent("service_account=true")}`);
      await refuses(token, `${A}/users?pageSize=1&orderBy=create_time%20desc`);
      await refuses(token, `${A}/users/-/apiKeys?pageSize=1&orderBy=create_time`);
      await refuses(token, `${A}/models?pageSize=1&orderBy=create_time`);
    });

    test("a token minted by a second Hearth process with the same HEARTH_SECRET_KEY is accepted; with another key it is not", async () => {
      // On PostgreSQL the second process has its own data directory: the key comes from the environment alone.
      const dataDir = dialect === "postgres" ? mkdtempSync(join(tmpdir(), "hearth-second-")) : h.env.HEARTH_DATA_DIR!;
      const second = await serve({ ...h.env, HEARTH_DATA_DIR: dataDir, HEARTH_SECRET_KEY: SECRET, HEARTH_LOG_LEVEL: "warn" });
      try {
        const get = async (base: string, pageToken: string) => {
          const res = await fetch(`${base}${A}/users?pageSize=1&orderBy=create_time&pageToken=${encodeURIComponent(pageToken)}`, {
            headers: { authorization: `Bearer ${h.adminKey}` },
          });
          return { status: res.status, body: (await res.json()) as any };
        };
        const there = await get(second.baseUrl, token);
        assert.equal(there.status, 200, JSON.stringify(there.body));
        const back = await h.call("GET", `${A}/users?pageSize=1&orderBy=create_time&pageToken=${there.body.nextPageToken}`);
        assert.equal(back.status, 200, "and this process accepts the second one's token");
      } finally {
        await second.stop();
      }
      if (dialect === "postgres") {
        const other = await serve({
          ...h.env,
          HEARTH_DATA_DIR: mkdtempSync(join(tmpdir(), "hearth-third-")),
          HEARTH_SECRET_KEY: randomBytes(32).toString("hex"),
          HEARTH_LOG_LEVEL: "warn",
        });
        try {
          const res = await fetch(`${other.baseUrl}${A}/users?pageSize=1&orderBy=create_time&pageToken=${encodeURIComponent(token)}`, {
            headers: { authorization: `Bearer ${h.adminKey}` },
          });
          assert.equal(res.status, 400, "a process with another secret does not accept it");
        } finally {
          await other.stop();
        }
      }
    });
  });
}
