import { createPublicKey } from "node:crypto";
import fs from "node:fs";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { configuredTarget, copyOutOf, describeTarget, openAppDatabase, rowsOf, type Database } from "@/db";
import { checkExport } from "@/lib/audit/verify-export";
import { checkArchive, isArchive } from "@/lib/audit/verify-archive";
import { checkpointSignatureHolds, configuredSigningKey, gatherCheckpointEvidence, keyIdOf, parsePublicKey } from "@/lib/audit/checkpoints";
import { parallelScanner } from "@/lib/audit/parallel-verify";
import { latestBoundary } from "@/lib/audit/retention";
import { recordVerification, verifyChain, type ChainHead, type VerifyProgress } from "@/lib/audit/verify";
import { env } from "@/lib/env";
import { runCli, UsageError } from "./cli";

const USAGE =
  "Usage: npm run audit:verify [-- [--from-checkpoint [SEQ]] [--public-key FILE]… [--checkpoint-file FILE]]\n" +
  "       npm run audit:verify -- --export FILE [--offline] [--public-key FILE]…   (an export, or a retention archive)";

export class IntegrityError extends Error {
  override name = "IntegrityError";
}

function progressPrinter(): (progress: VerifyProgress) => void {
  const started = Date.now();
  let lastLine = 0;
  return ({ rowsVerified, lastSeq, throughSeq }) => {
    const now = Date.now();
    const seconds = (now - started) / 1000;
    const line = `verified ${rowsVerified.toLocaleString("en-US")} rows, up to seq ${lastSeq} of ${throughSeq} (${Math.floor((lastSeq / Math.max(throughSeq, 1)) * 100)}%, ${Math.round(rowsVerified / Math.max(seconds, 0.001)).toLocaleString("en-US")} rows/s)`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else if (now - lastLine >= 2000) {
      console.error(line);
      lastLine = now;
    }
  };
}

/** `--from-checkpoint` alone means the newest checkpoint: given no value, it gets "latest". */
function withCheckpointDefault(args: string[]): string[] {
  return args.flatMap((arg, i) => (arg === "--from-checkpoint" && (i + 1 === args.length || args[i + 1]!.startsWith("--")) ? [arg, "latest"] : [arg]));
}

/** The checkpoint to start from, its signature checked first: a walk from it trusts it. */
async function startingCheckpoint(
  db: Database,
  evidence: Awaited<ReturnType<typeof gatherCheckpointEvidence>>,
  wanted: string,
): Promise<ChainHead> {
  if (wanted !== "latest" && !/^\d+$/.test(wanted)) throw new UsageError(`--from-checkpoint takes a seq or nothing, not ${wanted}.\n${USAGE}`);
  const candidates = evidence.checkpoints.filter((checkpoint) => wanted === "latest" || checkpoint.seq === Number(wanted));
  const checkpoint = candidates.sort((a, b) => b.seq - a.seq)[0];
  if (!checkpoint) throw new UsageError(wanted === "latest" ? "There is no checkpoint to start from." : `There is no checkpoint at seq ${wanted}.`);
  const key = evidence.publicKeys.find((publicKey) => keyIdOf(publicKey) === checkpoint.keyId);
  if (!key || !checkpointSignatureHolds(checkpoint, key)) {
    throw new IntegrityError(`The checkpoint at seq ${checkpoint.seq} does not carry a good signature of a given key (${checkpoint.keyId}): it cannot be a starting point.`);
  }
  const [row] = await db.execute(sql`select id from account_logs where seq = ${checkpoint.seq} limit 1`).then((result) => rowsOf<{ id: number | string }>(result));
  return { seq: checkpoint.seq, id: row ? Number(row.id) : 0, hash: checkpoint.headHash };
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
    ({ values: options } = parseArgs({
      args: withCheckpointDefault(process.argv.slice(2)),
      options: {
        export: { type: "string" },
        offline: { type: "boolean", default: false },
        "from-checkpoint": { type: "string" },
        "public-key": { type: "string", multiple: true, default: [] },
        "checkpoint-file": { type: "string" },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }

  if (options.export !== undefined) {
    if (!fs.existsSync(options.export)) throw new UsageError(`No file ${options.export}.`);
    if (await isArchive(options.export)) {
      // A retention archive checks alone: its rows, their links, and the signed boundary it carries.
      const publicKeys = options["public-key"].map((file) => parsePublicKey(fs.readFileSync(file, "utf8")));
      const signing = configuredSigningKey();
      if (signing) publicKeys.push(createPublicKey(signing.key));
      const archive = await checkArchive(options.export, publicKeys);
      if (!archive.intact) throw new IntegrityError(`Archive NOT verified: ${archive.problem}`);
      console.log(
        `Archive verified: ${archive.header.month}, ${archive.rows} rows (seq ${archive.header.first_seq} to ${archive.header.last_seq}) match their hashes and link from ${archive.header.prev_hash} to ${archive.headHash}; ` +
          (archive.signature === "held"
            ? `the retention boundary at seq ${archive.boundarySeq} carries a good signature.`
            : `the boundary's signature was not checked (give --public-key).`),
      );
      return;
    }
    const database = options.offline ? "--offline was given" : await availableDatabase();
    const check = await checkExport(options.export, typeof database === "string" ? undefined : database);
    if (!check.intact) throw new IntegrityError(`Export NOT verified: ${check.problem}`);
    const head = check.trailer.chainHead;
    console.log(
      `Export verified: ${check.rows} rows match their hashes; chain head at export ID ${head.id}${head.seq === undefined ? "" : ` (seq ${head.seq})`}, ${head.hash}. ` +
        (check.database === "matched"
          ? "The database holds the same rows and the same head."
          : `Not compared with a database (${database}).`),
    );
    return;
  }

  if (options.offline) throw new UsageError(`--offline goes with --export.\n${USAGE}`);
  for (const file of options["public-key"]) if (!fs.existsSync(file)) throw new UsageError(`No public key file ${file}.`);
  const db = await openAppDatabase();
  const checkpointFile = options["checkpoint-file"] ?? env().AUDIT_CHECKPOINT_FILE;
  if (options["checkpoint-file"] && !fs.existsSync(checkpointFile)) throw new UsageError(`No checkpoint file ${checkpointFile}.`);
  const evidence = await gatherCheckpointEvidence(db, { publicKeyFiles: options["public-key"], checkpointFile });
  const start = options["from-checkpoint"] === undefined ? undefined : await startingCheckpoint(db, evidence, options["from-checkpoint"]);
  const target = configuredTarget();
  const scanner = target.kind === "postgres" ? parallelScanner(target.url, db) : undefined;
  const outcome = await verifyChain(db, progressPrinter(), { copy: copyOutOf(), scanner, start, checkpoints: evidence });
  if (process.stderr.isTTY) process.stderr.write("\n");
  try {
    // A run from a checkpoint covers the tail only: not a verification of the whole log.
    if (!start) await recordVerification(db, outcome);
  } catch (error) {
    // The app's own role may not vouch for the log (db/roles/app-role.sql): the check still stands.
    if ((error as { cause?: { code?: string } }).cause?.code !== "42501" && (error as { code?: string }).code !== "42501") throw error;
    console.error("This result is not recorded for the admin page: this database role may not record verifications. Run with the owner's DATABASE_URL to record it.");
  }
  if (!outcome.intact) {
    throw new IntegrityError(`Chain BROKEN at row ID ${outcome.broken.id} (${outcome.broken.kind}): ${outcome.broken.detail}.`);
  }
  const otherLogs = evidence.otherLogs ? `, ${evidence.otherLogs} of other logs skipped` : "";
  const held = evidence.checkpoints.length
    ? `; ${evidence.checkpoints.length} signed checkpoints hold (${evidence.fromFile} read from ${checkpointFile}${otherLogs})`
    : `; no signed checkpoint to hold it to${otherLogs}`;
  const boundary = await latestBoundary(db);
  const from = start ? ` after the checkpoint at seq ${start.seq}` : boundary ? ` from the retention boundary at seq ${boundary.seq} (${boundary.spans.map((span) => span.month).join(", ")} archived and removed)` : "";
  console.log(
    outcome.head
      ? `verified ${outcome.rowsVerified} rows${from}, head ${outcome.head.hash} (seq ${outcome.head.seq}, ID ${outcome.head.id})${held}`
      : "verified 0 rows: the log is empty",
  );
}, { database: false });
