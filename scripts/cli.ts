import { ConfigurationError } from "@/lib/env";
import { DirectoryLockedError } from "@/db/directory-lock";
import { DatabaseUnavailableError, closeDb, isDbOpen, openAppDatabase } from "@/db";
import { sealPending } from "@/lib/audit/sealer";

const EXPECTED_ERRORS = ["UserInputError", "UsernameTakenError", "UsageError", "IntegrityError"];

export type CliOptions = {
  /**
   * Opens and migrates the app's database before the task (the default). `false` for a task
   * that can run without one: it calls `openAppDatabase()` itself when it needs it.
   */
  database?: boolean;
};

/** Seals the rows the task wrote, so they are in the chain when it exits; the app would seal them later. */
async function sealAndClose(): Promise<void> {
  if (isDbOpen()) await sealPending().catch((error: unknown) => console.error(`Rows written wait to be sealed by the app: ${(error as Error).message}`));
  await closeDb();
}

/**
 * Runs a command-line task: opens the database first, seals what it wrote and closes it after,
 * and turns known failures into one clear message and a non-zero exit.
 */
export function runCli(task: () => Promise<void>, { database = true }: CliOptions = {}): void {
  (database ? openAppDatabase().then(task) : task())
    .then(() => sealAndClose())
    .then(
      () => process.exit(0),
      async (error: unknown) => {
        await closeDb().catch(() => {});
        const expected =
          error instanceof ConfigurationError ||
          error instanceof DirectoryLockedError ||
          error instanceof DatabaseUnavailableError ||
          (error instanceof Error && EXPECTED_ERRORS.includes(error.name));
        // Expected failures are one message; anything else keeps its stack for a bug report.
        console.error(expected ? (error as Error).message : error);
        process.exit(1);
      },
    );
}

export class UsageError extends Error {
  override name = "UsageError";
}
