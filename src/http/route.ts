import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { z } from "zod";
import { invalidArgument } from "../domain/errors.ts";
import type { Ctx } from "../service/context.ts";
import { authenticateRequest, requestMeta } from "./auth.ts";
import type { Deps } from "../service/context.ts";

/**
 * One way to declare an endpoint: its zod schemas validate the request and also produce the
 * OpenAPI document, so the two cannot drift apart.
 */
export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: string;
  /** RPC-style name, also the audit log's method for refused attempts. */
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Default true: a Bearer credential is required and its account must match the path's. */
  auth?: boolean;
  /** A body the handler reads as a stream (an upload): its OpenAPI request body, by content type. */
  streamedBody?: Record<string, unknown>;
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

export interface RegisteredRoute {
  method: string;
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  auth: boolean;
  streamedBody?: Record<string, unknown>;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

/** The first problem zod found, as one sentence naming the field. */
export function describeIssue(where: string, error: z.ZodError, value: unknown): string {
  const issue = error.issues[0]!;
  const path = issue.path.join(".");
  // zod words a missing field "expected string, received undefined"; say that it is missing.
  const given = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
  if (path && issue.code === "invalid_type" && given === undefined) return `missing ${where} field "${path}" (expected ${issue.expected})`;
  return path ? `invalid ${where} field "${path}": ${issue.message}` : `invalid ${where}: ${issue.message}`;
}

function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.output<S> {
  if (!schema) return undefined as z.output<S>;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw invalidArgument(describeIssue(where, result.error, value ?? {}));
  return result.data;
}

export class Router {
  readonly routes: RegisteredRoute[] = [];
  private readonly app: FastifyInstance;
  private readonly deps: Deps;

  constructor(app: FastifyInstance, deps: Deps) {
    this.app = app;
    this.deps = deps;
  }

  add<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<P, Q, B>): void {
    const auth = spec.auth !== false;
    this.routes.push({ ...spec, auth });
    const deps = this.deps;
    // Fastify treats ':' as a parameter marker; '::' is a literal colon (custom methods like apiKeys:delete).
    // A custom method right after a parameter (`{userId}:revokeSessions`) needs the parameter to end
    // explicitly, or find-my-way reads `userId:revokeSessions` as one parameter name.
    const url = spec.url
      .replace(/\{(\w+)\}:(?=[a-z])/g, ":$1(^[^/:]+)::")
      .replace(/\{(\w+)\}/g, ":$1")
      .replace(/([A-Za-z]):(?=[a-z])/g, "$1::");
    this.app.route({
      method: spec.method,
      url,
      handler: async (request, reply) => {
        const ctx = auth
          ? { principal: await authenticateRequest(deps, request, spec.operationId), meta: requestMeta(request), checked: [] }
          : (undefined as unknown as Ctx);
        const params = parse(spec.params, request.params, "path");
        const query = parse(spec.query, request.query, "query parameter");
        // A streamed body (an upload content type) reaches only the routes that read streams.
        if (spec.body && request.body instanceof Readable) {
          // The stream is not read: close the connection rather than drain it.
          void reply.header("connection", "close");
          throw invalidArgument("send the request body as JSON (Content-Type: application/json)");
        }
        const body = parse(spec.body, request.body, "request body");
        const result = await spec.handler({ deps, ctx, params, query, body, request, reply });
        if (!reply.sent) return reply.send(result ?? {});
        return reply;
      },
    });
  }
}
