import { createClient } from "redis";
import { DIALECTS } from "./hearth.ts";

/** Whether Redis answers on 127.0.0.1:6379; under CI=true it must (an error otherwise). */
async function redisAvailable(): Promise<boolean> {
  const client = createClient({ url: "redis://127.0.0.1:6379", socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.close();
    return true;
  } catch (error) {
    if (process.env.CI === "true") throw new Error(`Redis is required under CI=true: ${(error as Error).message}`);
    return false;
  }
}

/** The ways several processes coordinate, each with the environment that selects it: PostgreSQL alone, and PostgreSQL with Redis. */
export const CLUSTER_MODES: Array<{ name: string; env: Record<string, string> }> = [];
if (DIALECTS.includes("postgres")) {
  CLUSTER_MODES.push({ name: "PostgreSQL LISTEN/NOTIFY", env: {} });
  if (await redisAvailable()) CLUSTER_MODES.push({ name: "Redis", env: { HEARTH_REDIS_URL: "redis://127.0.0.1:6379" } });
}

/** One request with a bearer key over real HTTP; the answer's status and parsed JSON body. */
export const callJson = async (base: string, key: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};
