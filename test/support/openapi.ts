import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/** Just enough of an OpenAPI 3.1 document for the suites that read Hearth's own. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export type JsonSchema = Record<string, any>;

export interface OpenApiOperation {
  operationId: string;
  parameters: Array<{ name: string; in: "path" | "query"; required: boolean; schema: JsonSchema }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }>; headers?: Record<string, unknown> }>;
}

/** One operation with where it lives. */
export interface Operation extends OpenApiOperation {
  method: string;
  path: string;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })));
}

/** The schema a `$ref` to `#/components/schemas/…` names (any other schema as given). */
export function resolveSchema(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  const ref = typeof schema.$ref === "string" ? /^#\/components\/schemas\/(.+)$/.exec(schema.$ref) : null;
  return ref ? resolveSchema(doc, doc.components.schemas[ref[1]!] ?? {}) : schema;
}

/**
 * Compiles a schema of the document with ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect, and its
 * formats), its references to the document's components resolved.
 */
export function schemaValidator(doc: OpenApiDocument): (schema: JsonSchema) => ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const local = (value: unknown): JsonSchema => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/')) as JsonSchema;
  const defs = local(doc.components.schemas);
  return (schema) => ajv.compile({ ...local(schema), $defs: defs });
}
