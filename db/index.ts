import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type { Sql } from "postgres";
import { env } from "@/lib/env";
import { acquireDirectoryLock } from "./directory-lock";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the database or an open transaction: query functions accept both. */
export type Executor = Database | Transaction;

export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "pglite"; dir: string };

type OpenClient =
  | { kind: "pglite"; client: PGlite; release: () => void }
  | { kind: "postgres"; client: Sql; release: () => void };

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");
const MIGRATION_LOCK_KEY = 726_531_001;
const POSTGRES_POOL_SIZE = 10;
/** Names this process's connections in pg_stat_activity, so the pool can be read back from there. */
const APPLICATION_NAME = `account-logs ${os.hostname().slice(0, 32)} ${process.pid}`;

/** `DATABASE_URL` when set, else the embedded PGlite folder. */
export function configuredTarget(): DatabaseTarget {
  const { DATABASE_URL, PGLITE_DIR } = env();
  return DATABASE_URL ? { kind: "postgres", url: DATABASE_URL } : { kind: "pglite", dir: PGLITE_DIR };
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "pglite") return `embedded PGlite at ${path.resolve(target.dir)}`;
  try {
    const url = new URL(target.url);
    return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
  } catch {
    return "PostgreSQL (DATABASE_URL is not a valid URL)";
  }
}

/** Files that belong beside the embedded database (its lock, the generated secret). */
export function pgliteSiblingPath(dir: string, suffix: string): string {
  const resolved = path.resolve(dir);
  return path.join(/*turbopackIgnore: true*/ path.dirname(resolved), `${path.basename(resolved)}.${suffix}`);
}

async function openPglite(dir: string): Promise<OpenClient> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  if (dir.startsWith("memory://")) {
    const client = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
    return { kind: "pglite", client, release: () => {} };
  }
  const resolved = path.resolve(dir);
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  const release = acquireDirectoryLock(pgliteSiblingPath(resolved, "lock"));
  try {
    const client = await PGlite.create({ dataDir: resolved, extensions: { pg_trgm } });
    return { kind: "pglite", client, release };
  } catch (error) {
    release();
    throw new DatabaseUnavailableError(`Could not open the embedded database at ${resolved}.`, { cause: error });
  }
}

async function openPostgres(url: string): Promise<OpenClient> {
  const { default: postgres } = await import("postgres");
  const client = postgres(url, {
    max: POSTGRES_POOL_SIZE,
    connect_timeout: 10,
    onnotice: () => {},
    // No JIT: the app's statements run in milliseconds, and PostgreSQL's estimates over the
    // partitioned log can pass jit_above_cost, when compiling takes 100 ms (the page's count of a
    // week at 10 M rows: 138 ms with JIT, 5 ms without).
    connection: { application_name: APPLICATION_NAME, jit: "off" },
  });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    const code = (error as { code?: string }).code;
    throw new DatabaseUnavailableError(
      `Cannot reach ${describeTarget({ kind: "postgres", url })}${code ? ` (${code})` : ""}: ${(error as Error).message}. ` +
        `Check DATABASE_URL and that the server is running.`,
      { cause: error },
    );
  }
  return { kind: "postgres", client, release: () => {} };
}

async function wrap(open: OpenClient): Promise<Database> {
  if (open.kind === "pglite") {
    const { drizzle } = await import("drizzle-orm/pglite");
    return drizzle(open.client, { schema }) as unknown as Database;
  }
  const { drizzle } = await import("drizzle-orm/postgres-js");
  return drizzle(namingEveryStatement(open.client), { schema }) as unknown as Database;
}

/** Marks a statement whose plan depends on its values too much to be kept: it is planned at every run. */
export const PLAN_EACH_RUN = "/* plan each run */";

/**
 * Drizzle sends its statements unnamed: PostgreSQL plans each one at every run, and postgres.js
 * spends a round trip describing it first. Over the partitioned log that planning costs more than
 * the run (pgbench, a username's newest rows at 1 M rows: 5.0 ms unnamed, 0.33 ms named; the
 * page at 10 M rows: about 10 ms p50). Named, a statement is parsed once per connection and,
 * after five runs, may keep a generic plan. A statement marked `PLAN_EACH_RUN` stays unnamed:
 * kept plans of the time filters' statements cannot prune months and were up to a hundred times
 * slower. `?prepare=false` in DATABASE_URL turns naming off, for a pooler that cannot keep
 * prepared statements.
 */
function namingEveryStatement(client: Sql): Sql {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key === "unsafe") {
        return (query: string, parameters?: unknown[], options?: object) =>
          target.unsafe(query, parameters as never, { ...options, prepare: !query.includes(PLAN_EACH_RUN) });
      }
      if (key === "begin" || key === "savepoint") {
        return (...args: unknown[]) => {
          const body = args.pop() as (inner: Sql) => unknown;
          const open = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[key]!;
          return open(...args, (inner: Sql) => body(namingEveryStatement(inner)));
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/** True when the newest migration in db/migrations is already applied, as drizzle records it. */
let newestMigration: number | undefined;

/** When the newest migration in db/migrations was made; read once, as the readiness check asks often. */
function newestMigrationTime(): number {
  if (newestMigration === undefined) {
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as {
      entries: { when: number }[];
    };
    newestMigration = Math.max(...journal.entries.map((entry) => entry.when));
  }
  return newestMigration;
}

async function postgresIsCurrent(client: Sql): Promise<boolean> {
  const newest = newestMigrationTime();
  try {
    const [row] = await client`select max(created_at)::text as applied from drizzle.__drizzle_migrations`;
    return row?.applied !== null && row?.applied !== undefined && Number(row.applied) >= newest;
  } catch {
    // No migrations table yet (a new database), or no right to read it: migrate, or say why not.
    return false;
  }
}

async function migrateOpen(open: OpenClient, db: Database): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  if (open.kind === "pglite") {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    await migrate(db as never, config);
    return;
  }
  // A role that may only write the log (db/roles/app-role.sql) cannot run migrations, and
  // needs not when none is pending.
  if (await postgresIsCurrent(open.client)) return;
  // Several app instances may start together on one server: one migrates, the others wait.
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const reserved = await open.client.reserve();
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    // A log prepared online (`npm run db:migrate -- --prepare`) is partitioned by a short switch.
    const { switchToPreparedLog } = await import("./online-partitioning");
    await switchToPreparedLog(open.client, MIGRATIONS_FOLDER);
    await migrate(db as never, config);
  } finally {
    await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    reserved.release();
  }
}

export type DatabaseHandle = {
  db: Database;
  target: DatabaseTarget;
  client: OpenClient;
  close: () => Promise<void>;
};

/**
 * Opens the given database, applies pending migrations, and returns it with its closer. The
 * app's own database is opened through `openAppDatabase()`; this is for any other target.
 */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  const open = target.kind === "pglite" ? await openPglite(target.dir) : await openPostgres(target.url);
  const close = async () => {
    try {
      if (open.kind === "pglite") await open.client.close();
      else await open.client.end({ timeout: 5 });
    } finally {
      open.release();
    }
  };
  try {
    const db = await wrap(open);
    await migrateOpen(open, db);
    return { db, target, client: open, close };
  } catch (error) {
    await close().catch(() => {});
    if (error instanceof DatabaseUnavailableError) throw error;
    const denied = [error, (error as Error).cause].some((e) => (e as { code?: string } | undefined)?.code === "42501");
    const hint = denied ? " Migrations are pending and this role may not apply them: run `npm run db:migrate` with the owner's DATABASE_URL." : "";
    throw new DatabaseUnavailableError(`Could not prepare ${describeTarget(target)}: ${(error as Error).message.split("\n")[0]}${hint}`, {
      cause: error,
    });
  }
}

// One open database per process, shared by the custom server and the Next.js bundle, which load
// separate copies of this module: the server opens it, the bundle's copy finds it here.
const shared = globalThis as unknown as {
  __accountLogsDatabase?: DatabaseHandle;
  __accountLogsDatabaseOpening?: Promise<DatabaseHandle>;
};

/**
 * Opens the configured database and applies pending migrations: the one place that does, called
 * by `server.ts` at start-up, by each command (`scripts/cli.ts`) and by the test support before
 * their first query. Calling it again while the database is open returns the open one.
 */
export async function openAppDatabase(): Promise<Database> {
  if (!shared.__accountLogsDatabase) {
    const opening = (shared.__accountLogsDatabaseOpening ??= openDatabase(configuredTarget()));
    try {
      const handle = await opening;
      // Unless closeDb() came first, in which case it has closed this handle.
      if (shared.__accountLogsDatabaseOpening === opening) shared.__accountLogsDatabase = handle;
    } finally {
      // A failed open is not kept: the next call tries again.
      if (shared.__accountLogsDatabaseOpening === opening) shared.__accountLogsDatabaseOpening = undefined;
    }
  }
  return getDb();
}

/**
 * The open database. It never opens one: before `openAppDatabase()` has finished, or after
 * `closeDb()`, it rejects with a DatabaseUnavailableError.
 */
export async function getDb(): Promise<Database> {
  return wrapShared(openHandle().client);
}

/** Whether the app's database is open in this process. */
export function isDbOpen(): boolean {
  return shared.__accountLogsDatabase !== undefined;
}

function openHandle(): DatabaseHandle {
  const handle = shared.__accountLogsDatabase;
  if (!handle) {
    throw new DatabaseUnavailableError(
      "The database is not open: the server opens it at start-up, and a command or test must call openAppDatabase() before its first query.",
    );
  }
  return handle;
}

// Each module copy wraps the shared client with its own drizzle instance.
const wrapped = new WeakMap<object, Promise<Database>>();
function wrapShared(open: OpenClient): Promise<Database> {
  let db = wrapped.get(open.client);
  if (!db) {
    db = wrap(open);
    wrapped.set(open.client, db);
  }
  return db;
}

/** A `COPY … TO STDOUT` being read, and how to close it (early, too). */
export type CopyStream = { chunks: AsyncIterable<Buffer>; close: () => Promise<void> };

/**
 * Opens `COPY … TO STDOUT` queries on the app's database as streams of raw bytes, for reads too
 * large for row objects (the chain's verification); undefined on the embedded database, which
 * has no streaming COPY. Each runs on a connection of its own: a reader that stops early closes
 * it, where a pooled connection would be left in the middle of a COPY.
 */
export function copyOutOf(): ((query: string) => Promise<CopyStream>) | undefined {
  const { target } = openHandle();
  if (target.kind !== "postgres") return undefined;
  return async (query) => {
    const { default: postgres } = await import("postgres");
    // No statement timeout: a verification's COPY of a large log runs for minutes (db/roles/app-role.sql sets one for the role).
    const client = postgres(target.url, {
      max: 1,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: `${APPLICATION_NAME} copy`, statement_timeout: 0 },
    });
    try {
      const chunks = (await client.unsafe(query).readable()) as AsyncIterable<Buffer>;
      return { chunks, close: () => client.end({ timeout: 0 }) };
    } catch (error) {
      await client.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
  };
}

/** Whether every migration in db/migrations is applied (PGlite applies them when it opens). */
export async function migrationsApplied(): Promise<boolean> {
  const { client } = openHandle();
  return client.kind === "pglite" ? true : postgresIsCurrent(client.client);
}

export type PoolState = { kind: DatabaseTarget["kind"]; max: number; connections: Record<string, number> };

/** The process's database connections by state, as the server sees them (PGlite: its one). */
export async function poolState(): Promise<PoolState> {
  const { client } = openHandle();
  if (client.kind === "pglite") return { kind: "pglite", max: 1, connections: { open: 1 } };
  const rows = await client.client<{ state: string; connections: number }[]>`
    select coalesce(state, 'unknown') as state, count(*)::int as connections
    from pg_stat_activity where application_name = ${APPLICATION_NAME} group by 1`;
  return { kind: "postgres", max: POSTGRES_POOL_SIZE, connections: Object.fromEntries(rows.map((row) => [row.state, row.connections])) };
}

/** A trivial query on the open database, for readiness checks. */
export async function pingDatabase(): Promise<void> {
  const { client } = openHandle();
  if (client.kind === "pglite") await client.client.query("select 1");
  else await client.client`select 1`;
}

/** Closes the open database (waiting for one still opening); `openAppDatabase()` opens it again. */
export async function closeDb(): Promise<void> {
  const opening = shared.__accountLogsDatabaseOpening;
  const open = shared.__accountLogsDatabase;
  shared.__accountLogsDatabase = undefined;
  shared.__accountLogsDatabaseOpening = undefined;
  const handle = open ?? (await opening?.catch(() => undefined));
  await handle?.close();
}

/** Rows of a raw query, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
