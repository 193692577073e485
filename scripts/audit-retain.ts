import { parseArgs } from "node:util";
import { openAppDatabase } from "@/db";
import { parseMonth, retainMonths, RetentionRefused } from "@/lib/audit/retention";
import { env } from "@/lib/env";
import { shellOperator } from "@/lib/users/queries";
import { runCli, UsageError } from "./cli";

const USAGE =
  "Usage: npm run audit:retain -- --before YYYY-MM (--archive DIR | --no-archive) [--force STREAM]…\n" +
  "  Removes every month sealed before YYYY-MM, each archived to DIR first (LOG_ARCHIVE_DIR by default).";

/**
 * Retention by hand (docs/audit.md, "Retention"): the months before the given one leave whole,
 * archived first, below a signed boundary; logged as logs_retained by the shell's user.
 */
runCli(async () => {
  let options;
  try {
    ({ values: options } = parseArgs({
      options: {
        before: { type: "string" },
        archive: { type: "string" },
        "no-archive": { type: "boolean", default: false },
        force: { type: "string", multiple: true, default: [] },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const before = options.before ? parseMonth(options.before) : undefined;
  if (!before) throw new UsageError(`--before takes a month, YYYY-MM.\n${USAGE}`);
  if (options.archive && options["no-archive"]) throw new UsageError(`Give --archive or --no-archive, not both.\n${USAGE}`);
  const archiveDir = options["no-archive"] ? undefined : (options.archive ?? env().LOG_ARCHIVE_DIR);
  const db = await openAppDatabase();
  let outcome;
  try {
    outcome = await retainMonths(
      {
        before,
        archiveDir,
        noArchive: options["no-archive"],
        force: options.force,
        actor: { userId: null, username: shellOperator(), via: "command line" },
        context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined },
      },
      db,
    );
  } catch (error) {
    if (error instanceof RetentionRefused) throw new UsageError(error.message);
    throw error;
  }
  if (outcome.status === "nothing") {
    console.log(outcome.reason);
    return;
  }
  for (const archive of outcome.archives) console.log(`archived ${archive.file} (sha256 ${archive.sha256})`);
  console.log(
    `Removed ${outcome.months.join(", ")}: ${outcome.rows.toLocaleString("en-US")} rows through seq ${outcome.boundarySeq}, in ${outcome.seconds.toFixed(1)} s ` +
      `(logged as logs_retained${outcome.forcedStreams.length ? `; forced past ${outcome.forcedStreams.join(", ")}` : ""}). ` +
      "npm run audit:verify now starts from the signed boundary.",
  );
});
