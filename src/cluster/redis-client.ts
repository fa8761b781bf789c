import { createClient } from "redis";

/** One Redis client shape for every cluster part (node-redis reconnects by itself). */
export const newRedisClient = (url: string) => createClient({ url });
export type RedisClient = ReturnType<typeof newRedisClient>;
