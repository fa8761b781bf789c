import { z } from "zod";
import type { RegisteredRoute } from "./route.ts";

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;

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
      properties: { code: { type: "integer" }, status: { type: "string" }, message: { type: "string" } },
      required: ["code", "status", "message"],
    },
  },
};

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(routes: readonly RegisteredRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const r of routes) {
    // Two routes may serve one RPC (POST …:delete and DELETE …): OpenAPI wants distinct ids.
    const operationId = operationIds.has(r.operationId) ? `${r.operationId}_${r.method.toLowerCase()}` : r.operationId;
    operationIds.add(operationId);
    const op: Record<string, unknown> = {
      operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query")],
      responses: {
        "200": { description: "OK", content: { "application/json": { schema: { type: "object" } } } },
        default: { description: "Error", content: { "application/json": { schema: errorSchema } } },
      },
    };
    if (r.body) op.requestBody = { required: true, content: { "application/json": { schema: toSchema(r.body) } } };
    if (r.streamedBody) op.requestBody = { required: true, content: r.streamedBody };
    if (r.auth) op.security = [{ bearer: [] }];
    (paths[r.url] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Hearth", version: "1", description: "Account and access control plane: users, service accounts, roles, API keys, audit log, quotas." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key" } } },
    paths,
  };
}
