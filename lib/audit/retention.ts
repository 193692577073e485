import { createHash, sign, verify, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { getDb, rowsOf, type Database, type Executor } from "@/db";
import { accountLogBoundaries, type AccountLogMetadata } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";
import { logServerError, logServerInfo } from "@/lib/server-log";
import { configuredSigningKey, keyIdOf, logIdOf } from "./checkpoints";
import { ndjsonRow } from "./export";
import { CHAIN_COLUMNS, toChainRow, type ChainRow } from "./verify";

/**
 * Retention (docs/audit.md, "Retention"): months of sealing leave whole, oldest first, each
 * archived first as NDJSON with its chain evidence, below a boundary (a chain position) signed
 * with the checkpoint key. The owner's `account_log_retain` checks the boundary and the rules
 * again, adjusts every counter and drops the partitions in one transaction.
 */

/** Why retention did not run, in words for the operator. */
export class RetentionRefused extends Error {
  override name = "RetentionRefused";
}

export type RetentionActor = { userId: number | null; username: string; via: NonNullable<NonNullable<AccountLogMetadata["actor"]>["via"]> };

export type Boundary = {
  logId: string;
  /** The last seq that left, and its hash: the next row's `prev_hash`. */
  seq: number;
  headHash: string;
  firstSeq: number;
  rowsRemoved: number;
  months: string[];
  archives: string[];
  retainedAt: Date;
  keyId: string;
  signature: Buffer;
};

type BoundaryFields = Omit<Boundary, "keyId" | "signature">;

/** The exact bytes a boundary's signature covers: a versioned JSON array, like a checkpoint's. */
export function boundaryMessage(b: BoundaryFields): Buffer {
  return Buffer.from(
    JSON.stringify(["account-logs retention boundary", 1, b.logId, b.seq, b.headHash, b.firstSeq, b.rowsRemoved, b.months, b.archives, b.retainedAt.toISOString()]),
    "utf8",
  );
}

export function signBoundary(key: KeyObject, fields: BoundaryFields): Boundary {
  return { ...fields, keyId: keyIdOf(key), signature: sign(null, boundaryMessage(fields), key) };
}

export function boundarySignatureHolds(boundary: Boundary, publicKey: KeyObject): boolean {
  try {
    return verify(null, boundaryMessage(boundary), publicKey, boundary.signature);
  } catch {
    return false;
  }
}

/** The newest boundary (the log's start), or none while nothing has left. */
export async function latestBoundary(executor: Executor): Promise<Boundary | undefined> {
  const [row] = rowsOf<{ seq: number | string; head_hash: string; first_seq: number | string; rows_removed: number | string; months: string[] | string; archives: string[] | string; retained_at: string | Date; key_id: string; signature: string }>(
    await executor.execute(sql`
      select b.seq, encode(b.head_hash, 'hex') as head_hash, b.first_seq, b.rows_removed, b.months, b.archives, b.retained_at, b.key_id,
        encode(b.signature, 'base64') as signature
      from ${accountLogBoundaries} b order by b.seq desc limit 1`),
  );
  if (!row) return undefined;
  const list = (value: string[] | string) => (Array.isArray(value) ? value : value.replace(/^\{|\}$/g, "").split(",").filter(Boolean).map((item) => item.replace(/^"|"$/g, "")));
  return {
    logId: await logIdOf(executor),
    seq: Number(row.seq),
    headHash: row.head_hash,
    firstSeq: Number(row.first_seq),
    rowsRemoved: Number(row.rows_removed),
    months: list(row.months),
    archives: list(row.archives),
    retainedAt: new Date(row.retained_at),
    keyId: row.key_id,
    signature: Buffer.from(row.signature, "base64"),
  };
}

/** "2025-11" as the first instant of that month, UTC; undefined for anything else. */
export function parseMonth(text: string): Date | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)) : undefined;
}

/** The month start before which a policy of `months` months removes rows: never anything younger than that. */
export function policyCutoff(now: Date, months: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));
}

const monthName = (date: Date) => date.toISOString().slice(0, 7);

export type RetentionPlan = {
  before: Date;
  months: { month: string; firstSeq: number; lastSeq: number; rows: number }[];
  firstSeq: number;
  boundarySeq: number;
  headHash: string;
  rows: number;
  /** Rows written before the cut that wait in the inbox. */
  unsealedBefore: number;
  /** The month being sealed into now: nothing from it may leave. */
  sealingMonth: Date;
  /** Enabled streams that have not delivered through the boundary. */
  streamsBehind: { id: number; name: string; cursorSeq: number }[];
};

/** What retaining everything sealed before `before` would remove, and what stands in its way. */
export async function planRetention(executor: Executor, before: Date): Promise<RetentionPlan | undefined> {
  const [span] = rowsOf<{ first: number | string | null; last: number | string | null; rows: number | string; sealing: string | Date; unsealed: number | string }>(
    await executor.execute(sql`
      select min(seq) as first, max(seq) as last, count(*) as rows,
        (select date_trunc('month', sealed_at, 'UTC') from account_log_seal_state) as sealing,
        (select count(*) from account_log_inbox where occurred_at < ${before.toISOString()}::timestamptz) as unsealed
      from account_logs where sealed_at < ${before.toISOString()}::timestamptz`),
  );
  if (!span || span.last == null) return undefined;
  const boundarySeq = Number(span.last);
  const months = rowsOf<{ month: string | Date; min_seq: number | string; max_seq: number | string; row_count: number | string }>(
    await executor.execute(sql`select month, min_seq, max_seq, row_count from account_log_months where month < ${before.toISOString()}::timestamptz order by month`),
  ).map((row) => ({ month: monthName(new Date(row.month)), firstSeq: Number(row.min_seq), lastSeq: Number(row.max_seq), rows: Number(row.row_count) }));
  const [head] = rowsOf<{ hash: string }>(await executor.execute(sql`select encode(hash, 'hex') as hash from account_logs where seq = ${boundarySeq} limit 1`));
  const streamsBehind = rowsOf<{ id: number; name: string; cursor_seq: number | string }>(
    await executor.execute(sql`select id, name, cursor_seq from log_streams where enabled and cursor_seq < ${boundarySeq} order by id`),
  ).map((row) => ({ id: Number(row.id), name: row.name, cursorSeq: Number(row.cursor_seq) }));
  return {
    before,
    months,
    firstSeq: Number(span.first),
    boundarySeq,
    headHash: head!.hash,
    rows: Number(span.rows),
    unsealedBefore: Number(span.unsealed),
    sealingMonth: new Date(span.sealing),
    streamsBehind,
  };
}

/** A month's archive file name: the log's ID (first 8 digits) and the month. */
export const archiveFileName = (logId: string, month: string) => `account-log-${logId.slice(0, 8)}-${month}.ndjson`;

export type ArchiveHeader = { archive: "account-logs"; version: 1; log_id: string; month: string; first_seq: number; last_seq: number; rows: number; prev_hash: string };
export type ArchiveTrailer = {
  archive_end: { rows: number; last_seq: number; head_hash: string };
  /** The boundary of the retention this archive was made for, signed: its last row is the boundary's or below it. */
  boundary: { log_id: string; seq: number; head_hash: string; first_seq: number; rows_removed: number; months: string[]; archives: string[]; retained_at: string; key_id: string; signature: string };
};

const ARCHIVE_BATCH = 10_000;

async function* monthRows(executor: Executor, firstSeq: number, lastSeq: number): AsyncGenerator<ChainRow> {
  for (let after = firstSeq - 1; after < lastSeq; ) {
    const rows = rowsOf<Parameters<typeof toChainRow>[0]>(
      await executor.execute(sql`select ${CHAIN_COLUMNS} from account_logs where seq > ${after} and seq <= ${lastSeq} order by seq limit ${ARCHIVE_BATCH}`),
    ).map(toChainRow);
    if (rows.length === 0) return;
    yield* rows;
    after = rows.at(-1)!.seq;
  }
}

/**
 * Writes one month's archive: a header, its rows in seq order as the JSON export writes them,
 * and a trailer with the signed boundary. Written beside its final name and renamed once
 * complete and on disk, so a file with the final name is whole. Returns its SHA-256.
 */
export async function writeMonthArchive(
  executor: Executor,
  file: string,
  month: RetentionPlan["months"][number],
  boundary: Boundary,
): Promise<{ sha256: string; rows: number }> {
  const partial = `${file}.partial`;
  const handle = fs.openSync(partial, "w", 0o600);
  const digest = createHash("sha256");
  const write = (text: string) => {
    fs.writeSync(handle, text);
    digest.update(text);
  };
  try {
    let rows = 0;
    let last: ChainRow | undefined;
    for await (const row of monthRows(executor, month.firstSeq, month.lastSeq)) {
      if (!last) {
        const header: ArchiveHeader = { archive: "account-logs", version: 1, log_id: boundary.logId, month: month.month, first_seq: row.seq, last_seq: month.lastSeq, rows: month.rows, prev_hash: row.prevHash };
        write(`${JSON.stringify(header)}\n`);
      }
      write(ndjsonRow(row));
      rows += 1;
      last = row;
    }
    if (!last || rows !== month.rows || last.seq !== month.lastSeq) {
      throw new RetentionRefused(`The month ${month.month} reads as ${rows} rows, not the ${month.rows} its counter holds: nothing was removed.`);
    }
    const trailer: ArchiveTrailer = {
      archive_end: { rows, last_seq: last.seq, head_hash: last.hash },
      boundary: {
        log_id: boundary.logId,
        seq: boundary.seq,
        head_hash: boundary.headHash,
        first_seq: boundary.firstSeq,
        rows_removed: boundary.rowsRemoved,
        months: boundary.months,
        archives: boundary.archives,
        retained_at: boundary.retainedAt.toISOString(),
        key_id: boundary.keyId,
        signature: boundary.signature.toString("base64"),
      },
    };
    write(`${JSON.stringify(trailer)}\n`);
    fs.fsyncSync(handle);
    fs.closeSync(handle);
    fs.renameSync(partial, file);
    return { sha256: digest.digest("hex"), rows };
  } catch (error) {
    fs.closeSync(handle);
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

/** Only one retention at a time, across instances: an advisory lock held by its transaction. */
const RETENTION_LOCK = 726531004;

export type RetentionRequest = {
  before: Date;
  /** Where the months' archives go; required unless `noArchive`. */
  archiveDir?: string;
  noArchive?: boolean;
  /** Streams (by name or ID) whose undelivered rows may leave anyway: logged. */
  force?: string[];
  actor: RetentionActor;
  context: RequestContext;
};

export type RetentionOutcome =
  | { status: "nothing"; reason: string }
  | { status: "retained"; months: string[]; rows: number; boundarySeq: number; archives: { file: string; sha256: string }[]; forcedStreams: string[]; seconds: number };

const DATABASE_REFUSALS = new Set(["55006", "P0002", "22023", "23514"]);

/**
 * Applies retention: every month sealed before `before` leaves, oldest first, after the checks
 * (`docs/audit.md`): a signing key for the boundary; an archive unless refused explicitly; no
 * month still sealed into; no unsealed row older than the cut; no active stream behind it unless
 * forced by name. The archives are written first (rows are immutable), then the owner's function
 * removes the months and adjusts the counters, and `logs_retained` is written, in one
 * transaction.
 */
export async function retainMonths(request: RetentionRequest, executor?: Database): Promise<RetentionOutcome> {
  const started = Date.now();
  const db = executor ?? (await getDb());
  if (!request.archiveDir && !request.noArchive) throw new RetentionRefused("Give an archive folder (--archive DIR), or --no-archive to remove the months without one.");
  const signing = configuredSigningKey();
  if (!signing) throw new RetentionRefused("Retention signs the boundary it leaves: set AUDIT_SIGNING_KEY (npm run audit:key -- --new).");
  const plan = await planRetention(db, request.before);
  if (!plan) return { status: "nothing", reason: `No sealed row is older than ${monthName(request.before)}.` };
  if (request.before > plan.sealingMonth) {
    throw new RetentionRefused(`${monthName(plan.sealingMonth)} is still being sealed into: only months before it can leave.`);
  }
  if (plan.unsealedBefore > 0) {
    throw new RetentionRefused(`${plan.unsealedBefore} rows written before ${monthName(request.before)} are not sealed yet: nothing was removed. Try again once sealing has caught up.`);
  }
  const forced = request.force ?? [];
  for (const name of forced) {
    if (!plan.streamsBehind.some((stream) => stream.name === name || String(stream.id) === name)) {
      throw new RetentionRefused(`--force names "${name}", which is not a stream behind these months (${plan.streamsBehind.map((stream) => stream.name).join(", ") || "none is"}).`);
    }
  }
  const forcedStreams = plan.streamsBehind.filter((stream) => forced.includes(stream.name) || forced.includes(String(stream.id)));
  const blocking = plan.streamsBehind.filter((stream) => !forcedStreams.includes(stream));
  if (blocking.length > 0) {
    throw new RetentionRefused(
      `Streams have not delivered these rows yet: ${blocking.map((stream) => `${stream.name} (sent through seq ${stream.cursorSeq}, the months end at ${plan.boundarySeq})`).join("; ")}. ` +
        "Wait for them, or name each with --force.",
    );
  }
  const logId = await logIdOf(db);
  const archiveNames = request.archiveDir ? plan.months.map((month) => archiveFileName(logId, month.month)) : [];
  const boundary = signBoundary(signing.key, {
    logId,
    seq: plan.boundarySeq,
    headHash: plan.headHash,
    firstSeq: plan.firstSeq,
    rowsRemoved: plan.rows,
    months: plan.months.map((month) => month.month),
    archives: archiveNames,
    retainedAt: new Date(),
  });
  const archives: { file: string; sha256: string }[] = [];
  if (request.archiveDir) {
    fs.mkdirSync(request.archiveDir, { recursive: true, mode: 0o700 });
    for (const [index, month] of plan.months.entries()) {
      const file = path.join(request.archiveDir, archiveNames[index]!);
      archives.push({ file, ...(await writeMonthArchive(db, file, month, boundary)) });
    }
  }
  try {
    await db.transaction(async (tx) => {
      const [lock] = rowsOf<{ taken: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as taken`));
      if (!lock?.taken) throw new RetentionRefused("Another retention is running: nothing was removed.");
      await tx.execute(sql`select account_log_retain(${request.before.toISOString()}::timestamptz, ${boundary.seq}::bigint, decode(${boundary.headHash}, 'hex'),
        ${boundary.retainedAt.toISOString()}::timestamptz, ${boundary.keyId}, decode(${boundary.signature.toString("base64")}, 'base64'),
        ${sql.raw(`array[${archiveNames.map((name) => `'${name.replace(/'/g, "''")}'`).join(",")}]::text[]`)},
        ${sql.raw(`array[${forcedStreams.map((stream) => Number(stream.id)).join(",")}]::integer[]`)})`);
      await appendAccountLog(tx, [
        {
          username: request.actor.username,
          userId: request.actor.userId,
          result: "logs_retained",
          ip: request.context.ip ?? null,
          metadata: {
            ...requestMetadata(request.context),
            actor: request.actor,
            retention: {
              months: boundary.months,
              rows: boundary.rowsRemoved,
              boundarySeq: boundary.seq,
              archives: archives.map((archive) => `${path.basename(archive.file)} sha256:${archive.sha256}`),
              ...(forcedStreams.length > 0 && { forcedStreams: forcedStreams.map((stream) => `${stream.name} (sent through seq ${stream.cursorSeq})`) }),
              ...(request.noArchive && { archive: "none (--no-archive)" }),
            },
          },
        },
      ]);
    });
  } catch (error) {
    const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    if (code && DATABASE_REFUSALS.has(code)) {
      const message = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new RetentionRefused(`The database refused: ${message}. Nothing was removed.`);
    }
    if (code === "55P03") throw new RetentionRefused("The log was busy (a long read held it for 5 s): nothing was removed. Try again.");
    throw error;
  }
  return {
    status: "retained",
    months: boundary.months,
    rows: boundary.rowsRemoved,
    boundarySeq: boundary.seq,
    archives,
    forcedStreams: forcedStreams.map((stream) => stream.name),
    seconds: (Date.now() - started) / 1000,
  };
}

const POLICY_FIRST_RUN_MS = 60_000;
const POLICY_EVERY_MS = 24 * 3_600_000;

/**
 * LOG_RETENTION_MONTHS applied once a day (and a minute after start): the months older than the
 * policy leave, archived to LOG_ARCHIVE_DIR. A refusal (a stream behind, rows not sealed yet) is
 * logged and counted, and tried again the next day; it is never forced.
 */
export function startRetentionPolicy(): { stop: () => Promise<void> } {
  const months = env().LOG_RETENTION_MONTHS;
  if (!months) return { stop: async () => {} };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = async () => {
    const before = policyCutoff(new Date(), months);
    try {
      const outcome = await retainMonths({
        before,
        archiveDir: env().LOG_ARCHIVE_DIR,
        actor: { userId: null, username: "retention policy", via: "schedule" },
        context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined },
      });
      metrics().retentionRuns.inc({ outcome: outcome.status });
      if (outcome.status === "retained") logServerInfo("retention removed months", { months: outcome.months, rows: outcome.rows, boundarySeq: outcome.boundarySeq, seconds: outcome.seconds });
    } catch (error) {
      metrics().retentionRuns.inc({ outcome: error instanceof RetentionRefused ? "refused" : "failed" });
      logServerError(error instanceof RetentionRefused ? "retention refused" : "retention failed", error, { before: before.toISOString(), months });
    }
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run().finally(() => schedule(POLICY_EVERY_MS));
    }, delay);
    timer.unref();
  };
  schedule(POLICY_FIRST_RUN_MS);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
