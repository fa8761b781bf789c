import { createReadStream } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream/promises";
import { maskKey } from "./client.ts";
import type { Context } from "./context.ts";
import { apiFailure } from "./errors.ts";

/**
 * Streams a local file as the raw body of a POST (a dataset's JSONL): the JSON client sends only
 * JSON bodies, and a dataset may be far larger than one should hold in memory.
 */
export async function uploadFile<T>(ctx: Context, path: string, file: string, size: number, contentType: string): Promise<T> {
  const url = new URL(`${ctx.settings.apiBase.value}${path}`);
  const key = await ctx.bearer();
  const headers = { authorization: `Bearer ${key}`, "content-type": contentType, "content-length": String(size), accept: "application/json" };
  let answer: { status: number; text: string };
  try {
    answer = await new Promise((resolve, reject) => {
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(url, { method: "POST", headers }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      // The server may refuse early (a bad line) and close: its answer matters, not the write error.
      pipeline(createReadStream(file), req).catch(() => undefined);
    });
  } catch (error) {
    throw apiFailure(`cannot upload to Hearth at ${ctx.settings.apiBase.value}: ${(error as Error).message}; check --api-base / FIREWORKS_API_BASE`);
  }
  let parsed: { error?: { status?: string; message?: string } };
  try {
    parsed = JSON.parse(answer.text) as typeof parsed;
  } catch {
    throw apiFailure(`${url.origin} answered the upload with HTTP ${answer.status} and no JSON; check that --api-base points at Hearth`);
  }
  if (answer.status < 200 || answer.status > 299) {
    throw apiFailure(`${parsed.error?.message ?? `upload failed with HTTP ${answer.status}`} (${parsed.error?.status ?? `HTTP ${answer.status}`})`);
  }
  return parsed as T;
}

/** What `--dry-run` prints for an upload. */
export function describeUpload(ctx: Context, path: string, file: string, size: number, contentType: string): string {
  return `POST ${ctx.settings.apiBase.value}${path}\nAuthorization: Bearer ${maskKey(ctx.shownCredential)}\nContent-Type: ${contentType}\n\n(the ${size} bytes of ${file})\n\n`;
}
