import type { ApiKey } from "../../src/http/resources/api-key.ts";
import type { AuditLog } from "../../src/http/resources/audit-log.ts";
import type { BillingUsage } from "../../src/http/resources/billing-usage.ts";
import type { IdentityProvider as IdentityProviderResource } from "../../src/http/resources/identity-provider.ts";
import type { Quota } from "../../src/http/resources/quota.ts";
import type { Session as SessionResource, SignInProvider } from "../../src/http/resources/sign-in.ts";
import type { User as UserResource } from "../../src/http/resources/user.ts";
import type { PrincipalRole, Role } from "./permissions.ts";

/**
 * The console is a client of Hearth's public REST API, like firectl: the browser's session cookie
 * authenticates, and every change carries the session's CSRF token as `x-csrf-token`.
 *
 * The resources it reads are the server's own response types, inferred from the schemas the API
 * answers with (src/http/resources): a field the server adds or renames is seen here by the type
 * checker, with no copy to fall out of date. Type-only imports: nothing of the server is bundled.
 */
export type { ApiKey, AuditLog, BillingUsage, Quota, SignInProvider };

/** `T` with its field `K` read as a role (src/domain/roles.ts): a principal's may be `custom`, with a permission preset. */
type WithRole<T, K extends keyof T, R = PrincipalRole> = Omit<T, K> & { [F in K]: R };

/** `GET /auth/session`: who is signed in. */
export type Session = WithRole<SessionResource, "role">;
/** A person or service account. */
export type User = WithRole<UserResource, "role">;
/** An OIDC identity provider; `jitDefaultRole` is the role of the users it provisions. */
export type IdentityProvider = WithRole<IdentityProviderResource, "jitDefaultRole", Role>;
/** A permission preset: the actions a principal with role `custom` holds. */
export type { PermissionPreset } from "../../src/http/resources/permission-preset.ts";
/** The account's rules for API key lifetimes (`accounts/{a}/keyPolicy`). */
export type { KeyPolicy } from "../../src/http/resources/key-policy.ts";
/** The account's audit settings, an audit sink (a live stream of the log) and a verification's report. */
export type { AuditSettings, AuditSink, AuditVerifyReport } from "../../src/http/resources/audit-log.ts";
/** An account webhook and one event sent to it (`…/webhooks/{w}/deliveries/{d}`). */
export type { Webhook, WebhookDelivery } from "../../src/http/resources/webhook.ts";

/** An error the API answered with: `message` is its sentence, shown to the person as it is. */
export class ApiError extends Error {
  readonly httpStatus: number;
  readonly status: string;

  constructor(httpStatus: number, status: string, message: string) {
    super(message);
    this.httpStatus = httpStatus;
    this.status = status;
  }
}

let csrfToken = "";
let onSignedOut: (() => void) | undefined;

/** The token `GET /auth/session` gave; sent back on every change. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the API says the session is gone (expired, ended elsewhere, or revoked by an admin). */
export function onSessionEnded(callback: () => void): void {
  onSignedOut = callback;
}

/** One request to the API; resolves to its JSON or throws an ApiError carrying the API's sentence. */
export async function api<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, "UNAVAILABLE", "Hearth could not be reached; check the connection and try again.");
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const error = (data as { error?: { status?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && path !== "/auth/session") onSignedOut?.();
    throw new ApiError(res.status, error?.status ?? "UNKNOWN", error?.message ?? `Hearth answered HTTP ${res.status}.`);
  }
  return data as T;
}

/** The page size `listAll` asks for: the API's largest (AIP-158; src/http/schemas.ts). */
const WHOLE_LIST_PAGE = 200;

/**
 * Every item of an AIP-158 list at `path` (the items under `field`), page after page until the
 * answer's `nextPageToken` is empty. For lists a quota bounds (identity providers, webhooks,
 * permission presets): an operator may raise those quotas above one page.
 * @throws ApiError as `api` does, for any page.
 */
export async function listAll<T>(path: string, field: string): Promise<T[]> {
  const items: T[] = [];
  let pageToken = "";
  do {
    const page = await api<Record<string, unknown> & { nextPageToken?: string }>("GET", `${path}${query({ pageSize: WHOLE_LIST_PAGE, pageToken })}`);
    items.push(...((page[field] as T[] | undefined) ?? []));
    pageToken = page.nextPageToken ?? "";
  } while (pageToken !== "");
  return items;
}

/** `accounts/a/users/u` → `u` */
export const lastSegment = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

/** A quoted AIP-160 string literal. */
export const filterString = (text: string): string => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * `POST path` with `file` as the raw body through XMLHttpRequest, whose upload events report
 * progress (fetch has none): `onProgress(sent, total)` in bytes. Resolves to the JSON answer or
 * throws an ApiError carrying the API's sentence, as `api` does.
 */
export function uploadFile<T>(path: string, file: Blob, contentType: string, onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("content-type", contentType);
    xhr.setRequestHeader("accept", "application/json");
    xhr.setRequestHeader("x-csrf-token", csrfToken);
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, "UNAVAILABLE", "The upload did not reach Hearth; check the connection and try again."));
    xhr.onload = () => {
      let data: { error?: { status?: string; message?: string } } | undefined;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : {};
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data as T);
      if (xhr.status === 401) onSignedOut?.();
      reject(new ApiError(xhr.status, data?.error?.status ?? "UNKNOWN", data?.error?.message ?? `Hearth answered HTTP ${xhr.status}.`));
    };
    xhr.send(file);
  });
}
