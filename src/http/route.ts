import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { z } from "zod";
import { invalidArgument, methodNotAllowed } from "../domain/errors.ts";
import type { AllowedMethods } from "./allowed-methods.ts";
import { describeIssue } from "../domain/describe-issue.ts";
import type { Ctx } from "../service/context.ts";
import { authenticateRequest } from "./auth.ts";
import { auditDataAccess, auditRefused } from "../service/audit.ts";
import { authorize, holds, requireSameAccount } from "../service/permissions.ts";
import type { Action } from "../domain/actions.ts";
import { requireAllowedNetwork } from "../domain/api-key-restrictions.ts";
import { isResourceBody, normalizeBody, normalizeQuery, withResourceFields } from "./body-fields.ts";
import { MalformedBody } from "./malformed-body.ts";
import { auditedResource, requestMeta } from "./request-meta.ts";
import type { ErrorFormat, RouteConfig } from "./route-config.ts";
import { requireCsrfProof } from "./session-auth.ts";
import { auditEdgeRefusal } from "./edge-refusals.ts";
import type { Deps } from "../service/context.ts";

/** What a route answers, as `/openapi.json` declares it. */
interface ResponseSpec {
  /** The 2xx body as the server writes it (zod output); JSON unless `responseType` names another media type. */
  response?: z.ZodType;
  /** The media type of `response` when it is not JSON: a download (`application/jsonl`), metrics (`text/plain`), a page (`text/html`). */
  responseType?: string;
  /** The route answers 302 with a Location (a browser's sign-in step); `response`, if given, is its other (200) answer. */
  redirect?: boolean;
}

/**
 * One way to declare an endpoint: its zod schemas validate the request and also produce the
 * OpenAPI document, so the two cannot drift apart.
 */
export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> extends ResponseSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  /** RPC-style name, also the audit log's method for refused attempts. */
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  /** The JSON body. Without one (and no `streamedBody`) the route takes none: no body, an empty one or `{}`; any field is a 400 naming it. */
  body?: B;
  /** Default true: a credential (Bearer, `x-api-key` or session) is required and its account must match the path's. */
  auth?: boolean;
  /**
   * With a credential (required then): the actions of which the caller must hold at least one for
   * this method to be possible, e.g. a principal's own variant and the one over others'
   * (`apiKeys.create`, `apiKeys.createForServiceAccount`); none for methods every principal may call
   * (its session, `/verifyApiKey`). Checked after the credential and the path's account and before
   * the request is read, so a principal that could never be allowed gets its 403 before any 400
   * about its request (GCP IAM checks permission first). The service still checks the exact action.
   */
  actions?: readonly Action[];
  /** A body the handler reads as a stream (an upload): its OpenAPI request body, by content type. */
  streamedBody?: Record<string, unknown>;
  /** How its errors are written; default `google-rpc` (see `ErrorFormat`). The OpenAI-compatible routes declare `openai`. */
  errorFormat?: ErrorFormat;
  /** The handler also reads the JSON body's exact text (`rawJsonBody`): a signature over the bytes sent. */
  rawBody?: boolean;
  /**
   * The JSON body may hold U+0000: the handler escapes it or never stores it, so `refuseNul` lets it
   * through and the handler's own checks (a credential first) come before any refusal.
   */
  nulInBody?: boolean;
  handler: (input: {
    deps: Deps;
    ctx: Ctx;
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
    request: FastifyRequest;
    reply: FastifyReply;
  }) => Promise<unknown>;
}

export interface RegisteredRoute extends ResponseSpec {
  method: string;
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  auth: boolean;
  /** See `RouteSpec.actions`; empty without a credential. */
  actions: readonly Action[];
  streamedBody?: Record<string, unknown>;
  errorFormat: ErrorFormat;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

/** The reads recorded as data-access entries when an account switches them on (`auditSettings.dataAccessLogs`, docs/audit-log.md). */
const DATA_ACCESS_READS = new Set(["ListUsers", "GetUser", "ListApiKeys", "GetApiKey", "ListAuditLogs", "ExportAuditLogs", "VerifyAuditLogs"]);

/** Whether the request declares content: a non-zero Content-Length, or a chunked body. */
const hasContent = (request: FastifyRequest): boolean =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > 0;

/** The body of a route that declares none: nothing, or an empty JSON object. */
const NO_BODY = z.object({});

/** AIP-127's multi-segment variable at the end of a path (`{model=**}`: a name holding slashes), Fastify's wildcard. */
const MULTI_SEGMENT = /\{(\w+)=\*\*\}$/;

/** The path values with the wildcard's under the variable's name. */
function namedParams(params: unknown, name: string | undefined): unknown {
  if (!name) return params;
  const { "*": rest, ...others } = (params ?? {}) as Record<string, string>;
  return { ...others, [name]: rest };
}

/**
 * `value` checked against `schema`; nothing at all (no body) reads as `{}`, while a JSON `null` is
 * a value, refused where an object is expected ("invalid request body: expected object, received null").
 * @throws INVALID_ARGUMENT naming the field and `where` (`path`, `query parameter`, `request body`).
 */
function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.output<S> {
  if (!schema) return undefined as z.output<S>;
  const given = value === undefined ? {} : value;
  const result = schema.safeParse(given);
  if (!result.success) throw invalidArgument(describeIssue(where, result.error, given));
  return result.data;
}

/**
 * `raw` query parameters read as a route's declared `query` is read (proto names accepted, an
 * undeclared or repeated parameter a 400 naming it): for a route that picks its schema by what it is given.
 * @throws INVALID_ARGUMENT naming the parameter.
 */
export function readQuery<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  return parse(schema, normalizeQuery(schema, raw), "query parameter");
}

/**
 * The checks of an authenticated request's caller, before its request is read, in this order: the
 * credential (with a bad credential and a bad body, the credential's refusal wins; audited per
 * address as an unauthenticated attempt, see failedAuthentication), the networks its key is limited
 * to, the CSRF proof of a session, the path's account, and holding one of the route's `actions`
 * (refused as the first names it). Used by the router and by the audit of the framework's refusals.
 * @returns the request's context.
 * @throws the refusal (UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND), audited once, in the caller's account when there is a caller.
 */
export async function admitCaller(deps: Deps, request: FastifyRequest, operationId: string, actions: readonly Action[]): Promise<Ctx> {
  const ctx: Ctx = { principal: await authenticateRequest(deps, request, operationId), meta: requestMeta(request), checked: [] };
  try {
    // A key limited to networks: refused (and audited with the address) before any work or quota.
    requireAllowedNetwork(ctx.principal.restrictions, ctx.meta.clientIp);
    requireCsrfProof(deps.config.publicUrl, request);
    const accountId = (request.params as { accountId?: string } | undefined)?.accountId;
    if (accountId !== undefined) requireSameAccount(ctx.principal, accountId);
    if (actions.length > 0 && !actions.some((a) => holds(ctx.principal, a))) authorize(ctx, actions[0]!);
    return ctx;
  } catch (error) {
    await auditRefused(deps, ctx, { method: operationId, resource: auditedResource(request) }, error);
    throw error;
  }
}

export class Router {
  readonly routes: RegisteredRoute[] = [];
  private readonly app: FastifyInstance;
  private readonly deps: Deps;
  private readonly allowedMethods: AllowedMethods;

  constructor(app: FastifyInstance, deps: Deps, allowedMethods: AllowedMethods) {
    this.app = app;
    this.deps = deps;
    this.allowedMethods = allowedMethods;
  }

  add<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(declared: RouteSpec<P, Q, B>): void {
    // A standard update, and a standard create whose body is the resource it answers (AIP-133; not a
    // custom method), take back a resource read before (`firectl … get -o json` then `create
    // --file`), output-only fields and all.
    const standard = !/:[a-z]\w*$/.test(declared.url) && declared.body !== undefined;
    const create = declared.method === "POST" && declared.operationId.startsWith("Create");
    const takesResource = standard && (declared.method === "PATCH" || (create && isResourceBody(declared.body!, declared.response)));
    const spec = takesResource ? { ...declared, body: withResourceFields(declared.body!, declared.response) } : declared;
    const auth = spec.auth !== false;
    if (auth && spec.actions === undefined) throw new Error(`route ${spec.operationId} takes a credential but declares no actions`);
    const actions = spec.actions ?? [];
    const errorFormat = spec.errorFormat ?? "google-rpc";
    this.routes.push({ ...spec, auth, actions, errorFormat });
    const deps = this.deps;
    const allowedMethods = this.allowedMethods;
    const multiSegment = MULTI_SEGMENT.exec(spec.url)?.[1];
    const serve = async (ctx: Ctx, request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      // A route that reads a stream names the types it takes itself.
      if (request.body instanceof MalformedBody && !spec.streamedBody) throw invalidArgument(request.body.message);
      const params = parse(spec.params, namedParams(request.params, multiSegment), "path");
      const query = parse(spec.query, normalizeQuery(spec.query, request.query), "query parameter");
      // A streamed body (an upload content type) reaches only the routes that read streams.
      if (!spec.streamedBody && request.body instanceof Readable) {
        // The stream is not read: close the connection rather than drain it.
        void reply.header("connection", "close");
        throw invalidArgument(spec.body ? "send the request body as JSON (Content-Type: application/json)" : "this method takes no request body");
      }
      // A route declaring no body takes none, or `{}` (what Google's clients send to a custom
      // method); any field in it is refused as unknown, never dropped (`{"validateOnly": true}` on
      // :undelete would otherwise undelete).
      if (!spec.body && !spec.streamedBody) parse(NO_BODY, normalizeBody(NO_BODY, request.body), "request body");
      // A GET's body is never parsed (it has no meaning, RFC 9110 §9.3.1): one with content is refused, not ignored.
      if (request.method === "GET" && hasContent(request)) {
        void reply.header("connection", "close");
        throw invalidArgument("a GET takes no request body: send its parameters in the query");
      }
      const body = spec.body ? parse(spec.body, normalizeBody(spec.body, request.body), "request body") : (undefined as z.output<B>);
      const result = await spec.handler({ deps, ctx, params, query, body, request, reply });
      // A successful read of users, API keys or the audit log: a data-access entry, when the account has them on.
      if (auth && DATA_ACCESS_READS.has(spec.operationId))
        await auditDataAccess(deps, ctx, { method: spec.operationId, resource: auditedResource(request), payload: request.query });
      if (!reply.sent) return reply.send(result ?? {});
      return reply;
    };
    // Fastify treats ':' as a parameter marker; '::' is a literal colon (custom methods like apiKeys:delete).
    // A custom method right after a parameter (`{userId}:revokeSessions`) needs the parameter to end
    // explicitly, or find-my-way reads `userId:revokeSessions` as one parameter name.
    const url = spec.url
      .replace(MULTI_SEGMENT, "*")
      .replace(/\{(\w+)\}:(?=[a-z])/g, ":$1(^[^/:]+)::")
      .replace(/\{(\w+)\}/g, ":$1")
      .replace(/([A-Za-z]):(?=[a-z])/g, "$1::");
    this.app.route({
      method: spec.method,
      url,
      // Read by the one error handler: the format of this route's errors, and for the audit of the
      // framework's refusals (framework-refusals.ts), its operation and whether it takes a credential.
      config: {
        errorFormat,
        rawBody: spec.rawBody === true,
        nulInBody: spec.nulInBody === true,
        operationId: spec.operationId,
        auth,
        actions,
      } satisfies RouteConfig,
      handler: async (request, reply) => {
        // `GET …/webhooks/w1:rotateSecret` reaches GetWebhook with the id `w1:rotateSecret`: it asks
        // for a custom method with a method that method does not take, refused before any credential
        // and audited as a 405 of the not-found handler is (edge-refusals.ts).
        const path = request.url.split("?")[0]!;
        const allowed = allowedMethods.customMethodAsked(request.method, path);
        if (allowed) throw await auditEdgeRefusal(deps, request, methodNotAllowed(request.method, path, allowed));
        if (!auth) return serve(undefined as unknown as Ctx, request, reply);
        const ctx = await admitCaller(deps, request, spec.operationId, actions);
        try {
          return await serve(ctx, request, reply);
        } catch (error) {
          // Every refusal of an authenticated request is one entry, in the caller's own account.
          await auditRefused(deps, ctx, { method: spec.operationId, resource: auditedResource(request) }, error);
          throw error;
        }
      },
    });
  }
}
