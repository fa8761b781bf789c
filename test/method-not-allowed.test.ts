import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { auditEntries } from "./support/fixtures.ts";
import { startHearth, type TestHearth } from "./support/hearth.ts";
import { openConnection, readUntilClosed, statusOf } from "./support/raw-http.ts";

/**
 * A path Hearth serves, asked with a method it does not take, is 405 with `Allow` (RFC 9110
 * §15.5.6), never a 404 nor a route that reads a custom method's name as an id: before, `GET
 * …/webhooks/w1:rotateSecret` was GetWebhook's 400 "invalid webhook id". Routing does not touch the
 * store, so one dialect serves.
 */
const A = "/v1/accounts/my-account";

describe("a method a path does not take", () => {
  let h: TestHearth;
  let base = "";
  before(async () => {
    h = await startHearth("sqlite");
    base = await h.listen();
  });
  after(() => h.stop());

  const send = async (method: string, path: string, init: { key?: string | null; body?: unknown } = {}) => {
    const key = init.key === undefined ? h.adminKey : init.key;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, allow: res.headers.get("allow"), body: text ? JSON.parse(text) : undefined };
  };

  test("the reproduction: GET on :rotateSecret is 405 naming POST, with or without a credential", async () => {
    for (const key of [undefined, null]) {
      const res = await send("GET", `${A}/webhooks/w1:rotateSecret`, { key });
      assert.equal(res.status, 405, JSON.stringify(res.body));
      assert.equal(res.allow, "POST");
      assert.equal(res.body.error.status, "UNIMPLEMENTED");
      assert.equal(res.body.error.code, 405);
      assert.equal(res.body.error.message, `GET is not allowed on ${A}/webhooks/w1:rotateSecret; it takes POST`);
    }
    // The colon percent-encoded, or a trailing slash, as the router reads them (found by attacking this change).
    for (const path of [`${A}/webhooks/w1%3ArotateSecret`, `${A}/webhooks/w1%3arotateSecret`, `${A}/webhooks/w1:rotateSecret/`]) {
      const res = await send("GET", path);
      assert.equal(res.status, 405, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.allow, "POST", path);
    }
    // The custom method itself is still reached, and an id still cannot hold a colon.
    assert.equal((await send("POST", `${A}/webhooks/w1:rotateSecret`, { body: {} })).status, 404);
    assert.equal((await send("GET", `${A}/webhooks/w1:nothing`)).status, 400);
  });

  test("every custom method the OpenAPI document declares refuses the other methods with 405 and its Allow", async () => {
    const doc = (await send("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const custom = Object.entries(doc.paths).filter(([path]) => /\}:[a-zA-Z]+$/.test(path));
    assert.ok(custom.length >= 10, `custom methods declared: ${custom.length}`);
    for (const [template, operations] of custom) {
      const path = template.replace(/\{(\w+)(=\*\*)?\}/g, (_m, name: string) => (name === "accountId" ? "my-account" : `x-${name.toLowerCase()}`));
      const declared = Object.keys(operations).map((m) => m.toUpperCase());
      for (const method of ["GET", "POST", "PATCH", "DELETE", "PUT"].filter((m) => !declared.includes(m))) {
        const res = await send(method, path, method === "GET" || method === "DELETE" ? {} : { body: {} });
        assert.equal(res.status, 405, `${method} ${path}: ${JSON.stringify(res.body)}`);
        const allow = res.allow?.split(", ") ?? [];
        for (const m of declared) assert.ok(allow.includes(m), `${method} ${path}: Allow ${res.allow} names ${m}`);
        assert.ok(!allow.includes(method), `${method} ${path}: Allow ${res.allow}`);
      }
    }
  });

  test("a collection or resource asked with a method it does not take is 405 with what it takes; an unknown path stays 404", async () => {
    const collection = await send("DELETE", `${A}/users`);
    assert.equal(collection.status, 405);
    assert.equal(collection.allow, "GET, HEAD, POST");
    const resource = await send("PUT", `${A}/users/nobody`, { body: {} });
    assert.equal(resource.status, 405);
    assert.equal(resource.allow, "DELETE, GET, HEAD, PATCH");
    assert.equal((await send("OPTIONS", `${A}/users/nobody/`)).allow, "DELETE, GET, HEAD, PATCH", "a trailing slash is the same path");
    const unknown = await send("DELETE", "/v1/nothing");
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /no route for DELETE \/v1\/nothing/);
  });

  test("regression (fuzzer): CONNECT is answered like any method a path does not take, audited, and the connection closes", async () => {
    // Node ends a CONNECT's connection without a word when nobody listens for it; before, so did Hearth.
    const ask = async (head: string) => {
      const s = await openConnection(base);
      s.write(`${head}\r\n\r\nbytes a tunnel would carry`);
      return readUntilClosed(s);
    };
    const refused = await ask(`CONNECT ${A}/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${h.adminKey}`);
    assert.equal(statusOf(refused), 405, refused);
    assert.match(refused, /\r\nallow: GET, HEAD, POST\r\n/i);
    assert.match(refused, /CONNECT is not allowed on \/v1\/accounts\/my-account\/users; it takes GET, HEAD, POST/);
    const entries = await auditEntries(h, 'status:"CONNECT is not allowed"');
    assert.equal(entries.length, 1, "audited in the caller's account");
    // A proxy's authority-form target is no path Hearth has.
    const proxy = await ask("CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: 127.0.0.1:5432");
    assert.equal(statusOf(proxy), 400, proxy);
  });

  test("under /inference/ the refusal is in OpenAI's shape", async () => {
    const res = await send("GET", "/inference/v1/chat/completions");
    assert.equal(res.status, 405);
    assert.equal(res.allow, "POST");
    assert.deepEqual(res.body, {
      error: {
        message: "GET is not allowed on /inference/v1/chat/completions; it takes POST",
        type: "invalid_request_error",
        code: "method_not_allowed",
        param: null,
      },
    });
  });
});
