import { openAiErrorBody } from "./openai-error.ts";

/**
 * Splits a server-sent-event stream into whole events as bytes arrive, so each event can be passed
 * on the moment it is complete and its JSON inspected (usage, content) on the way.
 */
export interface SseEvent {
  /** The event's text as it came (line ends made "\n"), ending in a blank line. */
  raw: string;
  /** The joined `data:` lines; undefined for an event without data (a comment, a keep-alive). */
  data: string | undefined;
}

export class SseSplitter {
  private buffer = "";
  private readonly decoder = new TextDecoder();

  push(bytes: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    return this.drain(false);
  }

  /** The rest of the stream, even without its closing blank line. */
  finish(): SseEvent[] {
    this.buffer += this.decoder.decode();
    return this.drain(true);
  }

  private drain(final: boolean): SseEvent[] {
    if (this.buffer.includes("\r")) {
      // A CR that ends what has arrived may be the first half of a CRLF whose LF comes with the next
      // bytes: it is kept as it is until then, or the pair would read as two line ends.
      const held = !final && this.buffer.endsWith("\r");
      this.buffer = (held ? this.buffer.slice(0, -1) : this.buffer).replace(/\r\n?/g, "\n") + (held ? "\r" : "");
    }
    const events: SseEvent[] = [];
    for (let end = this.buffer.indexOf("\n\n"); end !== -1; end = this.buffer.indexOf("\n\n")) {
      events.push(parse(this.buffer.slice(0, end)));
      this.buffer = this.buffer.slice(end + 2);
    }
    if (final && this.buffer.trim() !== "") {
      events.push(parse(this.buffer.replace(/\n+$/, "")));
      this.buffer = "";
    }
    return events;
  }
}

function parse(block: string): SseEvent {
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
  }
  return { raw: `${block}\n\n`, data: data.length ? data.join("\n") : undefined };
}

/** An SSE event carrying an OpenAI-style error, for failures after the stream has begun. */
export function sseError(message: string, type: string, code: string): string {
  return `data: ${JSON.stringify(openAiErrorBody(message, type, code))}\n\n`;
}
