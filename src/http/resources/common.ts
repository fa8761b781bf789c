/**
 * @module Pieces every resource schema shares: timestamps, statuses, list pages, the empty answer.
 * Each schema here describes what the server sends (its OpenAPI output shape, `io: "output"`).
 */
import { z } from "zod";

/** An RFC 3339 UTC timestamp as the server writes it (`Date.prototype.toISOString`, milliseconds). */
export const timestamp = z.iso.datetime().meta({ examples: ["2026-01-31T12:00:00.000Z"] });

/** A resource's status (google.rpc code name and a sentence; `OK` and "" when nothing is wrong). */
export const status = z.object({ code: z.string().meta({ examples: ["OK"] }), message: z.string() }).meta({ id: "Status" });

/** The answer of a delete and of other calls that return nothing (google.protobuf.Empty). */
export const empty = z.object({}).meta({ id: "Empty" });
type Empty = z.output<typeof empty>;

/**
 * A page of a list (AIP-158): the items under `key`, `nextPageToken` ("" on the last page) and
 * `totalSize` (the count of every item the list's filter matches).
 */
export function listPage<K extends string, T extends z.ZodType>(key: K, item: T) {
  return z.object({
    ...({ [key]: z.array(item) } as Record<K, z.ZodArray<T>>),
    nextPageToken: z.string().meta({ description: 'Pass as pageToken for the next page; "" on the last page' }),
    totalSize: z.number().int().min(0),
  });
}

/**
 * `schema` with `values` as its documented examples (JSON Schema `examples`), type-checked against
 * what the schema accepts. The suite generated from `/openapi.json` sends them, so they must be valid.
 */
export function example<S extends z.ZodType>(schema: S, ...values: z.input<S>[]): S {
  return schema.meta({ examples: values });
}
