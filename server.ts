import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import type { BackgroundTask } from "./lib/service/background";
import type { EnvCompletion } from "./lib/env";

/**
 * The app's HTTP server: Next.js behind a plain Node server, so that the client address comes
 * from the TCP socket (and TRUST_PROXY), never from a header the client wrote. Start-up also
 * completes the configuration, opens and migrates the database (the only place the app does),
 * builds when needed, and makes sure an admin exists.
 */

const dev = process.argv.includes("--dev");
(process.env as Record<string, string>).NODE_ENV = dev ? "development" : "production";

async function main() {
  const { env, completeEnv, ConfigurationError } = await import("./lib/env");
  const { compileTrustPolicy, hopCountTrustWarning, stampClientAddress, CLIENT_IP_HEADER } = await import("./lib/client/ip");
  const { isSameOriginRequest, requiresSameOrigin } = await import("./lib/auth/same-origin");
  const { logServerError, logServerInfo } = await import("./lib/server-log");
  const { configuredTarget, describeTarget, openAppDatabase, closeDb, getDb, pgliteSiblingPath } = await import("./db");
  const { ensureFirstAdmin } = await import("./lib/users/queries");
  const { bodyLimitFor, declaredBodyLength, isCredentialsSignIn, limitRequestBody } = await import("./lib/http/request-limits");
  const { recordRejectedSignInRequest } = await import("./lib/account-log/sign-in");
  const { requestContextFromHeaders } = await import("./lib/client/request-context");
  const { metrics } = await import("./lib/metrics/registry");
  const { checkReadiness } = await import("./lib/service/health");
  const { answerMetrics } = await import("./lib/service/metrics-endpoint");
  const { authorizeApiToken } = await import("./lib/api/authorize");
  const { startBackgroundTasks, stopBackgroundTasks } = await import("./lib/service/background");
  const { startSessionCleanup } = await import("./lib/sessions/cleanup");
  const { startAccessDenialFlush } = await import("./lib/account-log/access-denied");
  const { startSealer } = await import("./lib/audit/sealer");
  const { startStreamSender } = await import("./lib/streams/sender");
  const { startAlertSender } = await import("./lib/alerts/send");
  const { startRetentionPolicy } = await import("./lib/audit/retention");
  const { checkStreamSecretKey, StreamKeyError } = await import("./lib/streams/secrets");
  const { configuredCheckpointer, SigningKeyError } = await import("./lib/audit/checkpoints");

  let config;
  try {
    config = env();
  } catch (error) {
    if (error instanceof ConfigurationError) return fail(error.message);
    throw error;
  }
  let trust;
  try {
    trust = compileTrustPolicy(config.TRUST_PROXY);
  } catch (error) {
    return fail((error as Error).message);
  }
  const trustWarning = hopCountTrustWarning(config.TRUST_PROXY, config.HOST);
  if (trustWarning) console.warn(`Warning: ${trustWarning}`);
  const target = configuredTarget();
  let checkpointer;
  try {
    checkpointer = configuredCheckpointer();
  } catch (error) {
    if (error instanceof SigningKeyError) return fail(error.message);
    throw error;
  }
  try {
    checkStreamSecretKey();
  } catch (error) {
    if (error instanceof StreamKeyError) return fail(error.message);
    throw error;
  }
  if (!checkpointer) {
    console.warn("Warning: AUDIT_SIGNING_KEY is not set, so no signed checkpoints are written (docs/audit.md, \"Checkpoints\").");
  }

  // What the environment leaves unset is worked out here, before any other module reads it.
  const completion: EnvCompletion = {};
  if (!config.NEXTAUTH_SECRET) {
    if (target.kind === "pglite" && !target.dir.startsWith("memory://")) {
      // The embedded default needs no configuration: a secret is made once, beside the data.
      const secretFile = pgliteSiblingPath(target.dir, "nextauth-secret");
      fs.mkdirSync(path.dirname(secretFile), { recursive: true });
      if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, randomBytes(32).toString("base64url"), { mode: 0o600 });
      completion.NEXTAUTH_SECRET = fs.readFileSync(secretFile, "utf8").trim();
    } else if (!dev) {
      return fail("NEXTAUTH_SECRET is required in production with DATABASE_URL: set it to a random string of at least 32 characters (for example: openssl rand -base64 32).");
    } else {
      completion.NEXTAUTH_SECRET = randomBytes(32).toString("base64url");
      console.warn("NEXTAUTH_SECRET is not set: using a random one, so sessions end when the dev server stops.");
    }
  }
  if (!config.NEXTAUTH_URL) completion.NEXTAUTH_URL = `http://localhost:${config.PORT}`;
  try {
    config = completeEnv(completion);
  } catch (error) {
    if (error instanceof ConfigurationError) return fail(error.message);
    throw error;
  }

  // The database first: a wrong URL or a held folder should not wait for a build to be told.
  // It is opened and migrated here, once; everything after only asks for the open handle.
  try {
    await openAppDatabase();
  } catch (error) {
    return fail((error as Error).message);
  }
  console.log(`Database: ${describeTarget(target)} (migrations applied).`);

  if (!dev) {
    const { buildIfNeeded } = await import("./scripts/build-if-needed");
    try {
      buildIfNeeded();
    } catch (error) {
      await closeDb();
      return fail((error as Error).message);
    }
  }

  try {
    const created = await ensureFirstAdmin({ username: config.ADMIN_USERNAME, password: config.ADMIN_PASSWORD });
    if (created?.generatedPassword) {
      console.log(
        `\nNo admin existed, so one was created. Sign in with:\n  username: ${created.username}\n  password: ${created.generatedPassword}\n` +
          `This password is shown once. Change it by creating your own admin (npm run user:create).\n`,
      );
    } else if (created) {
      console.log(`No admin existed; created admin "${created.username}" from ADMIN_USERNAME and ADMIN_PASSWORD.`);
    }
  } catch (error) {
    await closeDb();
    return fail(`Could not create the first admin: ${(error as Error).message}`);
  }

  const { default: next } = await import("next");
  const app = next({ dev, hostname: config.HOST, port: config.PORT });
  const handle = app.getRequestHandler();
  await app.prepare();

  const backgroundTasks: BackgroundTask[] = [
    { name: "session cleanup", start: () => startSessionCleanup().stop },
    // Moves written rows into the chain; its stop seals what is left, after the flush below.
    { name: "sealer", start: () => startSealer({ checkpointer }).stop },
    // Its stop writes the refusals it holds, so it runs before the database closes.
    { name: "access denial flush", start: () => startAccessDenialFlush() },
    // Its stop finishes the batch in flight and gives the streams up to the other instances.
    { name: "log streams", start: () => startStreamSender().stop },
    // Reads sealed rows for alert events and sends the alerts; its stop hands back what it took.
    { name: "alerts", start: () => startAlertSender().stop },
    // LOG_RETENTION_MONTHS, once a day; its stop waits for a run in progress.
    { name: "retention", start: () => startRetentionPolicy().stop },
  ];
  let draining = false;

  let requestsInFlight = 0;
  metrics().httpRequestsInFlight.readFrom(() => requestsInFlight);

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    stampClientAddress(request, trust);
    // As the router will see it: `/api/auth/../../admin` must not pass for `/api/auth/`.
    const path = safePathname(request.url);
    if (OPERATIONS_PATHS.has(path)) return void answerOperations(path, request, response);
    if (draining) {
      // A new request while shutting down goes elsewhere; those already in flight finish.
      response.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", "Retry-After": "5", Connection: "close" });
      response.end("The server is shutting down; try again.\n");
      return;
    }
    requestsInFlight += 1;
    response.once("close", () => {
      requestsInFlight -= 1;
    });

    // Before Next.js buffers anything: a body over the route's limit is refused with 413.
    const limit = bodyLimitFor(path, request.headers);
    const withinLimit = limitRequestBody(request, response, limit, () => {
      const signIn = isCredentialsSignIn(request.method, path);
      metrics().oversizedRequests.inc({ route: signIn ? "sign_in" : request.headers["next-action"] ? "action" : "other" });
      // Every sign-in attempt is a row, an oversized one too: bounded, its body never read.
      if (signIn) return recordRejectedSignInRequest(undefined, requestContextFromHeaders(request.headers));
    });
    if (!withinLimit) return;

    const headers = { get: (name: string) => headerValue(request.headers[name]) };
    if (requiresSameOrigin(request.method, path) && !isSameOriginRequest(headers)) {
      logServerInfo("cross-origin request refused", {
        method: request.method,
        path: path.slice(0, 200),
        origin: headers.get("origin")?.slice(0, 200) ?? null,
        ip: headers.get(CLIENT_IP_HEADER) ?? null,
      });
      response.writeHead(403, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
      response.end("Refused: the request did not come from this site.\n");
      return;
    }
    void handle(request, response);
  };

  /** /livez, /readyz and /metrics: answered here, so they work while Next.js is busy or draining. */
  const answerOperations = async (path: string, request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, headers: Record<string, string>, body: string) => {
      response.writeHead(status, headers);
      response.end(request.method === "HEAD" ? undefined : body);
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      return send(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }, "Method not allowed\n");
    }
    const json = { "Content-Type": "application/json", "Cache-Control": "no-store" };
    try {
      if (path === "/livez") return send(200, json, `${JSON.stringify({ status: "live" })}\n`);
      if (path === "/readyz") {
        const readiness = await checkReadiness({ draining });
        return send(readiness.ready ? 200 : 503, json, `${JSON.stringify({ status: readiness.ready ? "ready" : "not ready", ...readiness.checks })}\n`);
      }
      const answer = await answerMetrics(headerValue(request.headers.authorization) ?? undefined, config.METRICS_TOKEN, async (presented) => {
        const verdict = await authorizeApiToken(await getDb(), presented, "metrics:read", requestContextFromHeaders(request.headers));
        return verdict.status === "allowed" ? "allowed" : verdict.status === "lacks scope" ? "lacks scope" : "refused";
      });
      return send(answer.status, answer.headers, answer.body);
    } catch (error) {
      logServerError("operations endpoint failed", error, { path });
      if (!response.headersSent) send(500, json, `${JSON.stringify({ status: "error" })}\n`);
    }
  };

  const server = createServer(onRequest);
  // A client that asks before sending a large body is refused before it sends it.
  server.on("checkContinue", (request: IncomingMessage, response: ServerResponse) => {
    const declared = declaredBodyLength(request.headers["content-length"]) ?? 0;
    if (declared <= bodyLimitFor(safePathname(request.url), request.headers)) response.writeContinue();
    onRequest(request, response);
  });
  // Bounds on slow clients: the headers within 20 s, the whole request within 30 s.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.on("error", (error: NodeJS.ErrnoException) => {
    void closeDb().finally(() =>
      fail(error.code === "EADDRINUSE" ? `Port ${config.PORT} is in use: stop what runs there or set PORT.` : error.message),
    );
  });
  server.listen(config.PORT, config.HOST, () => {
    startBackgroundTasks(backgroundTasks);
    console.log(`Account Logs is ready on ${config.NEXTAUTH_URL} (${dev ? "development" : "production"}).`);
  });

  /**
   * SIGTERM or SIGINT: /readyz answers 503 at once and new requests are turned away with 503;
   * requests in flight (sign-ins among them, each logged) finish; then the listener closes,
   * background work stops, the database closes and the process exits. Whatever is still running
   * after 8 s is cut off, so the process is gone within 10 s.
   */
  const stop = async (signal: string) => {
    if (draining) return;
    draining = true;
    const startedAt = Date.now();
    console.log(`${signal}: draining (${requestsInFlight} requests in flight).`);
    const deadline = setTimeout(() => {
      console.error(`${signal}: not stopped after ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting anyway.`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    while (requestsInFlight > 0 && Date.now() - startedAt < SHUTDOWN_DEADLINE_MS - 2_000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (requestsInFlight > 0) console.error(`${signal}: ${requestsInFlight} requests cut off.`);
    server.close();
    server.closeAllConnections();
    await stopBackgroundTasks();
    await closeDb().catch((error: unknown) => logServerError("database did not close cleanly", error));
    console.log(`${signal}: stopped in ${Date.now() - startedAt} ms.`);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

const OPERATIONS_PATHS = new Set(["/livez", "/readyz", "/metrics"]);
const SHUTDOWN_DEADLINE_MS = 10_000;

function safePathname(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://localhost").pathname;
  } catch {
    return "/";
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

function fail(message: string): never {
  console.error(`\nAccount Logs could not start:\n${message}\n`);
  process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  fail(error instanceof Error ? error.message : String(error));
});
