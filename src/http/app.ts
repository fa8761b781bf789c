import pino from "pino";
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { MalformedBody } from "./malformed-body.ts";
import { jsonCharsetRefusal } from "./json-charset.ts";
import { keepRawJsonBody } from "./raw-body.ts";
import type { Deps } from "../service/context.ts";
import { errorHandler, notFoundHandler } from "./errors.ts";
import { auditFrameworkRefusal } from "./framework-refusals.ts";
import { auditEdgeRefusal } from "./edge-refusals.ts";
import type { ApiError } from "../domain/errors.ts";
import { duplicateMemberRefusal, inexactNumberRefusal, parseJsonBody, refuseContentEncoding, refuseNul, securityHeaders, serverOptions } from "./hardening.ts";
import { drainOnClose } from "./drain.ts";
import { requestIdOf } from "./fast-path-request.ts";
import { withoutKeys } from "../domain/key-shapes.ts";
import { strictUtf8 } from "../domain/utf8.ts";
import { fastPathServer, type FastPathState } from "./fast-path-server.ts";
import { Router } from "./route.ts";
import { AllowedMethods } from "./allowed-methods.ts";
import { accountRoutes } from "./routes/account.ts";
import { auditLogRoutes } from "./routes/audit-logs.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { leakReportRoutes } from "./routes/leak-reports.ts";
import { apiKeyLifecycleRoutes } from "./routes/api-key-lifecycle.ts";
import { keyPolicyRoutes } from "./routes/key-policy.ts";
import { serviceRoutes } from "./routes/service.ts";
import { userRoutes } from "./routes/users.ts";
import { installMetrics } from "./metrics.ts";
import { identityProviderRoutes } from "./routes/identity-providers.ts";
import { permissionPresetRoutes } from "./routes/permission-presets.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { cliSignInRoutes } from "./routes/cli-sign-in.ts";
import { signInRoutes } from "./routes/sign-in.ts";
import { accountSwitchRoutes } from "./account-switch.ts";
import { signInProviderRoutes } from "./routes/sign-in-providers.ts";
import { consoleRoutes } from "./console.ts";
import { platformRoutes } from "./routes/platform.ts";

export interface AppOptions {
  /** Where the one-JSON-line-per-request log goes (default stdout, see `stdoutLog`); tests capture it. */
  logStream?: NodeJS.WritableStream;
}

/**
 * Standard output as the log's destination, written asynchronously (pino's `sync: false`): lines
 * logged while a write is under way go out together in the next one, so that a busy gateway makes
 * a few writes a second rather than one system call per request (bench item 7: about a tenth of
 * the CPU of a proxied call). pino writes what is pending when the process exits, also after an
 * uncaught error; only a SIGKILL can lose the lines of the write under way (docs/operations.md).
 * Lines waiting for a reader that does not keep up are held up to `LOG_BUFFER_BYTES`; beyond that,
 * new lines are dropped rather than the server's memory growing without bound.
 */
const stdoutLog = () => pino.destination({ dest: 1, sync: false, maxLength: LOG_BUFFER_BYTES });

/** The most log text (bytes) held for a standard output that does not keep up: 16 MiB. */
const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

const QUIET_PATHS = new Set(["/verifyApiKey", "/healthz", "/readyz", "/metrics"]);

/** Builds the HTTP application: every route, the one error handler, one log line per request. */
export function buildApp(deps: Deps, options: AppOptions = {}): FastifyInstance {
  const fastPath: FastPathState = {};
  // Refusals made before any route checks the request, audited in the caller's account.
  const onEdgeRefusal = (request: FastifyRequest, refusal: ApiError) => auditEdgeRefusal(deps, request, refusal);
  const app = Fastify({
    logger: deps.config.logLevel === "silent" ? false : { level: deps.config.logLevel, stream: options.logStream ?? stdoutLog() },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.bodyLimit,
    // Fastify accepts each form of the setting; the cast only steers overload resolution.
    trustProxy: deps.config.trustProxy as boolean,
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers["x-request-id"]),
    routerOptions: { ignoreTrailingSlash: true },
    ...serverOptions(deps.config, onEdgeRefusal),
    // A valid key's GET /verifyApiKey and admitted inference calls are answered in front of the framework (a gateway sends them per request).
    serverFactory: fastPathServer(deps, fastPath),
  });
  if (deps.config.logLevel !== "silent") fastPath.log = app.log;
  // A request arriving once closing has begun is refused by the framework (503), never taken by a fast path.
  app.addHook("preClose", (done) => {
    fastPath.closing = true;
    done();
  });

  drainOnClose(app);

  // JSON bodies: an empty body is no body (DELETE with a Content-Type), a bad one names the problem.
  // Read as bytes and decoded strictly (`strictUtf8`): a lenient decoder would store U+FFFD for bytes
  // that are not UTF-8.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const charset = jsonCharsetRefusal(req.headers["content-type"]);
    if (charset !== undefined) return done(null, new MalformedBody(charset));
    let raw: string;
    try {
      raw = strictUtf8(body as Buffer);
    } catch (error) {
      return done(null, new MalformedBody(`request body is ${(error as Error).message}`));
    }
    keepRawJsonBody(req, raw);
    const text = raw.trim();
    if (text === "") return done(null, undefined);
    let value: unknown;
    try {
      value = parseJsonBody(text);
    } catch (error) {
      return done(null, new MalformedBody(`malformed JSON body: ${(error as Error).message}`));
    }
    const refusal = duplicateMemberRefusal(req, text) ?? inexactNumberRefusal(req, text);
    done(null, refusal === undefined ? value : new MalformedBody(refusal));
  });
  // Any other media type is refused by the router too, after the credential check (so audited);
  // the body is not read. A route that takes streams names its own types.
  app.addContentTypeParser("*", (request, _payload, done) => {
    const given = request.headers["content-type"];
    done(null, new MalformedBody(`unsupported Content-Type ${JSON.stringify((given ?? "").slice(0, 100))}: send application/json`));
  });

  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("x-request-id", request.id);
    done();
  });
  securityHeaders(app);
  refuseNul(app, onEdgeRefusal);
  refuseContentEncoding(app, onEdgeRefusal);
  // One structured line per request; only the path is logged (no query string, no headers). A
  // successful key check or probe (a gateway's auth_request, a load balancer's health check: one per
  // proxied request or every few seconds) is logged at debug; its refusals stay at info. A request
  // whose client went away before the response was complete gets its line when the connection
  // closes (status 499, nginx's "client closed request", when no headers were sent; `clientClosed`):
  // Fastify's onResponse may never run for it, or run after.
  const logged = new WeakSet<object>();
  const accessLine = (request: FastifyRequest, reply: FastifyReply, clientClosed: boolean) => {
    if (logged.has(request)) return;
    logged.add(request);
    const path = request.url.split("?")[0]!;
    const status = clientClosed && !reply.raw.headersSent ? 499 : reply.statusCode;
    const quiet = status < 400 && QUIET_PATHS.has(path);
    // Not even the line's object is built when it would not be written.
    if (quiet && request.log.level !== "debug" && request.log.level !== "trace") return;
    request.log[quiet ? "debug" : "info"](
      {
        method: request.method,
        // A one-time sign-in link carries its secret in the path: log the route, not the token.
        // So is a key a client put in a path (`withoutKeys`).
        path: withoutKeys(path.replace(/^\/auth\/link\/.*/, "/auth/link/[REDACTED]")),
        status,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(clientClosed ? { clientClosed } : {}),
      },
      "request",
    );
  };
  app.addHook("onRequest", (request, reply, done) => {
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) accessLine(request, reply, true);
    });
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    accessLine(request, reply, false);
    done();
  });

  app.setErrorHandler(errorHandler(deps.config.bodyLimit, (request, refusal) => auditFrameworkRefusal(deps, request, refusal)));
  const allowedMethods = new AllowedMethods(app);
  app.setNotFoundHandler(notFoundHandler(allowedMethods, onEdgeRefusal));

  const router = new Router(app, deps, allowedMethods);
  serviceRoutes(router, installMetrics(app, deps));
  accountRoutes(router);
  auditLogRoutes(router);
  userRoutes(router);
  apiKeyRoutes(router);
  leakReportRoutes(router);
  apiKeyLifecycleRoutes(router);
  keyPolicyRoutes(router);
  identityProviderRoutes(router);
  permissionPresetRoutes(router);
  webhookRoutes(router);
  signInRoutes(router);
  accountSwitchRoutes(app, deps);
  cliSignInRoutes(router);
  signInProviderRoutes(router);
  consoleRoutes(app);
  platformRoutes(app, router, deps);
  return app;
}
