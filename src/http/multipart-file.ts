import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { Busboy, type BusboyHeaders } from "@fastify/busboy";
import { ApiError, invalidArgument } from "../domain/errors.ts";
import { clientGone } from "./client-body.ts";

/**
 * The `file` part of a `multipart/form-data` body (how Fireworks' `:upload` and `curl -F
 * file=@data.jsonl` send a dataset), streamed. The stream it yields ends only once the whole form
 * has been parsed, so a body cut short or malformed after the file fails the upload instead of
 * storing a truncated file.
 */
const FIELD = "file";

/** A parse failure as the client's error; a body the client cut off (CANCELLED) stays that. */
const malformed = (error: unknown): Error =>
  error instanceof ApiError ? error : invalidArgument(`malformed multipart/form-data body: ${error instanceof Error ? error.message : String(error)}`);

export function multipartFile(headers: IncomingHttpHeaders, body: Readable): Promise<AsyncIterable<Buffer>> {
  return new Promise((resolve, reject) => {
    let parser;
    try {
      parser = Busboy({ headers: headers as BusboyHeaders, limits: { files: 8, fields: 32, parts: 40, fieldSize: 64 * 1024 } });
    } catch (error) {
      reject(malformed(error));
      return;
    }
    let found = false;
    const finished = new Promise<void>((done, fail) => {
      parser.on("finish", done);
      parser.on("error", (error: unknown) => fail(malformed(error)));
    });
    // Awaited by the consumer; a consumer that stops early must not leave it unhandled.
    finished.catch(() => undefined);
    parser.on("file", (field, stream) => {
      if (field !== FIELD || found) {
        // Other parts are skipped; their errors are the form's (reported through `finished`).
        stream.on("error", () => undefined);
        stream.resume();
        return;
      }
      found = true;
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
    body.on("error", (error) => parser.destroy(clientGone(error) as Error));
    body.pipe(parser);
  });
}
