import { desc, sql } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import { accountLogVerifications } from "@/db/schema";
import { canonicalEncoding, chainHash, GENESIS_HASH, type ChainedFields } from "./canonical";
import type { KeyObject } from "node:crypto";
import { chainCopyQuery, scanChain, type ScanOutcome } from "./chain-scan";
import { checkpointSignatureHolds, keyIdOf, type Checkpoint } from "./checkpoints";
import { boundarySignatureHolds, latestBoundary } from "./retention";

export type ChainRow = ChainedFields & { id: number; seq: number; prevHash: string; hash: string };

export type BreakKind = "edited" | "removed" | "inserted" | "reordered" | "truncated" | "rehashed" | "unsigned";
export type ChainBreak = { id: number; kind: BreakKind; detail: string };

/** A row of the chain by its position, its ID and its hash. */
export type ChainHead = { seq: number; id: number; hash: string };

/** Hashed fields exactly as `account_log_canonical` reads them, plus the chain columns. */
export const CHAIN_COLUMNS = sql.raw(`id, seq,
  to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_at,
  username, username_truncated, username_normalized, user_id, result, host(ip) as ip,
  metadata::text as metadata, encode(prev_hash, 'hex') as prev_hash, encode(hash, 'hex') as hash`);

type RawChainRow = {
  id: number | string | bigint;
  seq: number | string | bigint;
  occurred_at: string;
  username: string;
  username_truncated: boolean | string;
  username_normalized: string;
  user_id: number | string | null;
  result: string;
  ip: string | null;
  metadata: string;
  prev_hash: string;
  hash: string;
};

export function toChainRow(raw: RawChainRow): ChainRow {
  return {
    id: Number(raw.id),
    seq: Number(raw.seq),
    occurredAt: raw.occurred_at,
    username: raw.username,
    usernameTruncated: raw.username_truncated === true || raw.username_truncated === "t",
    usernameNormalized: raw.username_normalized,
    userId: raw.user_id === null ? null : Number(raw.user_id),
    result: raw.result,
    ip: raw.ip,
    metadata: raw.metadata,
    prevHash: raw.prev_hash,
    hash: raw.hash,
  };
}

type RawHead = { seq: number | string | bigint; id: number | string | bigint; hash: string };
const toHead = (row: RawHead): ChainHead => ({ seq: Number(row.seq), id: Number(row.id), hash: row.hash });

/** The newest sealed row of the chain, or undefined for an empty log. */
export async function chainHead(executor: Executor): Promise<ChainHead | undefined> {
  const [row] = rowsOf<RawHead>(await executor.execute(sql`select seq, id, encode(hash, 'hex') as hash from account_logs order by seq desc limit 1`));
  return row ? toHead(row) : undefined;
}

/** The rows with `afterSeq < seq <= throughSeq`, in chain order, at most `limit` (from 0: any below 1 too). */
export async function readChainRows(executor: Executor, afterSeq: number, throughSeq: number, limit: number): Promise<ChainRow[]> {
  const after = afterSeq > 0 ? sql`seq > ${afterSeq} and` : sql``;
  const result = await executor.execute(
    sql`select ${CHAIN_COLUMNS} from account_logs where ${after} seq <= ${throughSeq} order by seq limit ${limit}`,
  );
  return rowsOf<RawChainRow>(result).map(toChainRow);
}

/** How many recent rows a broken link is compared against to tell insertions from removals. */
const RECENT_WINDOW = 10_000;

/**
 * Walks rows in chain order (`seq`) and finds the first break. A row whose fields do not give its
 * hash was edited, unless they give it under another nearby ID (then rows were reordered). A row
 * whose own hash is right but whose `prev_hash` is not the previous row's hash: if the next row
 * links to the previous one instead, or it links to an older row, rows were inserted; if it links
 * to a hash no row has, rows were removed. A row that links but is not at the next position had
 * its position changed (`seq` is bound by the chain's order, not by the hash).
 */
export class ChainWalker {
  private expectedPrev = GENESIS_HASH;
  private lastSeq = 0;
  private lastId: number | undefined;
  private recent: { id: number; hash: string }[] = [];
  rowsVerified = 0;

  /** A walk from the start, or from a row already verified (its position, ID and hash). */
  constructor(from?: ChainHead) {
    if (from) {
      this.expectedPrev = from.hash;
      this.lastSeq = from.seq;
      this.lastId = from.id;
    }
  }

  /** The last row that verified: the head, once every row is walked. */
  get head(): ChainHead | undefined {
    return this.lastId === undefined ? undefined : { seq: this.lastSeq, id: this.lastId, hash: this.expectedPrev };
  }

  /** Checks `row`; `next` (the following row, when known) tells an insertion from a removal. */
  check(row: ChainRow, next: ChainRow | undefined, nearbyIds: () => number[]): ChainBreak | undefined {
    if (chainHash(row.prevHash, canonicalEncoding(row)) !== row.hash) {
      const writtenAs = nearbyIds().find((id) => id !== row.id && chainHash(row.prevHash, canonicalEncoding({ ...row, id })) === row.hash);
      if (writtenAs !== undefined) {
        return { id: row.id, kind: "reordered", detail: `the row at ID ${row.id} was written as ID ${writtenAs}: rows were reordered` };
      }
      return { id: row.id, kind: "edited", detail: `row ID ${row.id} does not match its hash: its fields or its hash were edited` };
    }
    if (row.prevHash !== this.expectedPrev) {
      const after = this.lastId === undefined ? "the start of the log" : `ID ${this.lastId}`;
      if (next && next.prevHash === this.expectedPrev) {
        return { id: row.id, kind: "inserted", detail: `row ID ${row.id} is not in the chain: ID ${next.id} links to ${after}, so ID ${row.id} was inserted` };
      }
      const linked = this.recent.findIndex((entry) => entry.hash === row.prevHash);
      if (linked >= 0) {
        const first = this.recent[linked + 1]!;
        return {
          id: first.id,
          kind: "inserted",
          detail: `rows ID ${first.id} to ${this.lastId} are not in the chain: ID ${row.id} links to ID ${this.recent[linked]!.id}, so they were inserted`,
        };
      }
      return {
        id: row.id,
        kind: "removed",
        detail: `row ID ${row.id} links to a row that is no longer there: rows between ${after} and ID ${row.id} were removed`,
      };
    }
    if (row.seq !== this.lastSeq + 1) {
      return {
        id: row.id,
        kind: row.seq > this.lastSeq + 1 ? "removed" : "inserted",
        detail: `row ID ${row.id} is at seq ${row.seq} where seq ${this.lastSeq + 1} should be: positions were changed`,
      };
    }
    this.expectedPrev = row.hash;
    this.lastSeq = row.seq;
    this.lastId = row.id;
    this.recent.push({ id: row.id, hash: row.hash });
    if (this.recent.length > RECENT_WINDOW * 2) this.recent = this.recent.slice(-RECENT_WINDOW);
    this.rowsVerified += 1;
    return undefined;
  }

  recentIds(): number[] {
    return this.recent.map((entry) => entry.id);
  }
}

export type VerifyProgress = { rowsVerified: number; lastSeq: number; throughSeq: number };

export type VerifyOutcome =
  | { intact: true; rowsVerified: number; head: ChainHead | undefined; startedAt: Date }
  | { intact: false; rowsVerified: number; head: ChainHead | undefined; startedAt: Date; broken: ChainBreak };

const BATCH = 20_000;

/** Opens a `COPY … TO STDOUT` of the database as raw bytes: PostgreSQL's, for the fast first pass. */
export type CopyOut = (query: string) => Promise<{ chunks: AsyncIterable<Buffer>; close: () => Promise<void> }>;

/**
 * Walks the whole chain up to the head as it was when the walk began (rows written meanwhile
 * are left for the next run). With `copy` (PostgreSQL), a fast first pass reads the rows as a
 * binary COPY and hashes them (`chain-scan.ts`); only if a row fails does the walk below read the
 * rows around it to say what happened. Without it, the walk reads every row, a batch at a time,
 * so memory stays flat at any size.
 */
/**
 * A fast first pass over the positions after `origin` through `head`, as `scanChain` answers;
 * undefined when it cannot run here (then the single COPY or the walk does).
 */
export type ChainScanner = (
  origin: ChainHead,
  head: ChainHead,
  onProgress: (rows: number, lastSeq: number) => void,
) => Promise<ScanOutcome | undefined>;

export type VerifyOptions = {
  /** A `COPY … TO STDOUT` opener (PostgreSQL): the fast first pass. */
  copy?: CopyOut;
  /** The fast pass in parallel ranges (`parallel-verify.ts`), tried before the single COPY. */
  scanner?: ChainScanner;
  /** Start after a position already proven (a signed checkpoint's), not from the first row. */
  start?: ChainHead;
  /** The signed checkpoints to hold the chain to, and the keys that signed them. */
  checkpoints?: CheckpointEvidence;
};

export type CheckpointEvidence = {
  checkpoints: Checkpoint[];
  publicKeys: KeyObject[];
  /** Set when a signing key is configured: a checkpoint is then written every so many rows. */
  expectedEvery?: number;
};

export async function verifyChain(executor: Executor, onProgress: (progress: VerifyProgress) => void = () => {}, options: VerifyOptions = {}): Promise<VerifyOutcome> {
  const boundaryBefore = (await latestBoundary(executor))?.seq;
  const outcome = await verifyChainOnce(executor, onProgress, options);
  if (outcome.intact) return outcome;
  // A retention that committed during the walk moves the log's start: walked again from it, a
  // break it caused is not reported as tampering.
  return (await latestBoundary(executor))?.seq !== boundaryBefore ? verifyChainOnce(executor, onProgress, options) : outcome;
}

async function verifyChainOnce(
  executor: Executor,
  onProgress: (progress: VerifyProgress) => void,
  { copy, scanner, start, checkpoints }: VerifyOptions,
): Promise<VerifyOutcome> {
  const startedAt = new Date();
  const head = await chainHead(executor);
  const logStart = await startOfLog(executor, checkpoints);
  if ("broken" in logStart) return { intact: false, rowsVerified: 0, head, startedAt, broken: logStart.broken };
  const origin = start ?? logStart.origin;
  const retainedThrough = logStart.origin.seq;
  if (!head || head.seq <= origin.seq) {
    // An empty log is intact only if no earlier run, and no checkpoint, saw rows in it.
    const ended = head ?? origin;
    const broken = (await checkLastVerifiedHead(executor, ended, retainedThrough)) ?? (checkpoints && (await checkCheckpoints(executor, ended, checkpoints, retainedThrough)));
    return broken ? { intact: false, rowsVerified: 0, head, startedAt, broken } : { intact: true, rowsVerified: 0, head, startedAt };
  }
  const fromStart = () => ({ walker: new ChainWalker(origin.seq > 0 ? origin : undefined), rowsBefore: 0 });
  let from: { walker: ChainWalker; rowsBefore: number } = fromStart();
  const progress = (rows: number, lastSeq: number) => onProgress({ rowsVerified: rows, lastSeq, throughSeq: head.seq });
  // In parallel ranges where it pays, else one COPY stream; without either (the embedded
  // database, or a stream that could not be opened), the walk reads every row.
  let scan = scanner ? await scanner(origin, head, progress).catch(() => undefined) : undefined;
  if (!scan && copy) {
    const stream = await copy(chainCopyQuery(origin.seq, head.seq)).catch(() => undefined);
    if (stream) {
      try {
        scan = await scanChain(stream.chunks, Buffer.from(origin.hash, "hex"), progress, origin.seq);
      } finally {
        // Stopped at a break, the COPY is cut short with its connection.
        await stream.close();
      }
    }
  }
  if (scan) {
    const walkedHead = scan.last && { seq: scan.last.seq, id: scan.last.id, hash: scan.last.hash.toString("hex") };
    if (!scan.firstBad) return finishWalk(executor, { head, startedAt, rowsVerified: scan.rows, walkedHead, checkpoints, retainedThrough });
    // Walk from a verified row well before the break, so the walk knows the recent rows it
    // compares a broken link with.
    from = (await walkStartBefore(executor, scan.last?.seq ?? origin.seq, scan.rows, origin.seq)) ?? fromStart();
  }
  return walkChain(executor, head, startedAt, from, onProgress, checkpoints, retainedThrough);
}

/**
 * Where the chain starts: the first row ever (seq 1, after the genesis hash), or, once retention
 * has removed months, the newest signed boundary, whose hash the first row left must link to.
 * A log that starts later than either lost its oldest rows behind the app's back.
 */
async function startOfLog(executor: Executor, evidence: CheckpointEvidence | undefined): Promise<{ origin: ChainHead } | { broken: ChainBreak }> {
  const read = async () => {
    const boundary = await latestBoundary(executor);
    const [first] = rowsOf<{ seq: number | string; id: number | string }>(await executor.execute(sql`select seq, id from account_logs order by seq limit 1`));
    return { boundary, firstSeq: first ? Number(first.seq) : undefined, firstId: first ? Number(first.id) : 0 };
  };
  let start = await read();
  // A retention that committed between the two reads: read again (boundaries only move forward).
  if (start.firstSeq !== undefined && start.firstSeq !== (start.boundary?.seq ?? 0) + 1) start = await read();
  const { boundary, firstSeq, firstId } = start;
  if (!boundary) {
    if (firstSeq !== undefined && firstSeq > 1) {
      return {
        broken: {
          id: firstId,
          kind: "removed",
          detail: `the log starts at seq ${firstSeq}: rows 1 to ${firstSeq - 1} are gone, and no signed retention boundary says they left, so they were removed behind the app's back`,
        },
      };
    }
    return { origin: { seq: 0, id: 0, hash: GENESIS_HASH } };
  }
  if (evidence) {
    const key = evidence.publicKeys.find((publicKey) => keyIdOf(publicKey) === boundary.keyId);
    if (!key) {
      return { broken: { id: firstId, kind: "unsigned", detail: `the retention boundary at seq ${boundary.seq} is signed by key ${boundary.keyId}, which was not given: pass its public key with --public-key` } };
    }
    if (!boundarySignatureHolds(boundary, key)) {
      return { broken: { id: firstId, kind: "unsigned", detail: `the retention boundary at seq ${boundary.seq} does not carry a good signature of key ${boundary.keyId}: it was written or changed without the key` } };
    }
  }
  // Every retention writes its log row with its boundary, in the same transaction: a signed
  // boundary without one (a signature left from a run that did not commit) licenses nothing.
  const [logged] = rowsOf<{ found: boolean }>(
    await executor.execute(sql`
      select exists(select from account_logs where result = 'logs_retained' and seq > ${boundary.seq}
          and metadata->'retention'->>'boundarySeq' = ${String(boundary.seq)})
        or exists(select from account_log_inbox where result = 'logs_retained' and metadata->'retention'->>'boundarySeq' = ${String(boundary.seq)}) as found`),
  );
  if (!logged?.found) {
    return { broken: { id: firstId, kind: "removed", detail: `the retention boundary at seq ${boundary.seq} has no logs_retained row: rows 1 to ${boundary.seq} were removed outside retention` } };
  }
  if (firstSeq !== undefined && firstSeq !== boundary.seq + 1) {
    return {
      broken:
        firstSeq > boundary.seq + 1
          ? { id: firstId, kind: "removed", detail: `retention removed rows through seq ${boundary.seq}, but the log starts at seq ${firstSeq}: rows ${boundary.seq + 1} to ${firstSeq - 1} were removed behind the app's back` }
          : { id: firstId, kind: "inserted", detail: `the log starts at seq ${firstSeq}, at or below the retention boundary at seq ${boundary.seq}: rows were put back below it` },
    };
  }
  return { origin: { seq: boundary.seq, id: 0, hash: boundary.headHash } };
}

/** A verified row `RECENT_WINDOW` positions before `verifiedSeq`, the last that held, if after `originSeq`. */
async function walkStartBefore(
  executor: Executor,
  verifiedSeq: number,
  rowsBefore: number,
  originSeq: number,
): Promise<{ walker: ChainWalker; rowsBefore: number } | undefined> {
  const startSeq = verifiedSeq - RECENT_WINDOW;
  if (startSeq <= originSeq) return undefined;
  const [row] = rowsOf<RawHead>(
    await executor.execute(sql`select seq, id, encode(hash, 'hex') as hash from account_logs where seq = ${startSeq} limit 1`),
  );
  if (!row) return undefined;
  return { walker: new ChainWalker(toHead(row)), rowsBefore: rowsBefore - RECENT_WINDOW };
}

async function walkChain(
  executor: Executor,
  head: ChainHead,
  startedAt: Date,
  { walker, rowsBefore }: { walker: ChainWalker; rowsBefore: number },
  onProgress: (progress: VerifyProgress) => void,
  checkpoints: CheckpointEvidence | undefined,
  retainedThrough: number,
): Promise<VerifyOutcome> {
  const broken = await walkRows(executor, walker, head.seq, (lastSeq) =>
    onProgress({ rowsVerified: rowsBefore + walker.rowsVerified, lastSeq, throughSeq: head.seq }),
  );
  if (broken) return { intact: false, rowsVerified: rowsBefore + walker.rowsVerified, head, startedAt, broken };
  return finishWalk(executor, { head, startedAt, rowsVerified: rowsBefore + walker.rowsVerified, walkedHead: walker.head, checkpoints, retainedThrough });
}

/**
 * Walks the rows after the walker's head through `throughSeq`, a batch at a time, and returns
 * the first break; `walker.head` is then the last row that held.
 */
export async function walkRows(
  executor: Executor,
  walker: ChainWalker,
  throughSeq: number,
  onBatch: (lastSeq: number) => void = () => {},
): Promise<ChainBreak | undefined> {
  let afterSeq = walker.head?.seq ?? 0;
  let carried: ChainRow | undefined;
  let reading = readChainRows(executor, afterSeq, throughSeq, BATCH);
  for (;;) {
    const batch = await reading;
    const done = batch.length < BATCH;
    // The database reads the next batch while this one is hashed: two cores, not one.
    if (!done) {
      reading = readChainRows(executor, batch.at(-1)!.seq, throughSeq, BATCH);
      // Handled now, so a failure while this batch is hashed is not an unhandled rejection;
      // awaiting it below still throws.
      reading.catch(() => {});
    }
    const rows = carried ? [carried, ...batch] : batch;
    // The last row waits for the next batch, which holds the row after it.
    const checkUpTo = done ? rows.length : rows.length - 1;
    const nearbyIds = () => [...new Set([...walker.recentIds(), ...rows.map((row) => row.id)])];
    for (let i = 0; i < checkUpTo; i++) {
      const broken = walker.check(rows[i]!, rows[i + 1], nearbyIds);
      if (broken) return broken;
    }
    carried = done ? undefined : rows.at(-1);
    afterSeq = batch.at(-1)?.seq ?? afterSeq;
    onBatch(afterSeq);
    if (done) return undefined;
  }
}

/**
 * After a walk that found no break: the walk must end at the head, the head must not be older
 * than one verified before, and every signed checkpoint must hold.
 */
async function finishWalk(
  executor: Executor,
  {
    head,
    startedAt,
    rowsVerified,
    walkedHead,
    checkpoints,
    retainedThrough,
  }: { head: ChainHead; startedAt: Date; rowsVerified: number; walkedHead: ChainHead | undefined; checkpoints: CheckpointEvidence | undefined; retainedThrough: number },
): Promise<VerifyOutcome> {
  if (!walkedHead || walkedHead.seq !== head.seq || walkedHead.hash !== head.hash) {
    const broken: ChainBreak = { id: head.id, kind: "edited", detail: `the head row ID ${head.id} changed while it was read` };
    return { intact: false, rowsVerified, head, startedAt, broken };
  }
  const anchor = (await checkLastVerifiedHead(executor, head, retainedThrough)) ?? (checkpoints && (await checkCheckpoints(executor, head, checkpoints, retainedThrough)));
  if (anchor) return { intact: false, rowsVerified, head, startedAt, broken: anchor };
  return { intact: true, rowsVerified, head, startedAt };
}

/**
 * Holds the chain to its signed checkpoints, oldest first: each must carry a good signature from
 * a given key, name a position the log still reaches, and name the hash the log has there. A
 * chain that links up but differs from a checkpoint was re-hashed by someone without the key.
 */
export async function checkCheckpoints(
  executor: Executor,
  head: ChainHead,
  evidence: CheckpointEvidence,
  /** Rows through this seq left by retention: the checkpoints over them are its archives' business. */
  retainedThrough = 0,
): Promise<ChainBreak | undefined> {
  const { publicKeys, expectedEvery } = evidence;
  const checkpoints = evidence.checkpoints.filter((checkpoint) => checkpoint.seq > retainedThrough);
  if (checkpoints.length === 0) {
    if (expectedEvery === undefined || head.seq - retainedThrough <= expectedEvery) return undefined;
    return {
      id: head.id,
      kind: "unsigned",
      detail: `no signed checkpoint of this log exists, though a signing key is configured and the log has ${head.seq} rows (one is written every ${expectedEvery}): they were removed, or the log's ID was changed`,
    };
  }
  const keys = new Map(publicKeys.map((key) => [keyIdOf(key), key]));
  const stored = new Map(
    rowsOf<{ seq: number | string; id: number | string; hash: string }>(
      await executor.execute(sql`select seq, id, encode(hash, 'hex') as hash from account_logs
        where seq in (${sql.join(checkpoints.map((checkpoint) => sql`${checkpoint.seq}::bigint`), sql`, `)})`),
    ).map((row) => [Number(row.seq), { id: Number(row.id), hash: row.hash }]),
  );
  for (const checkpoint of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    const signed = `signed on ${checkpoint.signedAt.toISOString()}`;
    const key = keys.get(checkpoint.keyId);
    if (!key) {
      return {
        id: 0,
        kind: "unsigned",
        detail: `the checkpoint at seq ${checkpoint.seq} (${signed}) is signed by key ${checkpoint.keyId}, which was not given: pass its public key with --public-key`,
      };
    }
    if (!checkpointSignatureHolds(checkpoint, key)) {
      return {
        id: 0,
        kind: "unsigned",
        detail: `the checkpoint at seq ${checkpoint.seq} does not carry a good signature of key ${checkpoint.keyId}: it was written or changed without the key`,
      };
    }
    if (checkpoint.seq > head.seq) {
      return {
        id: head.id,
        kind: "truncated",
        detail: `checkpoint at seq ${checkpoint.seq} says ${checkpoint.rowCount} rows; the log ends at seq ${head.seq}: rows after it were removed`,
      };
    }
    const row = stored.get(checkpoint.seq);
    if (!row) {
      return { id: 0, kind: "removed", detail: `the row at seq ${checkpoint.seq}, named by the checkpoint ${signed}, is gone` };
    }
    if (row.hash !== checkpoint.headHash) {
      return {
        id: row.id,
        kind: "rehashed",
        detail: `the row at seq ${checkpoint.seq} (ID ${row.id}) has another hash than the checkpoint ${signed}: the chain was re-hashed without the signing key`,
      };
    }
  }
  return undefined;
}

/**
 * Removing the newest rows leaves a chain that links up. The head an earlier run verified is
 * the anchor: that row must still be there, with the same hash.
 */
async function checkLastVerifiedHead(executor: Executor, head: ChainHead, retainedThrough = 0): Promise<ChainBreak | undefined> {
  const [last] = await executor
    .select({ throughSeq: accountLogVerifications.throughSeq, headHash: accountLogVerifications.headHash, finishedAt: accountLogVerifications.finishedAt })
    .from(accountLogVerifications)
    // A run over an empty log anchors nothing.
    .where(sql`${accountLogVerifications.intact} and ${accountLogVerifications.throughSeq} > 0`)
    .orderBy(desc(accountLogVerifications.id))
    .limit(1);
  // A head that retention has since removed anchors nothing any more.
  if (!last || last.throughSeq <= retainedThrough) return undefined;
  const verifiedOn = last.finishedAt.toISOString();
  if (last.throughSeq > head.seq) {
    return {
      id: head.id,
      kind: "removed",
      detail: `the row at seq ${last.throughSeq}, the head verified on ${verifiedOn}, is gone: the log ends at seq ${head.seq}, so the newest rows were removed`,
    };
  }
  const [row] = rowsOf<RawHead>(
    await executor.execute(sql`select seq, id, encode(hash, 'hex') as hash from account_logs where seq = ${last.throughSeq} limit 1`),
  );
  if (!row) {
    return { id: head.id, kind: "removed", detail: `the row at seq ${last.throughSeq}, a head verified on ${verifiedOn}, is gone` };
  }
  if (row.hash !== last.headHash) {
    return {
      id: Number(row.id),
      kind: "edited",
      detail: `row ID ${row.id} at seq ${row.seq} no longer has the hash verified on ${verifiedOn}: the chain was rewritten from there`,
    };
  }
  return undefined;
}

/**
 * Keeps the outcome, so the admin page can show how far the chain was verified, and when. Only
 * the database's owner may (db/roles/app-role.sql): the app's own role cannot vouch for the log.
 */
export async function recordVerification(executor: Executor, outcome: VerifyOutcome): Promise<void> {
  await executor.insert(accountLogVerifications).values({
    startedAt: outcome.startedAt,
    throughSeq: outcome.head?.seq ?? 0,
    headHash: outcome.head?.hash ?? GENESIS_HASH,
    rowsVerified: outcome.rowsVerified,
    intact: outcome.intact,
    problem: outcome.intact ? null : `${outcome.broken.kind}: ${outcome.broken.detail}`,
    brokenAtId: outcome.intact ? null : outcome.broken.id,
  });
}

export type ChainStatus = {
  head: ChainHead | undefined;
  lastVerification:
    | { finishedAt: Date; throughSeq: number; headHash: string; rowsVerified: number; intact: boolean; problem: string | null }
    | undefined;
  /** Committed rows not sealed yet, and when the oldest of them was written. */
  unsealed: { rows: number; oldestAt: Date | null };
  /** The newest signed checkpoint. */
  lastCheckpoint: { seq: number; signedAt: Date } | undefined;
  /** The log's monthly partitions reach this time; the sealer adds them two months ahead. */
  partitionsUntil: Date | null;
  /** The newest retention: where the log now starts. */
  retention?: { seq: number; rowsRemoved: number; months: string[]; archives: string[]; retainedAt: Date };
};

/** What the admin page shows: the head now, sealing, the last checkpoint and verification, in one round trip. */
export async function chainStatus(executor: Executor): Promise<ChainStatus> {
  const [row] = rowsOf<{
    head_seq: number | string | null;
    head_id: number | string | null;
    head_hash: string | null;
    waiting: number | string;
    oldest_waiting: string | Date | null;
    checkpoint_seq: number | string | null;
    checkpoint_at: string | Date | null;
    finished_at: string | Date | null;
    through_seq: number | string | null;
    verified_head_hash: string | null;
    rows_verified: number | string | null;
    intact: boolean | null;
    problem: string | null;
    partitions_until: string | Date | null;
  }>(
    await executor.execute(sql`
      select (select partitions_until from account_log_seal_state) as partitions_until,
        h.seq as head_seq, h.id as head_id, encode(h.hash, 'hex') as head_hash,
        (select count(*) from account_log_inbox) as waiting,
        (select i.occurred_at from account_log_inbox i order by i.id limit 1) as oldest_waiting,
        c.seq as checkpoint_seq, c.signed_at as checkpoint_at,
        v.finished_at, v.through_seq, v.head_hash as verified_head_hash, v.rows_verified, v.intact, v.problem
      from (select 1) one
      left join lateral (select seq, id, hash from account_logs order by seq desc limit 1) h on true
      left join lateral (select seq, signed_at from account_log_checkpoints order by seq desc limit 1) c on true
      left join lateral (select * from ${accountLogVerifications} order by id desc limit 1) v on true`),
  );
  const boundary = await latestBoundary(executor);
  return {
    ...(boundary && {
      retention: { seq: boundary.seq, rowsRemoved: boundary.rowsRemoved, months: boundary.spans.map((span) => span.month), archives: boundary.archives, retainedAt: boundary.retainedAt },
    }),
    head: row?.head_seq == null ? undefined : toHead({ seq: row.head_seq, id: row.head_id!, hash: row.head_hash! }),
    unsealed: { rows: Number(row?.waiting ?? 0), oldestAt: row?.oldest_waiting == null ? null : new Date(row.oldest_waiting) },
    lastCheckpoint: row?.checkpoint_seq == null ? undefined : { seq: Number(row.checkpoint_seq), signedAt: new Date(row.checkpoint_at!) },
    partitionsUntil: row?.partitions_until == null ? null : new Date(row.partitions_until),
    lastVerification:
      row?.finished_at == null
        ? undefined
        : {
            finishedAt: new Date(row.finished_at),
            throughSeq: Number(row.through_seq),
            headHash: row.verified_head_hash!,
            rowsVerified: Number(row.rows_verified),
            intact: Boolean(row.intact),
            problem: row.problem,
          },
  };
}
