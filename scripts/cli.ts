import { ConfigurationError } from "@/lib/env";
import { DirectoryLockedError } from "@/db/directory-lock";
import { DatabaseUnavailableError, closeDb, openAppDatabase } from "@/db";

const EXPECTED_ERRORS = ["UserInputError", "UsernameTakenError", "UsageError", "IntegrityError"];

export type CliOptions = {
  /**
   * Opens and migrates the app's database before the task (the default). `false` for a task
   * that can run without one: it calls `openAppDatabase()` itself when it needs it.
   */
  database?: boolean;
};

/**
 * Runs a command-line task: opens the database first, closes it after, and turns known
 * failures into one clear message and a non-zero exit.
 */
export function runCli(task: () => Promise<void>, { database = true }: CliOptions = {}): void {
  (database ? openAppDatabase().then(task) : task())
    .then(() => closeDb())
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
