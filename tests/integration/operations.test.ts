import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildIfNeeded } from "../../scripts/build-if-needed";
import { newSignInClient, signIn } from "../support/http";
import { startServer, stopServer } from "../support/servers";
import { DATABASE_KINDS } from "../support/databases";
import { createDatabase, freePort, startPostgresCluster } from "../support/postgres-cluster";
import { answerMetrics } from "@/lib/service/metrics-endpoint";

/** Health, metrics and a draining shutdown of the real server, on each database. */

const METRICS_TOKEN = "metrics-token-for-operations-tests";
const ADMIN = { username: "ops-watcher", password: "ops-watcher-password" };

type Started = { child: ChildProcess; url: string; logFile: string; databaseUrl?: string; pgliteDir?: string };

async function startAppServer(database: { databaseUrl?: string; pgliteDir?: string }, extraEnv: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const logFile = path.join(os.tmpdir(), `account-logs-operations-${port}.log`);
  const child = await startServer({
    name: `operations-${port}`,
    port,
    logFile,
    env: {
      METRICS_TOKEN,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : { DATABASE_URL: "", PGLITE_DIR: database.pgliteDir! }),
      ...extraEnv,
    },
  });
  return { child, url: `http://127.0.0.1:${port}`, logFile, ...database };
}

async function freshDatabase(kind: (typeof DATABASE_KINDS)[number]): Promise<{ databaseUrl?: string; pgliteDir?: string }> {
  if (kind === "postgres") return { databaseUrl: await createDatabase(inject("postgresUrl")!, `ops_${randomBytes(5).toString("hex")}`) };
  return { pgliteDir: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-ops-")), "db") };
}

async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, at: Date.now() })));
}

beforeAll(() => buildIfNeeded(), 300_000);

it("answers 404 for /metrics when no token is configured", async () => {
  expect((await answerMetrics("Bearer anything", undefined)).status).toBe(404);
});

describe.each(DATABASE_KINDS)("operations on %s", (kind) => {
  let server: Started;
  beforeAll(async () => {
    server = await startAppServer(await freshDatabase(kind));
  }, 300_000);
  afterAll(async () => {
    if (server?.child.exitCode === null) await stopServer(server.child, "SIGKILL");
  });

  it("says it is live and ready", async () => {
    const live = await getJson(`${server.url}/livez`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toEqual({ status: "live" });
    const ready = await getJson(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready", database: "ok", migrations: "applied", draining: false });
  });

  it("serves metrics only with the bearer token, with sign-in counts and no names or addresses", async () => {
    for (const authorization of [undefined, "Bearer wrong-token-wrong-token", `Basic ${METRICS_TOKEN}`]) {
      const refused = await getJson(`${server.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }

    const client = await newSignInClient(server.url);
    expect((await signIn(client, ADMIN.username, ADMIN.password)).session).toBeTruthy();
    expect((await signIn(client, ADMIN.username, "not-the-password")).session).toBeUndefined();

    const scrape = await getJson(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = scrape.body;
    expect(text).toMatch(/^account_logs_sign_in_attempts_total\{result="login_successful"\} 1$/m);
    expect(text).toMatch(/^account_logs_sign_in_attempts_total\{result="login_failed_wrong_password"\} 1$/m);
    expect(text).toMatch(/^account_logs_sign_in_duration_seconds_count\{outcome="signed_in"\} 1$/m);
    expect(text).toMatch(/^account_logs_sign_in_duration_seconds_count\{outcome="invalid_credentials"\} 1$/m);
    expect(text).toMatch(/^account_logs_log_write_failures_total 0$/m);
    expect(text).toMatch(/^account_logs_database_up 1$/m);
    // The ledger: rows sealed up to a position, and how many wait and for how long.
    expect(Number(/^account_logs_sealed_seq (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^account_logs_unsealed_rows \d+$/m);
    expect(Number(/^account_logs_seal_lag_seconds ([\d.e-]+)$/m.exec(text)?.[1])).toBeLessThan(5);
    // Partitions are made ahead: at least the rest of this month and the next.
    expect(Number(/^account_logs_partitions_ahead_seconds ([\d.e+-]+)$/m.exec(text)?.[1])).toBeGreaterThan(30 * 24 * 3600);
    // The scrape itself is answered before the count: nothing else is in flight.
    expect(text).toMatch(/^account_logs_http_requests_in_flight 0$/m);
    expect(text).toMatch(new RegExp(`^account_logs_database_pool_max_connections ${kind === "pglite" ? 1 : 10}$`, "m"));
    const connections = [...text.matchAll(/^account_logs_database_pool_connections\{state="[^"]+"\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(connections.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(ADMIN.username);
    expect(text).not.toContain("127.0.0.1");
  });
});

describe.each(DATABASE_KINDS)("graceful shutdown on %s", (kind) => {
  it("turns /readyz to 503 at once, finishes and logs the sign-ins in flight, and exits within 10 s", async () => {
    // Sign-ins at the production cost take long enough to be caught in flight.
    const server = await startAppServer(await freshDatabase(kind), { SCRYPT_LOG2_N: "17", SIGN_IN_RATE_LIMIT_CONCURRENT: "100" });
    const clients = await Promise.all(Array.from({ length: 4 }, () => newSignInClient(server.url)));
    const exited = exitOf(server.child);
    const signIns = clients.map((client) => signIn(client, ADMIN.username, ADMIN.password));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 50));

    const ready = await getJson(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: "not ready", draining: true });
    const turnedAway = await getJson(`${server.url}/login`);
    expect(turnedAway.status).toBe(503);
    expect(turnedAway.headers.get("retry-after")).toBe("5");

    const results = await Promise.all(signIns);
    for (const result of results) expect(result.session).toBeTruthy();
    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(10_000);
    const output = fs.readFileSync(server.logFile, "utf8");
    expect(Number(/SIGTERM: draining \((\d+) requests in flight\)/.exec(output)?.[1])).toBeGreaterThanOrEqual(1);
    expect(output).toMatch(/SIGTERM: stopped in \d+ ms/);

    // Each finished sign-in is in the log.
    const successes = await countSuccessfulSignIns(server);
    expect(successes).toBe(clients.length);
  }, 120_000);
});

async function countSuccessfulSignIns(server: Started): Promise<number> {
  const query = "select count(*)::int as count from account_logs where result = 'login_successful'";
  if (server.databaseUrl) {
    const sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql.unsafe<{ count: number }[]>(query);
      return row!.count;
    } finally {
      await sql.end();
    }
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const db = await PGlite.create({ dataDir: server.pgliteDir!, extensions: { pg_trgm } });
  try {
    const result = await db.query<{ count: number }>(query);
    return result.rows[0]!.count;
  } finally {
    await db.close();
  }
}

describe.runIf(DATABASE_KINDS.includes("postgres"))("readiness when PostgreSQL goes away", () => {
  it("answers 503 database unavailable, and stays live", async () => {
    const cluster = await startPostgresCluster();
    const server = await startAppServer({ databaseUrl: await createDatabase(cluster.url, "readiness") });
    try {
      expect((await getJson(`${server.url}/readyz`)).status).toBe(200);
      cluster.stop();
      // An answer is kept for a second: within a few, the server says the database is gone.
      await expect.poll(async () => (await getJson(`${server.url}/readyz`)).status, { timeout: 10_000 }).toBe(503);
      const ready = await getJson(`${server.url}/readyz`);
      expect(JSON.parse(ready.body)).toMatchObject({ status: "not ready", database: "unavailable" });
      expect((await getJson(`${server.url}/livez`)).status).toBe(200);
    } finally {
      await stopServer(server.child, "SIGKILL");
      cluster.stop();
    }
  }, 120_000);
});
