import { z } from "zod";
import { invalidArgument } from "../domain/errors.ts";
import { quoted } from "../domain/display-text.ts";
import { isJsonObject } from "../domain/json-object.ts";

/**
 * @module Strict request bodies with protobuf JSON names and AIP-203 field behaviour, for every
 * route, from its body schema:
 * - a field is accepted under its lowerCamel JSON name and its proto (snake_case) name, as
 *   protojson does (`expire_time` ≡ `expireTime`); both spellings at once is a 400;
 * - a field the schema does not declare is a 400 naming it (`unknown field "expiresAt" in apiKey`;
 *   quoted with non-ASCII escaped, so a bidi control in a name cannot reorder the sentence);
 * - a field declared with `outputOnly()` (AIP-203 OUTPUT_ONLY: `name`, `createTime`, …) is ignored,
 *   so a client may send back a whole resource it read.
 * Objects declared loose (`z.looseObject`, OpenAI-compatible bodies) and records keep their keys.
 * Immutable fields (AIP-203 IMMUTABLE) are declared as ordinary optional fields and compared with
 * the stored value by the service that owns them.
 */

const OUTPUT_ONLY = "outputOnly";

/**
 * An output-only field (AIP-203 OUTPUT_ONLY): accepted in a body and ignored; marked `readOnly`
 * in /openapi.json.
 */
const outputOnly = (description = "Output only: ignored in requests") =>
  z
    .unknown()
    .optional()
    .meta({ readOnly: true, description, [OUTPUT_ONLY]: true });

/** `{name: outputOnly(), …}` for a resource's output-only fields, to spread into a body schema. */
export function outputOnlyFields<const K extends string>(...names: K[]): Record<K, ReturnType<typeof outputOnly>> {
  return Object.fromEntries(names.map((n) => [n, outputOnly()])) as Record<K, ReturnType<typeof outputOnly>>;
}

/**
 * An update's body that also takes back the resource its get answered (AIP-134: the request holds
 * the resource): every field of `response` that `body` does not declare is output only there
 * (AIP-203), accepted and ignored. Both must be objects; otherwise `body` is returned as it is.
 * The body's own metadata (its OpenAPI examples) is kept.
 */
export function withResourceFields<B extends z.ZodType>(body: B, response: z.ZodType | undefined): B {
  if (!(body instanceof z.ZodObject) || !(response instanceof z.ZodObject)) return body;
  const missing = Object.keys(response.shape).filter((field) => !(field in body.shape));
  if (missing.length === 0) return body;
  const extended = body.extend(outputOnlyFields(...missing));
  const meta = z.globalRegistry.get(body);
  return (meta ? extended.meta(meta) : extended) as unknown as B;
}

/**
 * Whether a create's `body` is the resource `response` answers with (Fireworks' CreateDeployment,
 * CreateUser: AIP-133's resource as the body), rather than a wrapper of it (`{"apiKey": {…}}`,
 * `{"datasetId", "dataset"}`): both objects, and most fields the body declares are the resource's
 * (a create may take a few of its own, such as `disableSpeculativeDecoding`). Such a body may carry
 * back the resource's output-only fields (`withResourceFields`).
 */
export function isResourceBody(body: z.ZodType, response: z.ZodType | undefined): boolean {
  if (!(body instanceof z.ZodObject) || !(response instanceof z.ZodObject)) return false;
  const fields = Object.keys(body.shape);
  return fields.filter((field) => field in response.shape).length * 2 > fields.length;
}

/** protojson's JSON name of a proto field name: `expire_time` → `expireTime`. */
const jsonName = (field: string): string => field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; catchall?: z.ZodType; options?: z.ZodType[] };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional/nullable/default/pipe wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType && ["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"].includes(def.type)) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else return current;
  }
}

const isOutputOnly = (schema: z.ZodType): boolean => z.globalRegistry.get(schema)?.[OUTPUT_ONLY] === true;

const label = (path: string): string => (path === "" ? "the request body" : path);

/**
 * The body with proto names turned into JSON names and output-only fields removed, checked
 * against `schema`'s declared fields at every object level.
 *
 * @throws ApiError INVALID_ARGUMENT naming an unknown field, or a field sent under both names.
 */
export function normalizeBody(schema: z.ZodType, value: unknown, path = ""): unknown {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === "array" && def.element && Array.isArray(value)) return value.map((v, i) => normalizeBody(def.element!, v, `${path}[${i}]`));
  if (def.type !== "object" || !isJsonObject(value)) return value;
  const shape = (inner as z.ZodObject).shape as Record<string, z.ZodType>;
  const loose = def.catchall !== undefined && defOf(def.catchall).type !== "never";
  const out: Record<string, unknown> = {};
  for (const [given, v] of Object.entries(value)) {
    const key = Object.hasOwn(shape, given) ? given : jsonName(given);
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!field) {
      if (loose) out[given] = v;
      else {
        const known = Object.keys(shape);
        throw invalidArgument(
          `unknown field ${quoted(given.slice(0, 100))} in ${label(path)} (${known.length > 0 ? `fields: ${known.join(", ")}` : "it takes none"})`,
        );
      }
      continue;
    }
    if (Object.hasOwn(out, key)) throw invalidArgument(`field "${key}" is given twice in ${label(path)} (as "${key}" and as its proto name)`);
    if (isOutputOnly(field)) continue;
    out[key] = normalizeBody(field, v, path === "" ? key : `${path}.${key}`);
  }
  return out;
}

/**
 * The query parameters with proto names turned into JSON names (`page_size` ≡ `pageSize`, as
 * gRPC transcoding accepts both), checked against the parameters `schema` declares: one it does
 * not declare is a 400 naming it, never ignored (`?validateOnly=true` on a method without it would
 * otherwise do the very thing asked not to be done). A route without a query schema declares none;
 * one whose schema is a loose object (`z.looseObject`: a redirect back from an identity provider,
 * which adds parameters of its own) reads every parameter itself.
 *
 * @throws ApiError INVALID_ARGUMENT `unknown query parameter "x" (parameters: a, b)`, or a parameter given under both names.
 */
export function normalizeQuery(schema: z.ZodType | undefined, query: unknown): unknown {
  const given = (query ?? {}) as Record<string, unknown>;
  const inner = schema ? unwrap(schema) : undefined;
  const def = inner ? defOf(inner) : undefined;
  if (def && def.type !== "object") return query;
  const shape = inner && def ? ((inner as z.ZodObject).shape as Record<string, z.ZodType>) : {};
  if (def?.catchall !== undefined && defOf(def.catchall).type !== "never") return query;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    const key = Object.hasOwn(shape, name) ? name : jsonName(name);
    if (!Object.hasOwn(shape, key)) {
      const known = Object.keys(shape);
      throw invalidArgument(
        `unknown query parameter ${quoted(name.slice(0, 100))} (${known.length > 0 ? `parameters: ${known.join(", ")}` : "this method takes none"})`,
      );
    }
    if (Object.hasOwn(out, key)) throw invalidArgument(`query parameter "${key}" is given twice (as "${key}" and as its proto name)`);
    if (Array.isArray(value)) throw invalidArgument(`query parameter "${key}" is given ${value.length} times; give it once`);
    out[key] = value;
  }
  return out;
}
