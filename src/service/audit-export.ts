/**
 * @module ExportAuditLogs (`GET …/auditLogs:export?format=jsonl|csv`): the audit log streamed in
 * chunks read by keyset, so memory stays constant for millions of entries (docs/audit-log.md).
 */
import { EXPORT_FORMAT, ExportDigest, type ExportHeader } from "../domain/audit-export.ts";
import { invalidArgument } from "../domain/errors.ts";
import { formatTimestamp } from "../domain/time.ts";
import { chainRows, checkpointBefore, checkpointsBetween, chainedEntry, seqRange, type ChainedRow } from "../store/audit-chain.ts";
import { exportAuditLogs as exportRows } from "../store/audit-logs.ts";
import type { AuditCheckpointRow } from "../store/schema.ts";
import type { Db } from "../store/store.ts";
import { auditRefusals } from "./audit.ts";
import { ownEntries, type AuditQuery } from "./audit-logs.ts";
import { auditPublicKeys, checkpointOf, sealExport, signPendingCheckpoints } from "./audit-signing.ts";
import type { Ctx, Deps } from "./context.ts";
import { authorize, holds } from "./permissions.ts";

export interface ExportQuery extends AuditQuery {
  format: "jsonl" | "csv";
  /** AIP-160, over the list's fields. */
  filter?: string | undefined;
}

/** An export: its media type, a file name for Content-Disposition, and its text in chunks. */
export interface AuditExport {
  contentType: string;
  filename: string;
  body: AsyncGenerator<string>;
}

/** CSV columns: the hashed field set (status as code and message, payload as JSON), then the chain fields. */
const CSV_COLUMNS = [
  "id",
  "timestamp",
  "principal",
  "principalUid",
  "principalType",
  "authentication",
  "method",
  "resource",
  "statusCode",
  "statusMessage",
  "isAdminAction",
  "payload",
  "clientIp",
  "userAgent",
  "requestId",
  "seq",
  "prevHash",
  "hash",
];

/**
 * An RFC 4180 field; text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
 * is prefixed with `'` (OWASP CSV injection), so CSV is for reading — verify with JSON Lines.
 */
function csvField(value: string | number | boolean): string {
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(row: ChainedRow): string {
  const e = chainedEntry(row);
  const values = [
    e.id,
    e.timestamp,
    e.principal,
    e.principalUid,
    e.principalType,
    e.authentication,
    e.method,
    e.resource,
    e.status.code,
    e.status.message,
    e.isAdminAction,
    row.payload,
    e.clientIp,
    e.userAgent,
    e.requestId,
    row.seq,
    row.prev_hash,
    row.hash,
  ];
  return `${values.map(csvField).join(",")}\r\n`;
}

const entryLine = (row: ChainedRow): string =>
  `${JSON.stringify({ type: "entry", seq: row.seq, prevHash: row.prev_hash, hash: row.hash, entry: chainedEntry(row) })}\n`;

/**
 * The account's audit log as JSON Lines or CSV, with the list's filters (startTime, endTime — all
 * time when absent —, email, filter). Admins' unfiltered JSON Lines export is the chain itself:
 * from the signed checkpoint before `startTime` (the anchor, in the header with the public keys),
 * each checkpoint after its entry, verifiable offline. Any other export holds each entry's hash.
 * Non-admins export only their own entries, as they list them.
 * @throws INVALID_ARGUMENT for a bad filter or time range.
 */
export async function exportAuditLogs(deps: Deps, ctx: Ctx, accountId: string, query: ExportQuery): Promise<AuditExport> {
  return auditRefusals(ctx, { method: "ExportAuditLogs", resource: `accounts/${accountId}/auditLogs`, payload: query }, async () => {
    const all = holds(ctx.principal, "auditLogs.listAll");
    authorize(ctx, all ? "auditLogs.listAll" : "auditLogs.list");
    const startTime = query.startTime ?? 0;
    const endTime = query.endTime ?? Number.MAX_SAFE_INTEGER;
    if (startTime >= endTime) throw invalidArgument("startTime must be before endTime");
    const filtered = !all || query.email !== undefined || (query.filter ?? "").trim() !== "";
    const filename = `audit-${accountId}.${query.format}`;
    if (query.format === "jsonl" && !filtered) {
      return { contentType: "application/jsonl; charset=utf-8", filename, body: await chainExport(deps, accountId, query) };
    }
    const rows = exportRows(
      deps.store.db,
      {
        accountId,
        startTime,
        endTime,
        email: query.email?.toLowerCase(),
        onlyPrincipal: all ? undefined : await ownEntries(deps, ctx),
        givenRange: "",
      },
      query.filter,
      ROWS_PER_READ,
    );
    if (query.format === "csv") {
      return { contentType: "text/csv; charset=utf-8", filename, body: lines(`${CSV_COLUMNS.join(",")}\r\n`, rows, csvLine) };
    }
    const header: ExportHeader = { ...headerOf(accountId, query), filtered: true, anchor: null, publicKeys: await auditPublicKeys(deps.store, deps.config) };
    return {
      contentType: "application/jsonl; charset=utf-8",
      filename,
      body: lines(
        `${JSON.stringify(header)}\n`,
        rows,
        entryLine,
        sealerOf(deps, accountId, true, (row) => row.hash),
      ),
    };
  });
}

const headerOf = (accountId: string, query: ExportQuery) => ({
  type: "header" as const,
  format: EXPORT_FORMAT,
  account: accountId,
  startTime: query.startTime !== undefined ? formatTimestamp(query.startTime) : null,
  endTime: query.endTime !== undefined ? formatTimestamp(query.endTime) : null,
});

/**
 * Characters per piece of an export's body. V8 puts strings over about 128 KiB in its large-object
 * space, which only a full collection frees: an export yielded as one string per 1,000 rows (~0.5 MB)
 * grew the server's RSS by ~90 MB over a 1,000,000-entry export. Pieces this size die young instead.
 */
const PIECE_CHARS = 16 * 1024;

/**
 * Rows per store read of an export. Whatever is alive at a young-generation collection counts
 * towards V8 growing its semi-spaces (up to the 8 MB each that `npm start` allows); a smaller read
 * keeps less alive at once, so an export leaves the young generation near its idle size.
 */
const ROWS_PER_READ = 200;

/**
 * What seals a JSON Lines export: the running digest of what was written, the hash of a row's
 * entry line, and the seal's line once every other line is out (signed with the audit key).
 */
interface Sealer<T> {
  digest: ExportDigest;
  hashOf: (row: T) => string;
  seal: (digest: ExportDigest) => Promise<string>;
}

/**
 * An export's body: `first`, then each row as `render` writes it, joined into pieces of about
 * `PIECE_CHARS` characters; with `sealer`, every piece goes into its digest and the seal's line ends it.
 */
async function* lines<T>(first: string, rows: AsyncIterable<T[]> | Iterable<T[]>, render: (row: T) => string, sealer?: Sealer<T>): AsyncGenerator<string> {
  // JSON Lines: U+2028 and U+2029 (valid raw in a JSON string) written escaped, so no reader that
  // also ends lines at them (readline, JavaScript before ES2019) cuts an entry in two.
  const out = (piece: string): string => {
    if (!sealer) return piece;
    const escaped = piece.replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
    sealer.digest.text(escaped);
    return escaped;
  };
  yield out(first);
  let text = "";
  for await (const chunk of rows) {
    for (const row of chunk) {
      text += render(row);
      sealer?.digest.entry(sealer.hashOf(row));
      if (text.length >= PIECE_CHARS) {
        yield out(text);
        text = "";
      }
    }
  }
  if (text !== "") yield out(text);
  if (sealer) yield await sealer.seal(sealer.digest);
}

/** The sealer of a JSON Lines export of `accountId` (see `ExportSeal`). */
function sealerOf<T>(deps: Deps, accountId: string, filtered: boolean, hashOf: (row: T) => string): Sealer<T> {
  return {
    digest: new ExportDigest(),
    hashOf,
    seal: async (d) => {
      const fields = { account: accountId, filtered, entries: d.entries, lastHash: d.lastHash, digest: d.digest(), time: formatTimestamp(Date.now()) };
      return `${JSON.stringify(await sealExport(deps.store, deps.config, fields))}\n`;
    },
  };
}

/** Each chunk of `rows` with the signed checkpoint taken at each row's position, if there is one (one read per chunk). */
async function* withCheckpoints(
  db: Db,
  accountId: string,
  rows: AsyncIterable<ChainedRow[]>,
): AsyncGenerator<Array<[ChainedRow, AuditCheckpointRow | undefined]>> {
  for await (const chunk of rows) {
    const signed = (await checkpointsBetween(db, accountId, chunk[0]!.seq, chunk.at(-1)!.seq)).filter((c) => c.signature !== "");
    const at = new Map(signed.map((c) => [c.seq, c]));
    yield chunk.map((row) => [row, at.get(row.seq)]);
  }
}

/** The unfiltered chain export: header (anchor, public keys), then entries and checkpoints in chain order. */
async function chainExport(deps: Deps, accountId: string, query: ExportQuery): Promise<AsyncGenerator<string>> {
  const db = deps.store.db;
  await signPendingCheckpoints(deps.store, deps.config);
  const positions = await seqRange(db, accountId, query.startTime, query.endTime);
  const anchorRow = positions ? await checkpointBefore(db, accountId, positions.first) : undefined;
  const header: ExportHeader = {
    ...headerOf(accountId, query),
    filtered: false,
    anchor: anchorRow ? checkpointOf(anchorRow) : null,
    publicKeys: await auditPublicKeys(deps.store, deps.config),
  };
  const rows = positions ? withCheckpoints(db, accountId, chainRows(db, accountId, anchorRow?.seq ?? 0, positions.last, ROWS_PER_READ)) : [];
  return lines(
    `${JSON.stringify(header)}\n`,
    rows,
    ([row, checkpoint]) => (checkpoint ? `${entryLine(row)}${JSON.stringify({ type: "checkpoint", ...checkpointOf(checkpoint) })}\n` : entryLine(row)),
    sealerOf(deps, accountId, false, ([row]) => row.hash),
  );
}
