import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount } from "../../src/service/accounts.ts";
import type { Dialect } from "../../src/store/store.ts";
import { startHearth, type TestHearth } from "./hearth.ts";
import { freePort } from "./process.ts";
import { startUpstream, writePlatformConfig, type FakeUpstream } from "./model-server.ts";

/** A listening Hearth whose HEARTH_CONFIG names a fake upstream the test owns; `options` go to `startHearth` (a clock, network rules). */
export async function startPlatform(
  dialect: Dialect,
  extra: Record<string, unknown> = {},
  env: Record<string, string> = {},
  options: Parameters<typeof startHearth>[2] = {},
): Promise<{ h: TestHearth; up: FakeUpstream; stop: () => Promise<void> }> {
  const up = await startUpstream();
  const config = writePlatformConfig(mkdtempSync(join(tmpdir(), "hearth-platform-")), up, extra, undefined, await freePort());
  const h = await startHearth(dialect, { HEARTH_CONFIG: config, ...env }, options);
  await h.listen();
  return {
    h,
    up,
    stop: async () => {
      await h.stop();
      await up.close();
    },
  };
}

/**
 * A separate account (its own quotas, its own rate window) with an admin key and one
 * service account per entry of `roles`, each with a key.
 */
export async function account(h: TestHearth, accountId: string, roles: Record<string, string>): Promise<{ admin: string; keys: Record<string, string> }> {
  const admin = (await createAccount(h.deps.store, h.deps.config, accountId, `admin@${accountId}.example`)).apiKey;
  const keys: Record<string, string> = {};
  for (const [userId, role] of Object.entries(roles)) {
    const sa = await h.call("POST", `/v1/accounts/${accountId}/users?userId=${userId}`, { key: admin, body: { serviceAccount: true, role } });
    assert.equal(sa.status, 200, JSON.stringify(sa.body));
    const key = await h.call("POST", `/v1/accounts/${accountId}/users/${userId}/apiKeys`, { key: admin, body: { apiKey: {} } });
    assert.equal(key.status, 200, JSON.stringify(key.body));
    keys[userId] = key.body.key;
  }
  return { admin, keys };
}

export async function setQuota(h: TestHearth, accountId: string, quota: string, value: number, admin: string): Promise<void> {
  const res = await h.call("PATCH", `/v1/accounts/${accountId}/quotas/${quota}`, { key: admin, body: { value } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** An inference call over real HTTP. */
export function infer(
  h: TestHearth,
  key: string,
  body: Record<string, unknown>,
  path = "/inference/v1/chat/completions",
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${h.baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

export const chat = (model: string, content = "hi", extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content }], ...extra });

/** Reads an SSE response to its end: the data payloads, in order. */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice(6));
}

/** Uploads JSONL bytes over real HTTP (the body streams). */
export function upload(h: TestHearth, key: string, accountId: string, datasetId: string, body: string | Uint8Array): Promise<Response> {
  return fetch(`${h.baseUrl}/v1/accounts/${accountId}/datasets/${datasetId}:upload`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/jsonl" },
    body,
  });
}
