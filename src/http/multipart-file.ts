import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { Busboy, type BusboyHeaders } from "@fastify/busboy";
import { ApiError, invalidArgument } from "../domain/errors.ts";
import { clientGone } from "./client-body.ts";
import { quoted } from "../domain/display-text.ts";

/**
 * The `file` part of a `multipart/form-data` body (how Fireworks' `:upload` and `curl -F
 * file=@data.jsonl` send a dataset), streamed. The stream it yields ends only once the whole form
 * has been parsed, so a body cut short or malformed after the file fails the upload instead of
 * storing a truncated file. The whole form is bounded too (`maxBytes`, in bytes). A part the form
 * does not take (a second file, a field it does not declare, a declared field given twice or with
 * a value it does not take) fails the form, before or after the file, never skipped.
 */
const FIELD = "file";

/** A parse failure as the client's error; a body the client cut off (CANCELLED) stays that. */
const malformed = (error: unknown): Error =>
  error instanceof ApiError ? error : invalidArgument(`malformed multipart/form-data body: ${error instanceof Error ? error.message : String(error)}`);

/** Bytes a form may hold beside its file: its other fields and part headers (32 fields of at most 64 KiB, and some). */
export const FORM_OVERHEAD_BYTES = 4 * 1024 * 1024;

/**
 * The `file` part of `body`, a form of at most `maxBytes` bytes in all, which may also hold the
 * text fields of `fields` once each, with one of the values listed for it (`{purpose: ["fine-tune"]}`).
 * @throws INVALID_ARGUMENT (400) for a malformed form, one without a `file` field, one larger than
 * `maxBytes` (by its Content-Length at once, else once that many bytes arrived), or one holding a
 * part it does not take: `the multipart/form-data body has more than one file part "file"`,
 * `unknown form field "bogus" in the multipart/form-data body (fields: file, purpose)`, a field
 * given twice, or a value not listed (`form field "purpose" must be "fine-tune"`).
 */
export function multipartFile(
  headers: IncomingHttpHeaders,
  body: Readable,
  maxBytes: number,
  fields: Readonly<Record<string, readonly string[]>> = {},
): Promise<AsyncIterable<Buffer>> {
  const tooLarge = () =>
    invalidArgument(`the multipart/form-data body is larger than ${maxBytes} bytes (the per-upload limit and ${FORM_OVERHEAD_BYTES} bytes of form)`);
  const length = Number(headers["content-length"]);
  if (Number.isFinite(length) && length > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    let parser;
    try {
      parser = Busboy({ headers: headers as BusboyHeaders, limits: { files: 8, fields: 32, parts: 40, fieldSize: 64 * 1024 } });
    } catch (error) {
      reject(malformed(error));
      return;
    }
    let found = false;
    let file: Readable | undefined;
    // The first part the form does not take: the rest of the form is read (and skipped), so the
    // client, still sending, gets the answer rather than a reset; the form then fails with it.
    let refusal: Error | undefined;
    const refuse = (message: string) => {
      refusal ??= invalidArgument(message);
    };
    const finished = new Promise<void>((done, fail) => {
      parser.on("finish", () => (refusal ? fail(refusal) : done()));
      parser.on("error", (error: unknown) => fail(malformed(error)));
    });
    // Awaited by the consumer; a consumer that stops early must not leave it unhandled.
    finished.catch(() => undefined);
    const known = [FIELD, ...Object.keys(fields)].join(", ");
    const given = new Set<string>();
    const unknown = (field: string) => `unknown form field ${quoted(field.slice(0, 100))} in the multipart/form-data body (fields: ${known})`;
    parser.on("field", (field, value) => {
      const allowed = Object.hasOwn(fields, field) ? fields[field]! : undefined;
      if (field === FIELD) refuse(`form field "${FIELD}" must be a file part, with a filename (curl -F ${FIELD}=@train.jsonl)`);
      else if (!allowed) refuse(unknown(field));
      else if (given.has(field)) refuse(`form field ${quoted(field)} is given more than once in the multipart/form-data body`);
      else if (!allowed.includes(value))
        refuse(`form field ${quoted(field)} must be ${allowed.map((v) => quoted(v)).join(" or ")}, not ${quoted(value.slice(0, 100))}`);
      given.add(field);
    });
    parser.on("file", (field, stream) => {
      if (field !== FIELD) refuse(unknown(field));
      else if (found) refuse(`the multipart/form-data body has more than one file part "${FIELD}": send one file`);
      if (refusal) {
        // Skipped unread (a file after a refusal too, so nothing is stored); its errors are the form's (reported through `finished`).
        stream.on("error", () => undefined);
        stream.resume();
        return;
      }
      found = true;
      file = stream;
      // busboy emits a cut-short part's error on the stream without destroying it, possibly before
      // anyone reads it: destroying it keeps the error for the reader (and never leaves it unhandled).
      stream.on("error", (error) => stream.destroy(error));
      resolve(
        (async function* () {
          try {
            for await (const chunk of stream) yield chunk as Buffer;
          } catch (error) {
            throw malformed(error);
          }
          await finished;
        })(),
      );
    });
    finished.then(
      () => found || reject(invalidArgument(`the multipart/form-data body has no file field named "${FIELD}"`)),
      (error: unknown) => found || reject(error),
    );
    // The file stream busboy handed out is not ended by the parser's destruction: it is failed too,
    // or an upload reading it would wait for ever (a client gone, a form too large).
    const fail = (error: Error) => {
      file?.destroy(error);
      parser.destroy(error);
    };
    body.on("error", (error) => fail(clientGone(error) as Error));
    let received = 0;
    body.on("data", (piece: Buffer) => {
      received += piece.length;
      if (received > maxBytes) {
        body.unpipe(parser);
        fail(tooLarge());
      }
    });
    body.pipe(parser);
  });
}
