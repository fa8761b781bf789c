import { z } from "zod";
import type { RegisteredRoute } from "./route.ts";

type JsonSchema = Record<string, unknown>;

/**
 * zod drops the `examples` of a schema that transforms when it writes the input side, taking them
 * for outputs; the examples of a request schema (`example()`) are inputs, so they are kept.
 */
const keepExamples = (ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void => {
  const examples = z.globalRegistry.get(ctx.zodSchema as z.ZodType)?.examples;
  if (examples !== undefined) ctx.jsonSchema.examples = examples;
};

const toSchema = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12", override: keepExamples }) as JsonSchema;

function parameters(schema: z.ZodType | undefined, location: "path" | "query") {
  if (!schema) return [];
  const json = toSchema(schema);
  const props = collectProperties(json);
  const required = new Set(collectRequired(json));
  return Object.entries(props).map(([name, s]) => ({ name, in: location, required: location === "path" || required.has(name), schema: s }));
}

/** Properties of an object schema, including those of an `allOf` intersection. */
function collectProperties(json: JsonSchema): Record<string, unknown> {
  const own = (json.properties ?? {}) as Record<string, unknown>;
  const parts = (json.allOf ?? []) as JsonSchema[];
  return Object.assign({}, ...parts.map(collectProperties), own);
}

function collectRequired(json: JsonSchema): string[] {
  return [...((json.required ?? []) as string[]), ...((json.allOf ?? []) as JsonSchema[]).flatMap(collectRequired)];
}

const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "integer" },
        status: { type: "string" },
        message: { type: "string" },
        details: {
          type: "array",
          description: "google.rpc.RequestInfo: the request's id, as in the x-request-id header",
          items: { type: "object", properties: { "@type": { type: "string" }, requestId: { type: "string" } }, required: ["@type", "requestId"] },
        },
      },
      required: ["code", "status", "message"],
    },
  },
  required: ["error"],
};

/** OpenAI's error body, written by the routes that declare `errorFormat: "openai"`. */
const openAiErrorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { message: { type: "string" }, type: { type: "string" }, code: { type: "string" }, param: { type: ["string", "null"] } },
      required: ["message", "type", "code", "param"],
    },
  },
  required: ["error"],
};

/**
 * A response schema as the server writes it (`io: "output"`). Schemas named with a zod `id`
 * (`.meta({ id: "User" })`) become `components.schemas` entries that the operation refers to.
 * @throws Error when two different schemas claim one id (a programming error).
 */
function outputSchema(schema: z.ZodType, components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "output", unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  const relink = (value: unknown): JsonSchema => JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  const { $schema: _dialect, $defs, ...rest } = json;
  for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) {
    const linked = relink(def);
    if (components[id] && JSON.stringify(components[id]) !== JSON.stringify(linked)) throw new Error(`two response schemas are named "${id}"`);
    components[id] = linked;
  }
  return relink(rest);
}

/** The operation's responses: its declared 2xx body (or redirect), and the error body of everything else. */
function responses(r: RegisteredRoute, components: Record<string, JsonSchema>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.response) out["200"] = { description: "OK", content: { [r.responseType ?? "application/json"]: { schema: outputSchema(r.response, components) } } };
  if (r.redirect) out["302"] = { description: "Redirect", headers: { Location: { description: "Where the browser goes next", schema: { type: "string" } } } };
  // Undeclared: the document test names every route still answering this.
  if (!r.response && !r.redirect) out["200"] = { description: "OK", content: { "application/json": { schema: { type: "object" } } } };
  const error = r.errorFormat === "openai" ? "OpenAIError" : "Error";
  out.default = { description: "Error", content: { "application/json": { schema: { $ref: `#/components/schemas/${error}` } } } };
  return out;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(routes: readonly RegisteredRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  const schemas: Record<string, JsonSchema> = { Error: errorSchema, OpenAIError: openAiErrorSchema };
  for (const r of routes) {
    // Two routes may serve one RPC (POST …:delete and DELETE …): OpenAPI wants distinct ids.
    const operationId = operationIds.has(r.operationId) ? `${r.operationId}_${r.method.toLowerCase()}` : r.operationId;
    operationIds.add(operationId);
    const op: Record<string, unknown> = {
      operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query")],
      responses: responses(r, schemas),
    };
    if (r.body) op.requestBody = { required: true, content: { "application/json": { schema: toSchema(r.body) } } };
    if (r.streamedBody) op.requestBody = { required: true, content: r.streamedBody };
    if (r.auth) {
      // Either header (src/http/credential-headers.ts): OpenAPI's list of alternatives.
      op.security = [{ bearer: [] }, { apiKeyHeader: [] }];
      // The actions of which the caller must hold one (docs/roles.md), checked before the request is read.
      op["x-hearth-actions"] = r.actions;
      if (r.actions.length > 0) op.description = `Needs one of the actions: ${r.actions.join(", ")}.`;
    }
    // A multi-segment variable (`{model=**}`, AIP-127) is one path parameter in OpenAPI.
    (paths[r.url.replace(/\{(\w+)=\*\*\}/g, "{$1}")] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Hearth", version: "1", description: "Account and access control plane: users, service accounts, roles, API keys, audit log, quotas." },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key (or a human's OIDC ID token)" },
        apiKeyHeader: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key, as Fireworks' REST guides send it" },
      },
    },
    paths,
  };
}
