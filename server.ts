import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createServer } from "node:http";
import path from "node:path";

/**
 * The app's HTTP server: Next.js behind a plain Node server, so that the client address comes
 * from the TCP socket (and TRUST_PROXY), never from a header the client wrote. Start-up also
 * builds when needed, migrates, and makes sure an admin exists.
 */

const dev = process.argv.includes("--dev");
(process.env as Record<string, string>).NODE_ENV = dev ? "development" : "production";

async function main() {
  const { env, ConfigurationError } = await import("./lib/env");
  const { compileTrustPolicy, stampClientAddress, CLIENT_IP_HEADER } = await import("./lib/client/ip");
  const { isSameOriginRequest, requiresSameOrigin } = await import("./lib/auth/same-origin");
  const { logServerInfo } = await import("./lib/server-log");
  const { configuredTarget, describeTarget, getDb, closeDb, pgliteSiblingPath } = await import("./db");
  const { ensureFirstAdmin } = await import("./lib/users/queries");

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
  const target = configuredTarget();

  if (!config.NEXTAUTH_SECRET) {
    if (target.kind === "pglite" && !target.dir.startsWith("memory://")) {
      // The embedded default needs no configuration: a secret is made once, beside the data.
      const secretFile = pgliteSiblingPath(target.dir, "nextauth-secret");
      fs.mkdirSync(path.dirname(secretFile), { recursive: true });
      if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, randomBytes(32).toString("base64url"), { mode: 0o600 });
      process.env.NEXTAUTH_SECRET = fs.readFileSync(secretFile, "utf8").trim();
    } else if (!dev) {
      return fail("NEXTAUTH_SECRET is required in production with DATABASE_URL: set it to a random string of at least 32 characters (for example: openssl rand -base64 32).");
    } else {
      process.env.NEXTAUTH_SECRET = randomBytes(32).toString("base64url");
      console.warn("NEXTAUTH_SECRET is not set: using a random one, so sessions end when the dev server stops.");
    }
  }
  process.env.NEXTAUTH_URL ??= `http://localhost:${config.PORT}`;

  // The database first: a wrong URL or a held folder should not wait for a build to be told.
  try {
    await getDb();
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

  const server = createServer((request, response) => {
    stampClientAddress(request, trust);
    // As the router will see it: `/api/auth/../../admin` must not pass for `/api/auth/`.
    const path = safePathname(request.url);
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
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    void closeDb().finally(() =>
      fail(error.code === "EADDRINUSE" ? `Port ${config.PORT} is in use: stop what runs there or set PORT.` : error.message),
    );
  });
  server.listen(config.PORT, config.HOST, () => {
    console.log(`Account Logs is ready on ${process.env.NEXTAUTH_URL} (${dev ? "development" : "production"}).`);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping.`);
    server.close();
    server.closeAllConnections();
    void closeDb().finally(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

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
