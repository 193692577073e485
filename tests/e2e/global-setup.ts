import { spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildIfNeeded } from "../../scripts/build-if-needed";
import { createDatabase, startPostgresCluster, type PostgresCluster } from "../support/postgres-cluster";
import { startServer } from "../support/servers";
import { ADMIN, E2E_TARGETS, USERS, type E2ETarget } from "./environment";

function createUsers(env: NodeJS.ProcessEnv) {
  for (const user of Object.values(USERS)) {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "scripts/user-create.ts", "--username", user.username, "--password-stdin"],
      { env, input: `${user.password}\n`, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`user:create ${user.username} failed: ${result.stderr}`);
  }
}

function startE2EServer(name: E2ETarget, env: NodeJS.ProcessEnv, logFile: string): Promise<ChildProcess> {
  return startServer({ name, port: E2E_TARGETS[name].port, env: env as Record<string, string>, logFile });
}

/**
 * A production build served twice by the app's own server: once on a fresh embedded PGlite
 * folder, once on a fresh database of a throwaway PostgreSQL server.
 */
export default async function globalSetup() {
  buildIfNeeded();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-e2e-"));
  let cluster: PostgresCluster | undefined;
  let postgresDatabaseUrl = "";
  const servers: ChildProcess[] = [];
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    NEXTAUTH_SECRET: "e2e-secret-e2e-secret-e2e-secret-e2e-secret",
    // The production cost, as a user's browser meets it.
    SCRYPT_LOG2_N: "17",
    DATABASE_URL: "",
  };
  const teardown = async () => {
    for (const server of servers) server.kill("SIGTERM");
    await Promise.all(servers.map((server) => new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.on("exit", resolve)))));
    cluster?.stop();
    if (!process.env.E2E_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const pgliteEnv = { ...baseEnv, PGLITE_DIR: path.join(workDir, "pglite") };
    createUsers(pgliteEnv);
    servers.push(await startE2EServer("pglite", pgliteEnv, path.join(workDir, "pglite-server.log")));

    cluster = await startPostgresCluster();
    postgresDatabaseUrl = await createDatabase(cluster.url, "account_logs_e2e");
    // On PostgreSQL, stream secrets need a key the database never holds.
    const postgresEnv = { ...baseEnv, DATABASE_URL: postgresDatabaseUrl, STREAM_SECRET_KEY: "ZTJlLXN0cmVhbS1zZWNyZXQta2V5LTMyLWJ5dGVzLSE=" };
    createUsers(postgresEnv);
    servers.push(await startE2EServer("postgres", postgresEnv, path.join(workDir, "postgres-server.log")));
  } catch (error) {
    await teardown();
    throw error;
  }
  process.env.E2E_WORK_DIR = workDir;
  // Specs that need rows no browser can produce (a public client address) write them here.
  process.env.E2E_POSTGRES_DATABASE_URL = postgresDatabaseUrl;
  return teardown;
}
