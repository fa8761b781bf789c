import fc from "fast-check";

/**
 * Arbitraries for hostile input: filters (valid, mutated, random), ids and names, and request
 * bodies shaped by the OpenAPI schema of a route, biased by property name towards the values that
 * reach deep into the code, then mutated. Every URL they hold is loopback.
 */
export const ROLES = ["admin", "user", "contributor", "inference-user"];
const FILTER_FIELDS = [
  "name",
  "user_id",
  "display_name",
  "email",
  "role",
  "service_account",
  "state",
  "create_time",
  "update_time",
  "key_id",
  "expire_time",
  "last_used",
  "resource",
  "message",
  "principal",
  "status",
  "colour",
  "a.b",
];
const OPS = ["=", "!=", "<", ">", "<=", ">=", ":"];

/** Odd text: control characters, quotes, SQL and path meta-characters, long runs, astral planes. */
export const junk: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "'",
    '"',
    "\\",
    "%",
    "_",
    "%00",
    "\u0000",
    "../..",
    "a/b",
    "?x=1",
    "#f",
    "' OR '1'='1",
    "'); drop table users; --",
    "\u202e",
    "💥",
    "NaN",
    "null",
    "undefined",
    "[object Object]",
    "__proto__",
    "constructor",
  ),
  fc.integer({ min: 64, max: 5000 }).map((n) => "a".repeat(n)),
);

/**
 * Page tokens as a forger would make them: the token's JSON shape (fingerprint, cursor values,
 * total) with hostile cursor values — objects, strings where numbers belong (a create_time cursor
 * of "x" on PostgreSQL), huge numbers — base64url-encoded, unsigned or with a made-up signature.
 */
export const forgedPageToken: fc.Arbitrary<string> = fc
  .record({
    f: fc.oneof(fc.string({ maxLength: 16 }), fc.constant("")),
    v: fc.array(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom({ a: 1 }, "x", "2026-01-01", -1, 1e308, null)), { maxLength: 3 }),
    t: fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 60)),
  })
  .chain((cursor) => {
    const body = Buffer.from(JSON.stringify(cursor)).toString("base64url");
    return fc.oneof(
      fc.constant(body),
      fc.base64String({ minLength: 4, maxLength: 44 }).map((sig) => `${body}.${sig.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}`),
    );
  });

export const validId: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const timestampText = fc.oneof(
  fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2200-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    "2026-01-01T00:00:00Z",
    "2026-13-45T99:99:99Z",
    "2026-01-01",
    "2026-01-01 10:00:00",
    "yesterday",
    "0",
    "-1",
    "9999999999999",
    "1e3",
    "275760-09-13T00:00:00Z",
    "+275760-09-13T00:00:01Z",
  ),
  junk,
);

const filterValue = fc.oneof(
  fc.constantFrom("true", "false", "admin", "user", "READY", "2026-01-01T00:00:00Z", "accounts/my-account/users/fz-user", "x"),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/['\\]/g, "")}'`),
  validId,
);

/** A filter in the AIP-160 grammar Hearth parses (field names known and unknown). */
export const validFilter: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("compare"),
    fc.tuple(tie("expr"), fc.constantFrom(" AND ", " OR ", " "), tie("expr")).map(([a, op, b]) => `${a}${op}${b}`),
    tie("expr").map((e) => `(${e})`),
    tie("expr").map((e) => `NOT (${e})`),
    tie("compare").map((e) => `-${e}`),
  ),
  compare: fc.tuple(fc.constantFrom(...FILTER_FIELDS), fc.constantFrom(...OPS), filterValue).map(([f, op, v]) => `${f}${op}${v}`),
})).expr as fc.Arbitrary<string>;

/** A string changed a few characters at a time: inserted, deleted or replaced. */
export function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(
      base,
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.constantFrom("insert", "delete", "replace"),
          fc.constantFrom("(", ")", '"', "'", "=", "!", ":", "<", " ", "AND", "OR", "NOT", "-", "\\", "\u0000", "é"),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([s, edits]) => {
      let out = s;
      for (const [at, kind, text] of edits) {
        const i = out.length ? at % (out.length + 1) : 0;
        if (kind === "insert") out = out.slice(0, i) + text + out.slice(i);
        else if (kind === "delete") out = out.slice(0, i) + out.slice(i + 1);
        else out = out.slice(0, i) + text + out.slice(i + text.length);
      }
      return out;
    });
}

export const anyFilter: fc.Arbitrary<string> = fc.oneof(
  validFilter,
  mutated(validFilter),
  junk,
  fc.string({ unit: fc.constantFrom(..."()\"'=!<>:- ANDORNOTab_1".split("")), maxLength: 60 }),
);

/** Values chosen by name: what a real client would send, or near misses of it. */
export function valueFor(name: string, ids: Record<string, string[]>): fc.Arbitrary<unknown> | undefined {
  const some = (key: string) => fc.constantFrom(...(ids[key]?.length ? ids[key]! : ["none"]));
  switch (name) {
    case "role":
    case "jitDefaultRole":
      return fc.oneof(fc.constantFrom(...ROLES, "custom", "owner", "ADMIN"), junk);
    case "email":
      return fc.oneof(fc.emailAddress(), fc.constantFrom("fz.user@corp.example", "nope", "a@b", "x@-bad-.example", `${"a".repeat(250)}@x.io`), junk);
    case "serviceAccount":
    case "enforceSso":
    case "enableJitUserProvisioning":
    case "stream":
      return fc.oneof(fc.boolean(), fc.constantFrom("true", 1, 0, null));
    case "displayName":
    case "description":
      return fc.oneof(fc.string({ maxLength: 70 }), junk);
    case "value":
      return fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constantFrom("5", "12", "1e3", "-1", "999999999999999999999", 1e308, -0, 1.5, 2 ** 53 + 2), junk);
    case "baseModel":
    case "model":
      return fc.oneof(
        fc.constantFrom(
          "accounts/fireworks/models/tiny-public",
          "accounts/my-account/models/fz-model",
          "accounts/my-account/deployments/fz-dep",
          "accounts/my-account/models/fz-model#accounts/my-account/deployments/fz-dep",
          "accounts/other-account/models/secret",
          "fz-model",
          "tiny",
          "a#b#c",
        ),
        validId.map((m) => `accounts/my-account/models/${m}`),
        junk,
      );
    case "backend":
      return fc.oneof(fc.constantFrom("local", "nowhere", "missing"), junk);
    case "issuerUrl":
      // Loopback only: the server under test must never be led to reach outside.
      return fc.oneof(
        fc.constantFrom(
          "http://127.0.0.1:9/issuer",
          "https://127.0.0.1:9/",
          "http://localhost:9",
          "ftp://127.0.0.1/x",
          "http://127.0.0.1:9/?q=1",
          "http://user:pw@127.0.0.1:9/",
        ),
        fc.string({ maxLength: 30 }).filter((s) => !s.includes(":")),
      );
    case "clientId":
    case "clientSecret":
    case "upstreamModel":
      return fc.oneof(fc.string({ maxLength: 40 }), junk);
    case "tenantDomains":
      return fc.oneof(fc.array(fc.oneof(fc.domain(), junk), { maxLength: 4 }), junk);
    case "expireTime":
    case "startTime":
    case "endTime":
      return timestampText;
    case "keyId":
      return fc.oneof(some("keyId"), validId, junk);
    case "userId":
      return fc.oneof(some("userId"), validId, junk);
    case "datasetId":
    case "modelId":
    case "deploymentId":
    case "identityProviderId":
    case "quotaId":
      return fc.oneof(some(name), validId, junk);
    case "accountId":
      return fc.oneof(fc.constant("my-account"), fc.constant("my-account"), fc.constant("other-account"), validId, junk);
    case "filter":
      return anyFilter;
    case "orderBy":
      return fc.oneof(fc.constantFrom("name", "create_time desc", "display_name asc, name", "email desc,name", "timestamp", "password desc", "name up"), junk);
    case "readMask":
    case "updateMask":
      return fc.oneof(
        fc.constantFrom("name,email", "displayName", "role", "display_name,role", "oidcConfig.clientSecret", "oidc_config", "email", "baseModel,backend", "*"),
        junk,
      );
    case "pageSize":
      return fc.oneof(fc.constantFrom("0", "1", "2", "200", "1000", "-1", "abc", "1e3", "9".repeat(30), "1.5"), fc.nat().map(String));
    case "pageToken":
      return fc.oneof(fc.base64String({ maxLength: 60 }), fc.constantFrom("eyJmIjoiIiwidiI6W119", "e30"), forgedPageToken, junk);
    case "next":
      return fc.oneof(fc.constantFrom("/", "/account/users", "//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"), junk);
    case "messages":
      return fc.oneof(
        fc.array(
          fc.record({
            role: fc.constantFrom("user", "system", "assistant", "tool"),
            content: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 2 })),
          }),
          { maxLength: 3 },
        ),
        fc.jsonValue({ maxDepth: 3 }),
      );
    case "prompt":
      return fc.oneof(fc.string({ maxLength: 40 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }));
    case "inputPricePerMillionTokens":
    case "outputPricePerMillionTokens":
      return fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(-1, 0, 1, 1e7, "3"));
    default:
      return undefined;
  }
}

type Schema = Record<string, any>;

/** A value for a JSON schema (as zod writes them): by property name where known, else by type. */
export function fromSchema(schema: Schema | undefined, ids: Record<string, string[]>, name = "", depth = 0): fc.Arbitrary<unknown> {
  const named = name ? valueFor(name, ids) : undefined;
  if (named) return named;
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.allOf)
    return fc
      .tuple(...(schema.allOf as Schema[]).map((s) => fromSchema(s, ids, name, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => p && typeof p === "object")));
  if (schema.anyOf || schema.oneOf) return fc.oneof(...((schema.anyOf ?? schema.oneOf) as Schema[]).map((s) => fromSchema(s, ids, name, depth + 1)));
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if ("const" in schema) return fc.constant(schema.const);
  switch (schema.type) {
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const record = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, ids, k, depth + 1)]));
      return fc.record(record, { requiredKeys: [], noNullPrototype: true });
    }
    case "array":
      return fc.array(fromSchema(schema.items, ids, "", depth + 1), { maxLength: 4 });
    case "string":
      return fc.oneof(fc.string({ maxLength: 30 }), junk);
    case "integer":
      return fc.integer();
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** Takes a body apart: a field dropped, retyped or nulled, a field added, the whole replaced, deep nesting, a huge string. */
export function mutateBody(body: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const nest = (depth: number, leaf: unknown) => {
    let v: unknown = leaf;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };
  return fc.oneof(
    body,
    fc
      .tuple(body, fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }))
      .map(([b, k, v]) => (b && typeof b === "object" && !Array.isArray(b) ? { ...b, [k]: v } : v)),
    fc.tuple(body, fc.nat(), fc.jsonValue({ maxDepth: 2 })).map(([b, i, v]) => {
      if (!b || typeof b !== "object" || Array.isArray(b)) return b;
      const keys = Object.keys(b);
      if (!keys.length) return v;
      return { ...b, [keys[i % keys.length]!]: v };
    }),
    fc.jsonValue({ maxDepth: 4 }),
    fc.constantFrom(
      null,
      0,
      "",
      [],
      "string body",
      true,
      { __proto__: { admin: true } },
      JSON.parse('{"__proto__": {"role": "admin"}, "constructor": {"prototype": {"x": 1}}}'),
    ),
    fc.integer({ min: 100, max: 3000 }).map((d) => nest(d, "deep")),
    fc
      .tuple(body, fc.integer({ min: 10_000, max: 400_000 }))
      .map(([b, n]) => (b && typeof b === "object" && !Array.isArray(b) ? { ...b, displayName: "x".repeat(n) } : "x".repeat(n))),
  );
}
