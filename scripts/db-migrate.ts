import { parseArgs } from "node:util";
import { configuredTarget, describeTarget, MIGRATIONS_FOLDER, openAppDatabase } from "@/db";
import { PreparationError, prepareLogPartitioning } from "@/db/online-partitioning";
import { runCli, UsageError } from "./cli";

const USAGE =
  "Usage: npm run db:migrate [-- --prepare [--follow]]\n" +
  "  Applies the pending migrations. --prepare (PostgreSQL) instead does the long part of partitioning the\n" +
  "  log while the app serves, so that the migration at the next start is a short switch; --follow keeps\n" +
  "  copying new rows until then.";

async function prepare(follow: boolean): Promise<void> {
  const target = configuredTarget();
  if (target.kind !== "postgres") {
    throw new UsageError("--prepare is for PostgreSQL. The embedded database has one connection: stop the app, then run `npm run db:migrate`.");
  }
  const { default: postgres } = await import("postgres");
  const client = postgres(target.url, {
    max: 2,
    onnotice: () => {},
    connection: { application_name: "account-logs prepare", statement_timeout: 0, TimeZone: "UTC" },
  });
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.once("SIGTERM", () => stop.abort());
  try {
    await prepareLogPartitioning(client, { migrationsFolder: MIGRATIONS_FOLDER, follow, signal: stop.signal, log: console.log });
  } catch (error) {
    if (error instanceof PreparationError) throw new UsageError(error.message);
    throw error;
  } finally {
    await client.end({ timeout: 5 });
  }
}

runCli(
  async () => {
    let options;
    try {
      ({ values: options } = parseArgs({ options: { prepare: { type: "boolean", default: false }, follow: { type: "boolean", default: false } } }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n${USAGE}`);
    }
    if (options.follow && !options.prepare) throw new UsageError(`--follow goes with --prepare.\n${USAGE}`);
    if (options.prepare) return prepare(options.follow);
    // Opening the database applies the pending migrations.
    await openAppDatabase();
    console.log(`Migrations applied to ${describeTarget(configuredTarget())}.`);
  },
  { database: false },
);
