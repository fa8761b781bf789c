import pg from "pg";
import { survivesDroppedConnections } from "../store/store.ts";
import { CHANNEL, type Transport } from "./invalidation.ts";

const RECONNECT_MS = 500;

/** LISTEN/NOTIFY on a dedicated connection, reconnecting (and reporting a gap) when it drops. */
export class PgTransport implements Transport {
  private readonly url: string;
  private listener: pg.Client | undefined;
  private publisher: pg.Pool;
  private closed = false;
  private onMessage: (message: string) => void = () => undefined;
  private onGap: () => void = () => undefined;

  constructor(url: string) {
    this.url = url;
    this.publisher = new pg.Pool({ connectionString: url, max: 2 });
    survivesDroppedConnections(this.publisher);
  }

  async publish(message: string): Promise<void> {
    await this.publisher.query("select pg_notify($1, $2)", [CHANNEL, message]);
  }

  async subscribe(onMessage: (message: string) => void, onGap: () => void): Promise<void> {
    this.onMessage = onMessage;
    this.onGap = onGap;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (n) => {
      if (n.channel === CHANNEL && n.payload) this.onMessage(n.payload);
    });
    const lost = () => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      setTimeout(() => void this.reconnect(), RECONNECT_MS).unref();
    };
    client.on("error", lost);
    client.on("end", lost);
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    this.listener = client;
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connect();
      this.onGap();
    } catch {
      setTimeout(() => void this.reconnect(), RECONNECT_MS).unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
    await this.publisher.end();
  }
}
