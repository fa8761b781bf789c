import type { RedisClient } from "./redis-client.ts";
import { CHANNEL, type Transport } from "./invalidation.ts";

type Client = RedisClient;

/** Redis pub/sub; node-redis reconnects by itself, and a reconnect is reported as a gap. */
export class RedisTransport implements Transport {
  private readonly publisher: Client;
  private readonly subscriber: Client;

  constructor(client: Client) {
    this.publisher = client;
    this.subscriber = client.duplicate();
  }

  async publish(message: string): Promise<void> {
    await this.publisher.publish(CHANNEL, message);
  }

  async subscribe(onMessage: (message: string) => void, onGap: () => void): Promise<void> {
    let connectedOnce = false;
    this.subscriber.on("error", () => undefined); // reconnects on its own; the gap is handled on ready
    this.subscriber.on("ready", () => {
      if (connectedOnce) onGap();
      connectedOnce = true;
    });
    await this.subscriber.connect();
    await this.subscriber.subscribe(CHANNEL, onMessage);
  }

  async close(): Promise<void> {
    await this.subscriber.close().catch(() => undefined);
  }
}
