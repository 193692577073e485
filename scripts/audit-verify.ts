import fs from "node:fs";
import { parseArgs } from "node:util";
import { configuredTarget, copyOutOf, describeTarget, openAppDatabase, type Database } from "@/db";
import { checkExport } from "@/lib/audit/verify-export";
import { recordVerification, verifyChain, type VerifyProgress } from "@/lib/audit/verify";
import { runCli, UsageError } from "./cli";

const USAGE = "Usage: npm run audit:verify [-- --export FILE [--offline]]";

export class IntegrityError extends Error {
  override name = "IntegrityError";
}

function progressPrinter(): (progress: VerifyProgress) => void {
  const started = Date.now();
  let lastLine = 0;
  return ({ rowsVerified, lastId, throughId }) => {
    const now = Date.now();
    const seconds = (now - started) / 1000;
    const line = `verified ${rowsVerified.toLocaleString("en-US")} rows, up to ID ${lastId} of ${throughId} (${Math.floor((lastId / Math.max(throughId, 1)) * 100)}%, ${Math.round(rowsVerified / Math.max(seconds, 0.001)).toLocaleString("en-US")} rows/s)`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else if (now - lastLine >= 2000) {
      console.error(line);
      lastLine = now;
    }
  };
}

/** The configured database, when there is one to compare with; else why not. */
async function availableDatabase(): Promise<Database | string> {
  const target = configuredTarget();
  if (target.kind === "pglite" && !fs.existsSync(target.dir)) return `no database at ${describeTarget(target)}`;
  try {
    return await openAppDatabase();
  } catch (error) {
    return (error as Error).message;
  }
}

// An export checked --offline needs no database: the database is opened only where it is read.
runCli(async () => {
  let options;
  try {
    ({ values: options } = parseArgs({ options: { export: { type: "string" }, offline: { type: "boolean", default: false } } }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }

  if (options.export !== undefined) {
    if (!fs.existsSync(options.export)) throw new UsageError(`No file ${options.export}.`);
    const database = options.offline ? "--offline was given" : await availableDatabase();
    const check = await checkExport(options.export, typeof database === "string" ? undefined : database);
    if (!check.intact) throw new IntegrityError(`Export NOT verified: ${check.problem}`);
    const head = check.trailer.chainHead;
    console.log(
      `Export verified: ${check.rows} rows match their hashes; chain head at export ID ${head.id}, ${head.hash}. ` +
        (check.database === "matched"
          ? "The database holds the same rows and the same head."
          : `Not compared with a database (${database}).`),
    );
    return;
  }

  if (options.offline) throw new UsageError(`--offline goes with --export.\n${USAGE}`);
  const db = await openAppDatabase();
  const outcome = await verifyChain(db, progressPrinter(), { copy: copyOutOf() });
  if (process.stderr.isTTY) process.stderr.write("\n");
  await recordVerification(db, outcome);
  if (!outcome.intact) {
    throw new IntegrityError(`Chain BROKEN at row ID ${outcome.broken.id} (${outcome.broken.kind}): ${outcome.broken.detail}.`);
  }
  console.log(
    outcome.head
      ? `verified ${outcome.rowsVerified} rows, head ${outcome.head.hash} (ID ${outcome.head.id})`
      : "verified 0 rows: the log is empty",
  );
}, { database: false });
