/**
 * @module `updateMask` (AIP-134, field masks AIP-161) for every PATCH route: one reading of the
 * mask, declared per route by an `UpdateMaskSpec` and applied by `applyUpdateMask`.
 */
import { z } from "zod";
import { invalidArgument } from "../domain/errors.ts";
import { quoted } from "../domain/display-text.ts";
import { sameValue } from "./same-value.ts";

/** protojson's JSON name of a proto field name: `display_name` → `displayName`. */
const camel = (segment: string): string => segment.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A field path as a mask names it, read as protojson does: each segment lowerCamel (`oidc_config.issuer_url` → `oidcConfig.issuerUrl`). */
const pathOf = (name: string): string => name.split(".").map(camel).join(".");

/** The paths a mask names, trimmed and lowerCamel, sorted: what the mask means, however written. */
const maskPaths = (mask: string): string[] =>
  mask
    .split(",")
    .map((p) => pathOf(p.trim()))
    .sort();

/**
 * The request's `updateMask`, given in the query, the body, or both when they name the same paths
 * (in any order or spelling: `display_name` ≡ `displayName`).
 * @throws INVALID_ARGUMENT (400) naming both places when they name different paths (see `sameValue`).
 */
export function updateMaskOf(query: string | undefined, body: string | undefined): string | undefined {
  return sameValue("updateMask", { "the query": query, "the body": body }, maskPaths);
}

/**
 * What a field named in a mask becomes when the body does not carry it:
 * - `{ clear: value }`: the value that clears it (the service reads it as "back to the default":
 *   `""`, `false`, `0`, `[]`, …). `writeOnly` (a secret never returned, so a client cannot send it
 *   back) is cleared only when the mask names it by its own path, not through `*` or its parent.
 * - `"required"`: the field cannot be cleared; naming it without a value is a 400 naming it.
 */
type Clearing = { readonly clear: unknown; readonly writeOnly?: boolean } | "required";

/** A route's update-mask declaration. */
export interface UpdateMaskSpec {
  /**
   * The fields a PATCH may change, by lowerCamel path (dotted below a message: `oidcConfig.clientId`;
   * a mask naming the message, `oidcConfig`, names each of these), and what clearing each means.
   */
  readonly updatable: Readonly<Record<string, Clearing>>;
  /**
   * Every top-level field of the resource (as for `readMask`): a mask naming one that is not
   * updatable (output-only or immutable, AIP-203) is refused as "cannot be updated" rather than
   * as unknown.
   */
  readonly fields: readonly string[];
}

/** The `updateMask` query parameter of a PATCH route (AIP-134). */
const updateMaskParam = () =>
  z
    .string()
    .max(1024)
    .optional()
    .meta({ description: "Field mask (AIP-134): the fields to change, comma-separated, lowerCamel or snake_case, or * for every updatable field" });

/** The query of a PATCH route: `updateMask`. */
export const updateMaskQuery = z.object({ updateMask: updateMaskParam() });

function valueAt(body: unknown, path: string): unknown {
  let value = body;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** A path naming a resource field that is not updatable, or a field inside one (`status.code`). */
function isFixed(spec: UpdateMaskSpec, path: string): boolean {
  const root = path.split(".")[0]!;
  return spec.fields.includes(root) && !Object.keys(spec.updatable).some((p) => p === root || p.startsWith(`${root}.`));
}

/**
 * The change a PATCH makes (AIP-134), from its body and its `updateMask` (query or body):
 * - no mask (absent or empty): every updatable field present in the body changes, nothing else;
 * - `*`: every updatable field; those absent from the body are cleared (or refused if required);
 * - a list of paths (comma-separated, lowerCamel or snake_case): exactly those fields change; a
 *   named field absent from the body is cleared to its `clear` value, or refused where `required`;
 *   fields of the body the mask does not name are ignored.
 *
 * Returns the patch, shaped like the body (nested objects for dotted paths), for the service,
 * which changes each field present in it.
 *
 * @throws ApiError INVALID_ARGUMENT naming the path: unknown, not updatable (output-only or
 *   immutable, listing the updatable ones), empty, `*` beside other paths, or a required field
 *   named without a value.
 */
export function applyUpdateMask<Patch extends object>(spec: UpdateMaskSpec, body: object, mask: string | undefined): Patch {
  const paths = Object.keys(spec.updatable);
  const out: Record<string, unknown> = {};
  if (mask === undefined || mask.trim() === "") {
    for (const path of paths) {
      const value = valueAt(body, path);
      if (value !== undefined) setAt(out, path, value);
    }
    return out as Patch;
  }
  const updatable = `updatable: ${paths.join(", ")}`;
  const given = mask.split(",").map((p) => p.trim());
  // Each selected path, and whether the mask named it by its own path.
  const selected = new Map<string, boolean>();
  for (const name of given) {
    if (name === "") throw invalidArgument(`invalid updateMask ${quoted(mask)}: empty field path`);
    if (name === "*") {
      if (given.length > 1) throw invalidArgument(`invalid updateMask ${quoted(mask)}: "*" must be the only path`);
      for (const path of paths) selected.set(path, false);
      continue;
    }
    const path = pathOf(name);
    const below = paths.filter((p) => p.startsWith(`${path}.`));
    if (Object.hasOwn(spec.updatable, path)) selected.set(path, true);
    else if (below.length > 0) for (const p of below) selected.set(p, selected.get(p) ?? false);
    else if (isFixed(spec, path)) throw invalidArgument(`invalid updateMask: field ${quoted(name)} cannot be updated (${updatable})`);
    else throw invalidArgument(`invalid updateMask: unknown field ${quoted(name)} (${updatable})`);
  }
  const missing: string[] = [];
  for (const [path, named] of selected) {
    const value = valueAt(body, path);
    const clearing = spec.updatable[path]!;
    if (value !== undefined) setAt(out, path, value);
    else if (clearing === "required") missing.push(path);
    else if (!clearing.writeOnly || named) setAt(out, path, structuredClone(clearing.clear));
  }
  if (missing.length > 0) {
    const fields = missing.map((p) => `"${p}"`).join(", ");
    const which = missing.length === 1 ? `field ${fields} is` : `fields ${fields} are`;
    throw invalidArgument(`invalid updateMask: ${which} named but absent from the body, and cannot be cleared; send a value`);
  }
  return out as Patch;
}
