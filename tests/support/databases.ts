import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, inject } from "vitest";
import { sql, type SQL } from "drizzle-orm";
import { closeDb, openAppDatabase, type Database } from "@/db";
import { resetEnv } from "@/lib/env";
import { createDatabase } from "./postgres-cluster";

export type DatabaseKind = "pglite" | "postgres";

/** Both databases, for `describe.each`; PostgreSQL only when the global setup started one. */
export const DATABASE_KINDS: DatabaseKind[] = inject("postgresUrl") ? ["pglite", "postgres"] : ["pglite"];

/** Makes the next `env()` read the environment again. */
export function resetEnvCache() {
  resetEnv();
}

/**
 * Points the app's database module at a fresh database of the given kind for the enclosing
 * describe block: a new PGlite folder, or a new database on the test PostgreSQL server.
 */
export function useFreshDatabase(kind: DatabaseKind): { url: () => string | undefined } {
  let url: string | undefined;
  let folder: string | undefined;
  beforeAll(async () => {
    await closeDb();
    if (kind === "postgres") {
      url = await createDatabase(inject("postgresUrl")!, `test_${randomBytes(6).toString("hex")}`);
      process.env.DATABASE_URL = url;
      delete process.env.PGLITE_DIR;
    } else {
      folder = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-pglite-"));
      delete process.env.DATABASE_URL;
      process.env.PGLITE_DIR = path.join(folder, "db");
    }
    resetEnvCache();
    await openAppDatabase();
  });
  afterAll(async () => {
    await closeDb();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
    delete process.env.DATABASE_URL;
    delete process.env.PGLITE_DIR;
    resetEnvCache();
  });
  return { url: () => url };
}

/**
 * Runs `work` (a command-line child process, say) with the app's database closed, and opens it
 * again afterwards: the embedded database admits one process at a time.
 */
export async function withDatabaseReleased<T>(work: () => T | Promise<T>): Promise<T> {
  await closeDb();
  try {
    return await work();
  } finally {
    await openAppDatabase();
  }
}

/** Changes rows as a superuser would: with triggers (append-only included) switched off. */
export async function asSuperuser(db: Database, ...statements: SQL[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    for (const statement of statements) await tx.execute(statement);
  });
}
