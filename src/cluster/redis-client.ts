import { createHash } from "node:crypto";
import { createClient } from "redis";

/** One Redis client shape for every cluster part (node-redis reconnects by itself). */
export const newRedisClient = (url: string) => createClient({ url });
export type RedisClient = ReturnType<typeof newRedisClient>;

/**
 * A Lua script run by its SHA-1 (EVALSHA), so that a call sends the script's digest rather than its
 * text; Redis is sent the text (EVAL, which also keeps it) only when it answers NOSCRIPT, after a
 * restart or a SCRIPT FLUSH. Redis' own script cache, keyed by that digest (redis.io, EVALSHA).
 */
export class RedisScript {
  readonly source: string;
  readonly sha1: string;

  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script with `keys` and `args` (KEYS and ARGV); resolves with its reply. */
  async run(client: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha1, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}
