import { createHash, sign, verify, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { getDb, rowsOf, type Database, type Executor } from "@/db";
import { accountLogBoundaries, type AccountLogMetadata } from "@/db/schema";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";
import { logServerError, logServerInfo } from "@/lib/server-log";
import { normalizeUsername } from "@/lib/users/username";
import { GENESIS_HASH } from "./canonical";
import { configuredSigningKey, keyIdOf, logIdOf } from "./checkpoints";
import { ndjsonRow } from "./export";
import { CHAIN_COLUMNS, ChainWalker, toChainRow, type ChainHead, type ChainRow } from "./verify";

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

/** One month that leaves: its positions, rows, the hash it starts from and the one it ends at. */
export type MonthSpan = { month: string; first_seq: number; last_seq: number; rows: number; prev_hash: string; head_hash: string };

export type Boundary = {
  logId: string;
  /** The last seq that left, and its hash: the next row's `prev_hash`. */
  seq: number;
  headHash: string;
  firstSeq: number;
  rowsRemoved: number;
  /** Each month's span, signed: an archive is held to its month's. */
  spans: MonthSpan[];
  archives: string[];
  retainedAt: Date;
  keyId: string;
  signature: Buffer;
};

type BoundaryFields = Omit<Boundary, "keyId" | "signature">;

/** The exact bytes a boundary's signature covers: a versioned JSON array, like a checkpoint's. */
export function boundaryMessage(b: BoundaryFields): Buffer {
  return Buffer.from(
    JSON.stringify([
      "account-logs retention boundary",
      1,
      b.logId,
      b.seq,
      b.headHash,
      b.firstSeq,
      b.rowsRemoved,
      b.spans.map((span) => [span.month, span.first_seq, span.last_seq, span.rows, span.prev_hash, span.head_hash]),
      b.archives,
      b.retainedAt.toISOString(),
    ]),
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
  const [row] = rowsOf<{ seq: number | string; head_hash: string; first_seq: number | string; rows_removed: number | string; spans: MonthSpan[] | string; archives: string[] | string; retained_at: string | Date; key_id: string; signature: string }>(
    await executor.execute(sql`
      select b.seq, encode(b.head_hash, 'hex') as head_hash, b.first_seq, b.rows_removed, b.spans, b.archives, b.retained_at, b.key_id,
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
    spans: typeof row.spans === "string" ? (JSON.parse(row.spans) as MonthSpan[]) : row.spans,
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
  /** Each month that leaves, oldest first, with the hashes at its ends. */
  spans: MonthSpan[];
  firstSeq: number;
  boundarySeq: number;
  headHash: string;
  rows: number;
  /** Where the chain of what leaves starts: the previous boundary, or the first row ever. */
  origin: ChainHead;
  /** Rows written before the cut that wait in the inbox. */
  unsealedBefore: number;
  /** The month being sealed into now: nothing from it may leave. */
  sealingMonth: Date;
  /** Enabled streams that have not delivered through the boundary. */
  streamsBehind: { id: number; name: string; cursorSeq: number }[];
};

/** What retaining everything sealed before `before` would remove, and what stands in its way. */
export async function planRetention(executor: Executor, before: Date): Promise<RetentionPlan | undefined> {
  const cut = before.toISOString();
  const [span] = rowsOf<{ first: number | string | null; last: number | string | null; rows: number | string; sealing: string | Date; unsealed: number | string }>(
    await executor.execute(sql`
      select min(seq) as first, max(seq) as last, count(*) as rows,
        (select date_trunc('month', sealed_at, 'UTC') from account_log_seal_state) as sealing,
        (select count(*) from account_log_inbox where occurred_at < ${cut}::timestamptz) as unsealed
      from account_logs where sealed_at < ${cut}::timestamptz`),
  );
  if (!span || span.last == null) return undefined;
  const boundarySeq = Number(span.last);
  const spans = rowsOf<{ month: string; first_seq: number | string; last_seq: number | string; rows: number | string; prev_hash: string | null; head_hash: string | null }>(
    await executor.execute(sql`
      select to_char(m.month at time zone 'UTC', 'YYYY-MM') as month, m.min_seq as first_seq, m.max_seq as last_seq, m.row_count as rows,
        (select encode(l.prev_hash, 'hex') from account_logs l where l.seq = m.min_seq and l.sealed_at < ${cut}::timestamptz) as prev_hash,
        (select encode(l.hash, 'hex') from account_logs l where l.seq = m.max_seq and l.sealed_at < ${cut}::timestamptz) as head_hash
      from account_log_months m where m.month < ${cut}::timestamptz order by m.month`),
  ).map((row) => ({ month: row.month, first_seq: Number(row.first_seq), last_seq: Number(row.last_seq), rows: Number(row.rows), prev_hash: row.prev_hash ?? "", head_hash: row.head_hash ?? "" }));
  const previous = await latestBoundary(executor);
  const streamsBehind = rowsOf<{ id: number; name: string; cursor_seq: number | string }>(
    await executor.execute(sql`select id, name, cursor_seq from log_streams where enabled and cursor_seq < ${boundarySeq} order by id`),
  ).map((row) => ({ id: Number(row.id), name: row.name, cursorSeq: Number(row.cursor_seq) }));
  return {
    before,
    spans,
    firstSeq: Number(span.first),
    boundarySeq,
    headHash: spans.at(-1)?.head_hash ?? "",
    rows: Number(span.rows),
    origin: previous ? { seq: previous.seq, id: 0, hash: previous.headHash } : { seq: 0, id: 0, hash: GENESIS_HASH },
    unsealedBefore: Number(span.unsealed),
    sealingMonth: new Date(span.sealing),
    streamsBehind,
  };
}

/** The plan's months must be one run of positions from where the log starts to the boundary, counted as the log counts them. */
function checkSpans(plan: RetentionPlan): void {
  let next = plan.origin.seq + 1;
  let previousHead = plan.origin.hash;
  for (const span of plan.spans) {
    if (span.first_seq !== next || span.prev_hash !== previousHead || span.last_seq - span.first_seq + 1 !== span.rows) {
      throw new RetentionRefused(`${span.month} does not follow on from seq ${next - 1}: rows are missing or out of place. Run npm run audit:verify; nothing was removed.`);
    }
    next = span.last_seq + 1;
    previousHead = span.head_hash;
  }
  if (next !== plan.boundarySeq + 1 || plan.firstSeq !== plan.origin.seq + 1) {
    throw new RetentionRefused(`The months before the cut do not cover seq ${plan.origin.seq + 1} to ${plan.boundarySeq}: nothing was removed.`);
  }
}

/** A month's archive file name: the log's ID (first 8 digits) and the month. */
export const archiveFileName = (logId: string, month: string) => `account-log-${logId.slice(0, 8)}-${month}.ndjson`;

export type ArchiveHeader = { archive: "account-logs"; version: 1; log_id: string; month: string; first_seq: number; last_seq: number; rows: number; prev_hash: string };
export type ArchiveTrailer = {
  archive_end: { rows: number; last_seq: number; head_hash: string };
  /** The boundary of the retention this archive was made for, signed, with every month's span. */
  boundary: { log_id: string; seq: number; head_hash: string; first_seq: number; rows_removed: number; spans: MonthSpan[]; archives: string[]; retained_at: string; key_id: string; signature: string };
};

const ARCHIVE_BATCH = 10_000;

async function* spanRows(executor: Executor, span: MonthSpan): AsyncGenerator<ChainRow[]> {
  for (let after = span.first_seq - 1; after < span.last_seq; ) {
    const rows = rowsOf<Parameters<typeof toChainRow>[0]>(
      await executor.execute(sql`select ${CHAIN_COLUMNS} from account_logs where seq > ${after} and seq <= ${span.last_seq} order by seq limit ${ARCHIVE_BATCH}`),
    ).map(toChainRow);
    if (rows.length === 0) return;
    yield rows;
    after = rows.at(-1)!.seq;
  }
}

/**
 * Reads one month's rows, checking each against its hash and its link (a month about to leave is
 * verified first: rows edited there are refused, not archived and signed for), and writes them to
 * `file` when given: a header, the rows in seq order as the JSON export writes them, and a trailer
 * with the signed boundary. Written beside its final name (never over another file) and renamed
 * once complete and on disk, so a file with the final name is whole. Returns its SHA-256.
 */
async function readMonth(executor: Executor, span: MonthSpan, walker: ChainWalker, archive: { file: string; boundary: Boundary } | undefined): Promise<string | undefined> {
  const partial = archive && `${archive.file}.partial`;
  // A partial file under the retention lock is a crashed run's: it is replaced.
  if (partial) await fs.promises.rm(partial, { force: true });
  const handle = partial ? await fs.promises.open(partial, "wx", 0o600) : undefined;
  const digest = createHash("sha256");
  const write = async (text: string) => {
    if (!handle) return;
    await handle.write(text);
    digest.update(text);
  };
  try {
    let rows = 0;
    let last: ChainRow | undefined;
    if (archive) {
      const header: ArchiveHeader = { archive: "account-logs", version: 1, log_id: archive.boundary.logId, month: span.month, first_seq: span.first_seq, last_seq: span.last_seq, rows: span.rows, prev_hash: span.prev_hash };
      await write(`${JSON.stringify(header)}\n`);
    }
    for await (const batch of spanRows(executor, span)) {
      for (const row of batch) {
        const broken = walker.check(row, undefined, () => walker.recentIds());
        if (broken) throw new RetentionRefused(`The rows of ${span.month} do not verify (${broken.detail}): nothing was removed. Run npm run audit:verify.`);
      }
      await write(batch.map(ndjsonRow).join(""));
      rows += batch.length;
      last = batch.at(-1);
    }
    if (!last || rows !== span.rows || last.seq !== span.last_seq || last.hash !== span.head_hash) {
      throw new RetentionRefused(`${span.month} reads as ${rows} rows, not the ${span.rows} its counter holds: nothing was removed.`);
    }
    if (!archive || !handle || !partial) return undefined;
    const b = archive.boundary;
    const trailer: ArchiveTrailer = {
      archive_end: { rows, last_seq: last.seq, head_hash: last.hash },
      boundary: { log_id: b.logId, seq: b.seq, head_hash: b.headHash, first_seq: b.firstSeq, rows_removed: b.rowsRemoved, spans: b.spans, archives: b.archives, retained_at: b.retainedAt.toISOString(), key_id: b.keyId, signature: b.signature.toString("base64") },
    };
    await write(`${JSON.stringify(trailer)}\n`);
    await handle.sync();
    await handle.close();
    await fs.promises.rename(partial, archive.file);
    return digest.digest("hex");
  } catch (error) {
    await handle?.close().catch(() => {});
    if (partial) await fs.promises.rm(partial, { force: true });
    throw error;
  }
}

/** The folder's entry for a renamed file, on disk too: an archive must outlive a crash right after the months are dropped. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Only one retention at a time, across instances: an advisory lock held by its transaction (the owner's function takes it too). */
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
  | {
      status: "retained";
      months: string[];
      rows: number;
      boundarySeq: number;
      archives: { file: string; sha256: string }[];
      forcedStreams: string[];
      /** The whole run, and of it the reading (and archiving) and the removal itself. */
      seconds: number;
      archiveSeconds: number;
      dropSeconds: number;
    };

const DATABASE_REFUSALS = new Set(["55006", "P0002", "22023", "23514", "42501", "55P03"]);

/**
 * Applies retention: every month sealed before `before` leaves, oldest first (`docs/audit.md`,
 * "Retention"). In one transaction, holding the retention lock from the start: the checks (a
 * signing key for the boundary; an archive unless refused explicitly; no month still sealed
 * into; no unsealed row older than the cut; no active stream behind it unless forced by name; the
 * months one run of positions from where the log starts), each month read and verified row by
 * row and archived, then the owner's function, which checks again, removes the months with the
 * counters' share, stores the signed boundary and writes `logs_retained`. Archives of a run that
 * does not commit are removed.
 */
export async function retainMonths(request: RetentionRequest, executor?: Database): Promise<RetentionOutcome> {
  const started = Date.now();
  const db = executor ?? (await getDb());
  if (!request.archiveDir && !request.noArchive) throw new RetentionRefused("Give an archive folder (--archive DIR), or --no-archive to remove the months without one.");
  const signing = configuredSigningKey();
  if (!signing) throw new RetentionRefused("Retention signs the boundary it leaves: set AUDIT_SIGNING_KEY (npm run audit:key -- --new).");
  const written: string[] = [];
  let removing = false;
  try {
    return await db.transaction(async (tx) => {
      const [lock] = rowsOf<{ taken: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as taken`));
      if (!lock?.taken) return { status: "nothing" as const, reason: "Another retention is running (another instance's, or by hand): nothing to do here." };
      // The months' reading and archiving may take minutes at scale, with files written between
      // statements: the role's short timeouts are widened for this transaction only.
      await tx.execute(sql`set local statement_timeout = '15min'`);
      await tx.execute(sql`set local idle_in_transaction_session_timeout = '5min'`);
      // What the owner's function would refuse this role anyway, before any month is read.
      const [rights] = rowsOf<{ floor: number; privileged: boolean }>(
        await tx.execute(sql`
          select f.months as floor,
            session_user = (select r.rolname from pg_class c join pg_roles r on r.oid = c.relowner where c.oid = 'public.account_logs'::regclass)
              or coalesce((select r.rolsuper from pg_roles r where r.rolname = session_user), false) as privileged
          from account_log_retention_floor f`),
      );
      if (rights && !rights.privileged) {
        if (request.before > policyCutoff(new Date(), Number(rights.floor))) {
          throw new RetentionRefused(`The database's owner lets the app remove months older than ${rights.floor} months only (account_log_retention_floor): nothing was removed.`);
        }
        if (!request.archiveDir) throw new RetentionRefused("The app removes months only with their archives (--no-archive is for the database's owner): nothing was removed.");
      }
      const plan = await planRetention(tx, request.before);
      if (!plan) return { status: "nothing" as const, reason: `No sealed row is older than ${monthName(request.before)}.` };
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
      checkSpans(plan);
      const logId = await logIdOf(tx);
      const archiveNames = request.archiveDir ? plan.spans.map((span) => archiveFileName(logId, span.month)) : [];
      const boundary = signBoundary(signing.key, {
        logId,
        seq: plan.boundarySeq,
        headHash: plan.headHash,
        firstSeq: plan.firstSeq,
        rowsRemoved: plan.rows,
        spans: plan.spans,
        archives: archiveNames,
        retainedAt: new Date(),
      });
      const archiveStarted = Date.now();
      const archives: { file: string; sha256: string }[] = [];
      if (request.archiveDir) fs.mkdirSync(request.archiveDir, { recursive: true, mode: 0o700 });
      const walker = new ChainWalker(plan.origin.seq > 0 ? plan.origin : undefined);
      for (const [index, span] of plan.spans.entries()) {
        const file = request.archiveDir ? path.join(request.archiveDir, archiveNames[index]!) : undefined;
        if (file && fs.existsSync(file)) {
          // An earlier run's archive of this month, left by a run that did not commit (its months
          // are still here): kept beside, under another name, never written over.
          const aside = `${file}.superseded-${new Date().toISOString().replace(/[:.]/g, "-")}`;
          await fs.promises.rename(file, aside);
          logServerInfo("retention kept an earlier archive of this month aside", { file, aside });
        }
        const sha256 = await readMonth(tx, span, walker, file ? { file, boundary } : undefined);
        if (file && sha256) {
          written.push(file);
          archives.push({ file, sha256 });
        }
      }
      if (request.archiveDir) await syncFolder(request.archiveDir);
      const dropStarted = Date.now();
      // The owner's function holds the seal state while it runs: sealing waits at most this long.
      await tx.execute(sql`set local statement_timeout = '5min'`);
      const entry = {
        username: request.actor.username,
        username_normalized: normalizeUsername(request.actor.username),
        user_id: request.actor.userId,
        ip: request.context.ip ?? null,
        metadata: {
          ...requestMetadata(request.context),
          actor: request.actor,
          retention: {
            archives: archives.map((archive) => `${path.basename(archive.file)} sha256:${archive.sha256}`),
            ...(request.noArchive && { archive: "none (--no-archive)" }),
          },
        },
      };
      removing = true;
      await tx.execute(sql`select account_log_retain(${request.before.toISOString()}::timestamptz, ${boundary.seq}::bigint, decode(${boundary.headHash}, 'hex'),
        ${boundary.retainedAt.toISOString()}::timestamptz, ${boundary.keyId}, decode(${boundary.signature.toString("base64")}, 'base64'),
        ${JSON.stringify(boundary.spans)}::jsonb, ${sql.raw(`array[${archiveNames.map((name) => `'${name.replace(/'/g, "''")}'`).join(",")}]::text[]`)},
        ${sql.raw(`array[${forcedStreams.map((stream) => Number(stream.id)).join(",")}]::integer[]`)}, ${JSON.stringify(entry)}::jsonb)`);
      return {
        status: "retained" as const,
        months: plan.spans.map((span) => span.month),
        rows: boundary.rowsRemoved,
        boundarySeq: boundary.seq,
        archives,
        forcedStreams: forcedStreams.map((stream) => stream.name),
        seconds: (Date.now() - started) / 1000,
        archiveSeconds: (dropStarted - archiveStarted) / 1000,
        dropSeconds: (Date.now() - dropStarted) / 1000,
      };
    });
  } catch (error) {
    // Before the removal was asked for, nothing was removed: the run's archives go too. After
    // it, the commit may have happened whatever the error says: the archives stay, as they may
    // be the only copy of those months.
    if (!removing) for (const file of written) fs.rmSync(file, { force: true });
    else if (written.length > 0) logServerError("retention failed after the removal was asked for; its archives are kept", error, { archives: written });
    if (error instanceof RetentionRefused) throw error;
    const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    if (code && DATABASE_REFUSALS.has(code)) {
      const message = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new RetentionRefused(`The database refused: ${message}. Nothing was removed.`);
    }
    throw error;
  }
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
