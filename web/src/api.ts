import type { Role } from "./permissions.ts";

/**
 * The console is a client of Hearth's public REST API, like firectl: the browser's session cookie
 * authenticates, and every change carries the session's CSRF token as `x-csrf-token`.
 */

export interface Session {
  accountId: string;
  /** `accounts/{a}/users/{u}` */
  user: string;
  email: string;
  role: Role;
  serviceAccount: boolean;
  via: "session" | "apiKey" | "oidcToken";
  csrfToken?: string;
  expireTime?: string;
}

export interface User {
  name: string;
  displayName: string;
  serviceAccount: boolean;
  email: string;
  role: Role;
  state: string;
  createTime: string;
  updateTime: string;
}

export interface ApiKey {
  name: string;
  keyId: string;
  displayName: string;
  key?: string;
  prefix: string;
  email: string;
  createTime: string;
  expireTime?: string;
  lastUsed?: string;
}

export interface AuditLogEntry {
  id: string;
  timestamp: string;
  principal: string;
  method: string;
  resource: string;
  message: string;
  /** `code` 0 is success; otherwise the HTTP status, and `message` is "STATUS_NAME: sentence". */
  status: { code: number; message: string };
  payload: unknown;
  isAdminAction: boolean;
  userAgent: string;
  clientIp: string;
  apiKeyId: string;
}

export interface Quota {
  name: string;
  value: string;
  maxValue: string;
  usage: number;
  updateTime: string;
}

export interface IdentityProvider {
  name: string;
  displayName: string;
  oidcConfig: { issuerUrl: string; clientId: string };
  tenantDomains: string[];
  enableJitUserProvisioning: boolean;
  jitDefaultRole: Role;
  enforceSso: boolean;
  createTime: string;
  updateTime: string;
}

export interface SignInProvider {
  id: string;
  displayName: string;
  startUrl: string;
}

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
