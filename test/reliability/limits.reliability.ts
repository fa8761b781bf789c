import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { startHearth, type TestHearth } from "../support/hearth.ts";
import { report, request, sleep } from "../support/reliability.ts";

/**
 * Slow and oversized clients over raw sockets: headers or a body trickled a byte at a time, idle
 * connections, bodies and headers over their limits, JSON nested past its limit. Each is cut off
 * with a clear answer within its configured time, and meanwhile everyone else is served.
 */
const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
const KEEP_ALIVE_MS = 1000;
const BODY_LIMIT = 65_536;
const A = "/v1/accounts/my-account";

interface Raw {
  socket: net.Socket;
  received: () => string;
  /** Resolves when the server closes the connection: milliseconds since it was opened. */
  closed: Promise<number>;
}

async function connect(port: number): Promise<Raw> {
  const socket = net.connect(port, "127.0.0.1");
  await once(socket, "connect");
  const opened = Date.now();
  let text = "";
  socket.on("data", (d) => (text += d));
  socket.on("error", () => undefined);
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now() - opened)));
  return { socket, received: () => text, closed };
}

/** Writes `pieces` one at a time, `everyMs` apart, until they run out or the server hangs up. */
async function trickle(raw: Raw, pieces: string[], everyMs: number): Promise<number> {
  let sent = 0;
  for (const piece of pieces) {
    if (raw.socket.destroyed || raw.socket.writableEnded) break;
    raw.socket.write(piece);
    sent++;
    await sleep(everyMs);
  }
  return sent;
}

describe("slow clients, oversized and deeply nested requests", () => {
  let h: TestHearth;
  let port: number;
  let cutOff = 0;
  let longestHold = 0;

  before(async () => {
    h = await startHearth("sqlite", {
      HEARTH_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      HEARTH_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      HEARTH_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
      HEARTH_BODY_LIMIT: String(BODY_LIMIT),
    });
    port = Number(new URL(await h.listen()).port);
  });
  after(async () => {
    report("slow clients and limits", { "slow clients cut off": cutOff, "longest a slow client held a socket (ms)": longestHold });
    await h.stop();
  });

  const held = (ms: number) => {
    cutOff++;
    longestHold = Math.max(longestHold, ms);
  };

  test(`headers trickled a byte at a time are cut off with 408 after about ${HEADERS_MS} ms`, async () => {
    const raw = await connect(port);
    const header = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(200)}\r\n\r\n`;
    void trickle(raw, header.split(""), 50);
    const ms = await raw.closed;
    held(ms);
    assert.ok(ms < HEADERS_MS + 1500, `closed after ${ms} ms`);
    assert.match(raw.received(), /^HTTP\/1\.1 408/);
  });

  test("a connection that never sends anything is closed too", async () => {
    const raw = await connect(port);
    const ms = await raw.closed;
    held(ms);
    assert.ok(ms < HEADERS_MS + 1500, `closed after ${ms} ms`);
  });

  test(`a body trickled a few bytes at a time is cut off with 408 after about ${REQUEST_MS} ms`, async () => {
    const raw = await connect(port);
    const body = JSON.stringify({ serviceAccount: true, displayName: "x".repeat(500) });
    raw.socket.write(
      `POST ${A}/users?userId=slow-body HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    void trickle(raw, body.match(/.{1,5}/g)!, 100);
    const ms = await raw.closed;
    held(ms);
    assert.ok(ms < REQUEST_MS + 1500, `closed after ${ms} ms`);
    assert.match(raw.received(), /^HTTP\/1\.1 408/);
    assert.equal((await h.call("GET", `${A}/users/slow-body`)).status, 404, "nothing half-received was acted on");
  });

  test(`an idle keep-alive connection is closed after about ${KEEP_ALIVE_MS} ms`, async () => {
    const raw = await connect(port);
    raw.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const ms = await raw.closed;
    assert.match(raw.received(), /^HTTP\/1\.1 200/);
    assert.ok(ms < KEEP_ALIVE_MS + 1500, `closed after ${ms} ms`);
  });

  test("300 slow clients at once cannot hold the server: everyone else is served promptly, and the slow ones are cut off", async () => {
    const slow = await Promise.all(Array.from({ length: 300 }, () => connect(port)));
    slow.forEach((raw, i) => {
      if (i % 2) void trickle(raw, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".split(""), 150);
      else {
        raw.socket.write(`POST ${A}/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n`);
        void trickle(
          raw,
          Array.from({ length: 200 }, () => " "),
          150,
        );
      }
    });
    const latencies: number[] = [];
    for (let i = 0; i < 60; i++) {
      const started = Date.now();
      const res = await request(h.baseUrl, "GET", `${A}/users`, { key: h.adminKey });
      latencies.push(Date.now() - started);
      assert.equal(res.status, 200);
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)]!;
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    // The slow clients' bytes are written by this same process, which also runs the server: generous bounds.
    assert.ok(median < 250 && p99 < 2000, `median ${median} ms, p99 ${p99} ms while slow clients were connected`);
    const times = await Promise.all(slow.map((raw) => raw.closed));
    for (const ms of times) {
      held(ms);
      assert.ok(ms < REQUEST_MS + 2500, `a slow client held its socket ${ms} ms`);
    }
    report("slow clients and limits", {
      "requests served while 300 slow clients were connected": latencies.length,
      "their median latency (ms)": median,
      "their p99 latency (ms)": p99,
    });
  });

  test("a body over the limit is refused from its Content-Length, before it is read", async () => {
    const raw = await connect(port);
    raw.socket.write(
      `POST ${A}/users?userId=big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${BODY_LIMIT * 100}\r\n\r\n{"displayName":"`,
    );
    await sleep(300);
    assert.match(raw.received(), /^HTTP\/1\.1 400/);
    assert.match(raw.received(), new RegExp(`request body is larger than the limit of ${BODY_LIMIT} bytes`));
    raw.socket.destroy();
    const chunked = await fetch(`${h.baseUrl}${A}/users?userId=big`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.adminKey}`, "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"displayName":"${"x".repeat(BODY_LIMIT * 2)}"}`));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    assert.equal(chunked.status, 400, "without a Content-Length the limit is found while reading");
    assert.match(((await chunked.json()) as any).error.message, /larger than the limit/);
    assert.equal((await h.call("GET", `${A}/users/big`)).status, 404);
  });

  test("headers over 16 KiB are refused with 431, and the server carries on", async () => {
    const raw = await connect(port);
    raw.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    await raw.closed;
    assert.match(raw.received(), /^HTTP\/1\.1 431/);
    const longUrl = await connect(port);
    longUrl.socket.write(`GET /v1/accounts/my-account/users?filter=${"a".repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await longUrl.closed;
    assert.match(longUrl.received(), /^HTTP\/1\.1 431/);
    assert.equal((await request(h.baseUrl, "GET", "/healthz")).status, 200);
  });

  test("JSON nested deeper than 128 levels is a 400 on every JSON route, never a stack overflow", async () => {
    const doc = (await h.call("GET", "/openapi.json", { key: null })).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody?.content?.["application/json"]) // :upload takes JSONL, and names the types it takes
        // A leak report is read only once its scanner's signature or secret holds (a 401 before any
        // body): test/leak-reports.test.ts sends it bad bodies with a valid credential.
        .filter(([, op]) => op.operationId !== "ReportApiKeyLeak")
        .map(([method]) => ({
          method: method.toUpperCase(),
          path: path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === "accountId" ? "my-account" : "fz")),
        })),
    );
    assert.ok(routes.length >= 10, `found ${routes.length} routes with a JSON body`);
    const bodies = [
      `${"[".repeat(129)}${"]".repeat(129)}`,
      `{"displayName":${'{"a":'.repeat(500)}1${"}".repeat(500)}}`,
      // 60 000 levels in 120 kB: far past anything recursive code could take.
      `${"[".repeat(30_000)}${"]".repeat(30_000)}`,
    ];
    let tried = 0;
    for (const r of routes) {
      for (const body of bodies) {
        const big = BODY_LIMIT < body.length;
        const res = await h.call(r.method, r.path, { body, headers: { "content-type": "application/json" } });
        tried++;
        assert.equal(res.status, 400, `${r.method} ${r.path}: ${JSON.stringify(res.body).slice(0, 200)}`);
        const message = res.body.error.message as string;
        assert.match(message, big ? /larger than the limit|too large/ : /nested deeper than 128 levels/, `${r.method} ${r.path}`);
      }
    }
    // Just inside the limit is parsed and answered on its merits (here: a wrongly typed field).
    const inside = await h.call("POST", `${A}/users?userId=deep`, {
      body: `{"displayName":${"[".repeat(127)}${"]".repeat(127)}}`,
      headers: { "content-type": "application/json" },
    });
    assert.equal(inside.status, 400);
    assert.match(inside.body.error.message, /field "displayName"/);
    report("slow clients and limits", { "deeply nested bodies refused": tried });
  });

  test("a JSONL upload line nested 50 000 deep is validated without a stack overflow", async () => {
    assert.equal((await h.call("POST", `${A}/datasets?datasetId=deep-lines`, { body: {} })).status, 200);
    const line = `{"a":${"[".repeat(25_000)}${"]".repeat(25_000)}}`;
    const res = await fetch(`${h.baseUrl}${A}/datasets/deep-lines:upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.adminKey}`, "content-type": "application/jsonl" },
      body: `${line}\n{"b":1}\n`,
    });
    assert.ok(res.status === 200 || res.status === 400, `upload answered ${res.status}`);
    assert.equal((await request(h.baseUrl, "GET", "/healthz")).status, 200);
  });
});
