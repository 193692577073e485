import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";

export type ServerSpec = {
  name: string;
  port: number;
  env: Record<string, string>;
  logFile: string;
  /** Another checkout to run (the benchmark's earlier release); this one by default. */
  cwd?: string;
};

/**
 * What test servers share unless told otherwise: a production build on loopback, a low scrypt
 * cost (hundreds of attempts stay quick; no test depends on the cost), one secret, one admin.
 */
export const SERVER_DEFAULTS = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  NEXTAUTH_SECRET: "test-server-secret-test-server-secret-test",
  SCRYPT_LOG2_N: "14",
  ADMIN_USERNAME: "admin",
  ADMIN_PASSWORD: "admin-password-for-tests",
} as const;

/**
 * Runs `server.ts` as the app runs in production, for the end-to-end tests, the attack suite,
 * the integration tests of the server and the benchmark; resolves once /login answers 200.
 */
export async function startServer(spec: ServerSpec): Promise<ChildProcess> {
  const log = fs.openSync(spec.logFile, "a");
  const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
    // Each server's checkpoints beside its log, not in the working copy's .data folder.
    env: { ...process.env, ...SERVER_DEFAULTS, AUDIT_CHECKPOINT_FILE: `${spec.logFile}.checkpoints.ndjson`, ...spec.env, PORT: String(spec.port) },
    stdio: ["ignore", log, log],
    cwd: spec.cwd,
  });
  fs.closeSync(log);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${spec.name} server exited:\n${fs.readFileSync(spec.logFile, "utf8").slice(-4000)}`);
    try {
      const response = await fetch(`http://127.0.0.1:${spec.port}/login`);
      if (response.ok) return child;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill("SIGKILL");
  throw new Error(`${spec.name} server did not start in time:\n${fs.readFileSync(spec.logFile, "utf8").slice(-4000)}`);
}

export function stopServer(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Applies the migrations to a database, as `npm run db:migrate` does. */
export function migrate(databaseUrl: string): void {
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts"], {
    env: { ...process.env, DATABASE_URL: databaseUrl, SCRYPT_LOG2_N: "14" },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`db:migrate failed: ${result.stderr}`);
}
