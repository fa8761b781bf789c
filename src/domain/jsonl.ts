import { exampleProblem, formatOfExample, type DatasetFormat } from "./dataset-format.ts";
import { invalidArgument } from "./errors.ts";
import { isJsonObject } from "./json-object.ts";

/**
 * Validates JSONL as it streams in: every non-blank line must be a JSON object, and, given a
 * dataset format, an example of it (domain/dataset-format.ts). Bytes are fed in
 * arbitrary pieces; complete lines come back out (as text) so the caller can store them while
 * the upload is still arriving. The first bad line is named by its 1-based number.
 */
export class JsonlValidator {
  /** Non-blank lines seen, each a JSON object. */
  examples = 0;
  private lineNumber = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private readonly maxLineBytes: number;
  /** The format lines are held to: FORMAT_UNSPECIFIED until the first example shows one (`formatOfExample`). */
  format: DatasetFormat | undefined;

  /** `maxLineBytes`: the longest line taken, in bytes. */
  constructor(options: { format?: DatasetFormat; maxLineBytes?: number } = {}) {
    this.format = options.format;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
  }

  /** Feeds bytes; returns the complete, valid lines they finished (each with its newline). */
  push(bytes: Buffer): string {
    let out = "";
    let start = 0;
    for (let nl = bytes.indexOf(10, start); nl !== -1; nl = bytes.indexOf(10, start)) {
      const piece = bytes.subarray(start, nl + 1);
      const line = this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      out += this.line(line);
      start = nl + 1;
    }
    if (start < bytes.length) {
      this.pending.push(Buffer.from(bytes.subarray(start)));
      this.pendingBytes += bytes.length - start;
      if (this.pendingBytes > this.maxLineBytes) {
        throw invalidArgument(`line ${this.lineNumber + 1} is longer than ${this.maxLineBytes} bytes`);
      }
    }
    return out;
  }

  /** Ends the input; returns the last line if it had no newline. */
  finish(): string {
    if (this.pending.length === 0) return "";
    const line = Buffer.concat(this.pending);
    this.pending = [];
    const text = this.line(line);
    return text === "" || text.endsWith("\n") ? text : `${text}\n`;
  }

  private line(bytes: Buffer): string {
    this.lineNumber += 1;
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      throw invalidArgument(`line ${this.lineNumber} is not valid UTF-8`);
    }
    const body = text.replace(/\r?\n$/, "");
    if (body.trim() === "") return "";
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      throw invalidArgument(`line ${this.lineNumber} is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
    }
    if (!isJsonObject(value)) {
      throw invalidArgument(`line ${this.lineNumber} is not a JSON object`);
    }
    if (this.format === "FORMAT_UNSPECIFIED") {
      this.format = formatOfExample(value);
      if (!this.format) {
        throw invalidArgument(
          `line ${this.lineNumber} is an example of no format: it needs "messages" (CHAT) or "prompt" and "completion" (COMPLETION); or create the dataset with its format`,
        );
      }
    }
    const problem = this.format && exampleProblem(this.format, value);
    if (problem) throw invalidArgument(`line ${this.lineNumber} is not a ${this.format} example: ${problem}`);
    this.examples += 1;
    return `${body}\n`;
  }
}
