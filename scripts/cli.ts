import { ConfigurationError } from "@/lib/env";
import { DirectoryLockedError } from "@/db/directory-lock";
import { DatabaseUnavailableError, closeDb } from "@/db";

const EXPECTED_ERRORS = ["UserInputError", "UsernameTakenError", "UsageError", "IntegrityError"];

/** Runs a command-line task: known failures print one clear message and exit non-zero. */
export function runCli(task: () => Promise<void>): void {
  task()
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
