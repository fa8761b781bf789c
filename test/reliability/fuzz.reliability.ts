import assert from "node:assert/strict";
import fc from "fast-check";
import { after, before, describe, test } from "node:test";
import { ApiError } from "../../src/domain/errors.ts";
import { parseFilter } from "../../src/domain/filter.ts";
import { checkEmail, checkId, idFromEmail, isValidId } from "../../src/domain/ids.ts";
import { quoted } from "../../src/domain/display-text.ts";
import { idFromName, parseInferenceModel, parseModelName } from "../../src/domain/resource-names.ts";
import { compileFilter } from "../../src/store/filter-sql.ts";
import { usersTable } from "../../src/store/users.ts";
import { otherAccount } from "../support/fixtures.ts";
import { anyFilter, fromSchema, junk, mutateBody, mutated, validFilter } from "../support/fuzz.ts";
import { DIALECTS, type TestHearth } from "../support/hearth.ts";
import { startPlatform, upload } from "../support/platform.ts";
import { hearthCallback, startIssuer, type TestIssuer } from "../support/oidc-issuer.ts";
import { guardNetwork, report } from "../support/reliability.ts";

/**
 * Hostile input, generated with fast-check: the filter parser, ids and resource names on their own,
 * then every route of /openapi.json with random and mutated path parameters, query strings,
 * headers and JSON bodies. Never a 500, never a crash; every refusal a 4xx whose message says what
 * was wrong. Set HEARTH_RELIABILITY_SEED to replay a run.
 */
const RUNS = Number(process.env.HEARTH_RELIABILITY_FUZZ_RUNS ?? 40);
const SEED = Number(process.env.HEARTH_RELIABILITY_SEED ?? Date.now() % 1_000_000);
const refusedConnections = guardNetwork();

/** Runs a property; a failure's counterexample (which may hold a 400 kB string) is shortened for the log. */
async function holds(run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    const text = `${String((error as Error).message ?? error)}${cause ? `\ncause: ${cause}` : ""}`;
    const short = text.replace(/(.)\1{80,}/g, (m, c: string) => `${c.repeat(20)}…(${m.length} × ${JSON.stringify(c)})`);
    throw new Error(short.length > 4000 ? `${short.slice(0, 2000)} … ${short.slice(-2000)}` : short);
  }
}

/** A refusal must be an error a person can act on: a sentence, no internals. */
/** `gateway`: the refusal is in OpenAI's shape (true), google.rpc's (false), or either (undefined). */
function checkRefusal(where: string, status: number, body: any, gateway: boolean | undefined, sent: string): void {
  assert.ok(
    body && typeof body === "object" && body.error && typeof body.error === "object",
    `${where}: ${status} without an error body: ${JSON.stringify(body)?.slice(0, 300)}`,
  );
  const message = body.error.message;
  assert.equal(typeof message, "string", where);
  assert.ok(message.length >= 8, `${where}: message too short: ${message}`);
  assert.doesNotMatch(message, /internal error|\n\s+at |FST_ERR|ERR_[A-Z]/, `${where}: ${message}`);
  // A value printed by mistake, unless the client sent those very words.
  for (const slip of ["[object Object]", "undefined", "NaN"]) {
    if (message.includes(slip)) assert.ok(sent.includes(slip), `${where}: ${message}`);
  }
  if (gateway ?? typeof body.error.type === "string") assert.equal(typeof body.error.type, "string", where);
  else {
    assert.equal(body.error.code, status, where);
    assert.equal(typeof body.error.status, "string", where);
  }
}

describe("hostile input: the filter parser, ids and resource names (fast-check)", () => {
  test("any text given as a filter parses, or is INVALID_ARGUMENT naming the position", async () => {
    let runs = 0;
    await holds(() =>
      fc.assert(
        fc.property(
          fc.oneof(
            anyFilter,
            mutated(validFilter),
            fc.string({ unit: "grapheme", maxLength: 80 }),
            fc.integer({ min: 1, max: 200 }).map((n) => "(".repeat(n) + "a=1" + ")".repeat(n)),
          ),
          (text) => {
            runs++;
            try {
              parseFilter(text);
            } catch (error) {
              assert.ok(error instanceof ApiError, `not an ApiError for ${JSON.stringify(text)}: ${error}`);
              assert.equal(error.status, "INVALID_ARGUMENT");
              assert.match(error.message, /^invalid filter: (.+ at position \d+|longer than \d+ characters)$/);
            }
          },
        ),
        { numRuns: 20_000, seed: SEED },
      ),
    );
    report("hostile input", { "filter parser inputs": runs });
  });

  test("every filter in the grammar parses; compiling it is SQL or INVALID_ARGUMENT (unknown field, wrong type)", async () => {
    let runs = 0;
    await holds(() =>
      fc.assert(
        fc.property(validFilter, (text) => {
          runs++;
          const expr = parseFilter(text);
          assert.ok(expr, text);
          try {
            compileFilter(expr, usersTable("my-account").fields);
          } catch (error) {
            assert.ok(error instanceof ApiError && error.status === "INVALID_ARGUMENT", `${text}: ${error}`);
            assert.match(error.message, /^invalid filter: .+ at position \d+$/);
          }
        }),
        { numRuns: 5_000, seed: SEED },
      ),
    );
    report("hostile input", { "filter parser inputs": runs });
  });

  test("ids and resource names: a clear INVALID_ARGUMENT for anything malformed, a valid id from any accepted email", async () => {
    let runs = 0;
    await holds(() =>
      fc.assert(
        fc.property(fc.oneof(junk, fc.string({ unit: "grapheme", maxLength: 80 }), fc.emailAddress()), (text) => {
          runs++;
          assert.equal(typeof isValidId(text), "boolean");
          for (const parse of [
            () => checkId(text, "userId"),
            () => idFromName(text, "accounts/a/users", "user"),
            () => checkEmail(text),
            () => parseInferenceModel(text),
          ]) {
            try {
              parse();
            } catch (error) {
              assert.ok(error instanceof ApiError && error.status === "INVALID_ARGUMENT", `${JSON.stringify(text)}: ${error}`);
              // Quoted as JSON, or (emails) with every non-ASCII character escaped, so a bidi control cannot reorder the sentence.
              const quotes = [JSON.stringify(text.slice(0, 40)), quoted(text.slice(0, 40))].map((q) => q.slice(1, -1).slice(0, 20));
              assert.ok(
                quotes.some((q) => error.message.includes(q)),
                `the message quotes the input: ${error.message}`,
              );
            }
          }
          assert.doesNotThrow(() => parseModelName(text));
          let email: string | undefined;
          try {
            email = checkEmail(text);
          } catch {
            // not an email
          }
          if (email !== undefined) assert.ok(isValidId(idFromEmail(email)), `id from ${email}: ${idFromEmail(email)}`);
        }),
        { numRuns: 20_000, seed: SEED },
      ),
    );
    report("hostile input", { "id and resource-name inputs": runs });
  });
});

interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: "path" | "query"; schema: any }>;
  body?: any;
  auth: boolean;
  /** The route declares OpenAI's error shape (its default response is `OpenAIError`). */
  openai: boolean;
}

for (const dialect of DIALECTS) {
  describe(`hostile input over every route of /openapi.json (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let ops: Operation[] = [];
    const ids: Record<string, string[]> = {};
    const keys: Record<string, string> = {};
    const tally = { requests: 0, ok: 0, refused: 0, gatewayUpstream: 0, idpUnavailable: 0 };
    let issuer: TestIssuer;

    before(async () => {
      // The test issuer listens on loopback: the operator switch lets Hearth reach it.
      ({ h, stop } = await startPlatform(dialect, {}, { HEARTH_ALLOW_PRIVATE_NETWORKS: "true" }));
      issuer = await startIssuer({
        redirectUris: [hearthCallback(h), "http://localhost:80/auth/oidc/callback/my-account/corp", "http://localhost/auth/oidc/callback/my-account/corp"],
      });
      const doc = (await h.call("GET", "/openapi.json", { key: null })).body;
      ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({
          method: method.toUpperCase(),
          path,
          params: op.parameters ?? [],
          body: op.requestBody?.content?.["application/json"]?.schema,
          auth: Boolean(op.security),
          openai: op.responses?.default?.content?.["application/json"]?.schema?.$ref === "#/components/schemas/OpenAIError",
        })),
      );
      const A = "/v1/accounts/my-account";
      const ok = async (method: string, url: string, body?: unknown, key?: string) => {
        const res = await h.call(method, url, { ...(body !== undefined ? { body } : {}), ...(key ? { key } : {}) });
        assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
        return res.body;
      };
      for (const [id, role] of [
        ["fz-user", "user"],
        ["fz-victim", "contributor"],
      ] as const) {
        await ok("POST", `${A}/users?userId=${id}`, { serviceAccount: true, role });
        const key = await ok("POST", `${A}/users/${id}/apiKeys`, { apiKey: {} });
        keys[id] = key.key;
        (ids.keyId ??= []).push(key.keyId);
      }
      ids.userId = ["fz-user", "fz-victim", "-", "admin-example-com"];
      ids.quotaId = ["service-accounts", "api-keys-per-user", "deployments", "datasets", "monthly-spend-usd"];
      await ok("POST", `${A}/identityProviders?identityProviderId=corp`, {
        oidcConfig: { issuerUrl: issuer.issuer, clientId: issuer.clientId, clientSecret: issuer.clientSecret },
      });
      ids.identityProviderId = ["corp"];
      await ok("POST", `${A}/models?modelId=fz-model`, { backend: "local", upstreamModel: "tiny-upstream" }, keys["fz-user"]);
      ids.modelId = ["fz-model", "tiny-public"];
      await ok("POST", `${A}/deployments?deploymentId=fz-dep`, { baseModel: "accounts/my-account/models/fz-model" }, keys["fz-user"]);
      ids.deploymentId = ["fz-dep"];
      await ok("POST", `${A}/datasets?datasetId=fz-data`, {}, keys["fz-user"]);
      assert.equal((await upload(h, keys["fz-user"]!, "my-account", "fz-data", '{"messages":[{"role":"user","content":"a"}]}\n')).status, 200);
      ids.datasetId = ["fz-data"];
      keys.other = await otherAccount(h);
    });
    after(async () => {
      report("hostile input", {
        "HTTP inputs tried": tally.requests,
        "answered 2xx/3xx": tally.ok,
        "refused with a 4xx naming the problem": tally.refused,
        "inference upstream errors (502/504)": tally.gatewayUpstream,
        "identity provider did not answer (503)": tally.idpUnavailable,
        "500s": 0,
      });
      report("hostile input", { [`routes fuzzed (${dialect})`]: ops.length, "inputs per route and dialect (plus shrinking)": `${RUNS}` });
      assert.deepEqual(refusedConnections, [], "no request was led to reach beyond loopback");
      await stop();
      await issuer.close();
    });

    test("every route: random and mutated path parameters, query strings, headers and bodies are never a 500", async () => {
      assert.ok(ops.length >= 40, `found ${ops.length} operations`);
      for (const op of ops) {
        const pathParams = op.params.filter((p) => p.in === "path");
        const queryParams = op.params.filter((p) => p.in === "query");
        const arb = fc.record({
          path: fc.tuple(...pathParams.map((p) => fc.tuple(fromSchema(p.schema, ids, p.name), fc.boolean()))),
          query: fc.tuple(
            ...queryParams.map((p) =>
              fc.option(fc.oneof(fromSchema(p.schema, ids, p.name), junk, fc.array(fc.string({ maxLength: 5 }), { minLength: 2, maxLength: 2 })), {
                nil: undefined,
              }),
            ),
          ),
          extraQuery: fc.option(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), { nil: undefined }),
          body: op.body ? mutateBody(fromSchema(op.body, ids)) : fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
          rawBody: fc.option(fc.oneof(fc.constantFrom("{", '{"a":', "[1,2", "nul", "\u0000", '{"a":1}{"b":2}', "{'single':1}", "\ufeff{}"), junk), {
            freq: 6,
            nil: undefined,
          }),
          contentType: fc.option(
            fc.constantFrom(
              "text/plain",
              "application/json; charset=utf-16",
              "multipart/form-data; boundary=x",
              "application/x-www-form-urlencoded",
              "application/jsonl",
            ),
            { freq: 8, nil: undefined },
          ),
          who: fc.constantFrom("admin", "admin", "admin", "admin", "admin", "admin", "user", "user", "other", "none", "junk"),
          junkHeader: fc.option(
            junk.map((j) => j.replace(/[^\x20-\x7e]/g, "?")),
            { freq: 6, nil: undefined },
          ),
          jsonl: fc.option(
            fc
              .array(
                fc.oneof(
                  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
                  junk,
                ),
                { maxLength: 5 },
              )
              .map((lines) => lines.join("\n")),
            { nil: undefined },
          ),
        });
        await holds(() =>
          fc.assert(
            fc.asyncProperty(arb, async (r) => {
              let url = op.path;
              pathParams.forEach((p, i) => {
                const [value, raw] = r.path[i] as [unknown, boolean];
                const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
                url = url.replace(`{${p.name}}`, raw && /^[\x21-\x7e]*$/.test(text) && !/[?#%]/.test(text) ? text : encodeURIComponent(text));
              });
              const qs = new URLSearchParams();
              queryParams.forEach((p, i) => {
                const v = r.query[i];
                if (v === undefined) return;
                if (Array.isArray(v) && v.every((x) => typeof x === "string")) v.forEach((x) => qs.append(p.name, x));
                else qs.append(p.name, typeof v === "string" ? v : JSON.stringify(v));
              });
              if (r.extraQuery) qs.append(r.extraQuery[0], r.extraQuery[1]);
              const full = qs.size ? `${url}?${qs}` : url;
              // The declared error shape; a path whose parameters hold dot segments lands elsewhere
              // (`/inference/v1/models/../..` is `/inference/`), where another route or none answers: either shape.
              const dotted = url.split(/[/\\]/).some((segment) => segment === "." || segment === "..");
              const gateway = dotted ? undefined : op.openai;
              const headers: Record<string, string> = {};
              let key: string | null = r.who === "admin" ? h.adminKey : r.who === "user" ? keys["fz-user"]! : r.who === "other" ? keys.other! : null;
              if (r.who === "junk") headers.authorization = `Bearer ${r.junkHeader ?? "x"}`;
              else if (r.junkHeader !== undefined)
                headers[["x-request-id", "cookie", "origin", "user-agent", "x-csrf-token"][r.junkHeader.length % 5]!] = r.junkHeader;
              let body: unknown = r.body;
              const upload = op.path.endsWith(":upload") && r.jsonl !== undefined;
              if (upload && r.contentType?.startsWith("multipart/")) {
                // The documented form, sometimes cut short before its closing boundary.
                body = `--x\r\nContent-Disposition: form-data; name="file"; filename="f.jsonl"\r\n\r\n${r.jsonl}${r.rawBody === undefined ? "\r\n--x--\r\n" : r.rawBody}`;
                headers["content-type"] = r.contentType;
              } else if (upload) {
                body = r.jsonl;
                headers["content-type"] = "application/jsonl";
              } else if (r.rawBody !== undefined && op.method !== "GET") {
                body = r.rawBody;
                headers["content-type"] = r.contentType ?? "application/json";
              } else if (r.contentType !== undefined && body !== undefined && op.method !== "GET") {
                body = typeof body === "string" ? body : JSON.stringify(body);
                headers["content-type"] = r.contentType;
              } else if (body !== undefined && (typeof body !== "object" || body === null)) {
                body = JSON.stringify(body);
                headers["content-type"] = "application/json";
              }
              if (op.method === "GET" || op.method === "DELETE") body = r.body === undefined || r.who === "none" ? undefined : body;
              const res = await h.call(op.method, full, { key, headers, ...(body !== undefined ? { body } : {}) });
              tally.requests++;
              const where = `${op.method} ${full.slice(0, 200)} (${r.who})`;
              if (gateway !== false && (res.status === 502 || res.status === 504)) {
                tally.gatewayUpstream++;
                return;
              }
              // An identity provider pointed (by an earlier fuzzed PATCH) at a closed loopback port: the documented 503.
              if (res.status === 503 && /did not answer OIDC discovery/.test(res.body?.error?.message ?? "")) {
                tally.idpUnavailable++;
                return;
              }
              assert.ok(res.status < 500, `${where}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
              if (res.status >= 400) {
                checkRefusal(
                  where,
                  res.status,
                  res.body,
                  gateway,
                  decodeURIComponent(full.replace(/%(?![0-9A-Fa-f]{2})/g, "%25")).replace(/\+/g, " ") +
                    JSON.stringify(body ?? "") +
                    (typeof body === "string" ? body : "") +
                    JSON.stringify(headers),
                );
                tally.refused++;
              } else tally.ok++;
            }),
            { numRuns: RUNS, seed: SEED },
          ),
        );
      }
      const unhandled = h.logs.filter((l) => l.includes("unhandled error"));
      assert.deepEqual(unhandled, [], "no unhandled error was logged");
    });
  });
}
