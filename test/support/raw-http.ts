import { connect, type Socket } from "node:net";

/**
 * HTTP/1.1 written by hand on a raw connection, for what a client library will not send: a body
 * cut short, pipelined requests, a request after the server began to close.
 */

/** Opens a raw connection to the server at `baseUrl` (loopback). */
export function openConnection(baseUrl: string): Promise<Socket> {
  const port = Number(new URL(baseUrl).port);
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

/** Everything the server writes on `s` until it closes it (or `ms` milliseconds pass). */
export function readUntilClosed(s: Socket, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const timer = setTimeout(() => resolve(text), ms);
    s.on("data", (c: Buffer) => (text += c.toString("utf8")));
    s.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** The status of the first response in a raw answer (0 when there is none). */
export const statusOf = (raw: string): number => Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);

/**
 * The head of a JSON `POST` to `path` with a Bearer `key` and `Content-Length: length`, ending in
 * the blank line: with `Connection: close` unless `keepAlive`, and `extra` header lines (each
 * ending in CRLF) before the blank line.
 */
export function postHead(path: string, key: string, length: number, options: { keepAlive?: boolean; extra?: string } = {}): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\n${options.keepAlive ? "" : "Connection: close\r\n"}${options.extra ?? ""}\r\n`
  );
}
