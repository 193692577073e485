import { desc, sql } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import { accountLogVerifications } from "@/db/schema";
import { canonicalEncoding, chainHash, GENESIS_HASH, type ChainedFields } from "./canonical";
import { chainCopyQuery, scanChain } from "./chain-scan";

export type ChainRow = ChainedFields & { id: number; prevHash: string; hash: string };

export type BreakKind = "edited" | "removed" | "inserted" | "reordered";
export type ChainBreak = { id: number; kind: BreakKind; detail: string };

export type ChainHead = { id: number; hash: string };

/** Hashed fields exactly as `account_log_canonical` reads them, plus the chain columns. */
export const CHAIN_COLUMNS = sql.raw(`id,
  to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_at,
  username, username_truncated, username_normalized, user_id, result, host(ip) as ip,
  metadata::text as metadata, encode(prev_hash, 'hex') as prev_hash, encode(hash, 'hex') as hash`);

type RawChainRow = {
  id: number | string | bigint;
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

/** The newest row of the chain, or undefined for an empty log. */
export async function chainHead(executor: Executor): Promise<ChainHead | undefined> {
  const [row] = rowsOf<{ id: number | string | bigint; hash: string }>(
    await executor.execute(sql`select id, encode(hash, 'hex') as hash from account_logs order by id desc limit 1`),
  );
  return row ? { id: Number(row.id), hash: row.hash } : undefined;
}

/** The rows with `afterId < id <= throughId`, oldest first, at most `limit`. */
export async function readChainRows(executor: Executor, afterId: number, throughId: number, limit: number): Promise<ChainRow[]> {
  const result = await executor.execute(
    sql`select ${CHAIN_COLUMNS} from account_logs where id > ${afterId} and id <= ${throughId} order by id limit ${limit}`,
  );
  return rowsOf<RawChainRow>(result).map(toChainRow);
}

/** How many recent rows a broken link is compared against to tell insertions from removals. */
const RECENT_WINDOW = 10_000;

/**
 * Walks rows in ID order and finds the first break. A row whose fields do not give its hash was
 * edited, unless they give it under another nearby ID (then rows were reordered). A row whose
 * own hash is right but whose `prev_hash` is not the previous row's hash: if the next row links
 * to the previous one instead, or it links to an older row, rows were inserted; if it links to
 * a hash no row has, rows were removed.
 */
export class ChainWalker {
  private expectedPrev = GENESIS_HASH;
  private lastId: number | undefined;
  private recent: { id: number; hash: string }[] = [];
  rowsVerified = 0;

  /** A walk from the start, or from a row already verified (its ID and hash). */
  constructor(from?: ChainHead) {
    if (from) {
      this.expectedPrev = from.hash;
      this.lastId = from.id;
    }
  }

  /** The hash of the last row that verified: the head, once every row is walked. */
  get head(): ChainHead | undefined {
    return this.lastId === undefined ? undefined : { id: this.lastId, hash: this.expectedPrev };
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
    this.expectedPrev = row.hash;
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

export type VerifyProgress = { rowsVerified: number; lastId: number; throughId: number };

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
export async function verifyChain(
  executor: Executor,
  onProgress: (progress: VerifyProgress) => void = () => {},
  { copy }: { copy?: CopyOut } = {},
): Promise<VerifyOutcome> {
  const startedAt = new Date();
  const head = await chainHead(executor);
  if (!head) {
    // An empty log is intact only if no earlier run saw rows in it.
    const anchor = await checkLastVerifiedHead(executor, { id: 0, hash: GENESIS_HASH });
    return anchor ? { intact: false, rowsVerified: 0, head: undefined, startedAt, broken: anchor } : { intact: true, rowsVerified: 0, head: undefined, startedAt };
  }
  let from: { walker: ChainWalker; rowsBefore: number } = { walker: new ChainWalker(), rowsBefore: 0 };
  // Without a COPY stream (the embedded database, or one that could not be opened), the walk reads every row.
  const stream = copy ? await copy(chainCopyQuery(0, head.id)).catch(() => undefined) : undefined;
  if (stream) {
    let scan;
    try {
      scan = await scanChain(stream.chunks, Buffer.from(GENESIS_HASH, "hex"), (rows, lastId) => onProgress({ rowsVerified: rows, lastId, throughId: head.id }));
    } finally {
      // Stopped at a break, the COPY is cut short with its connection.
      await stream.close();
    }
    if (!scan.firstBad) return finishWalk(executor, { head, startedAt, rowsVerified: scan.rows, walkedHead: scan.last && { id: scan.last.id, hash: scan.last.hash.toString("hex") } });
    // Walk from a verified row well before the break, so the walk knows the recent rows it
    // compares a broken link with.
    from = await walkStartBefore(executor, scan.firstBad.id, scan.rows);
  }
  return walkChain(executor, head, startedAt, from, onProgress);
}

/** A verified row `RECENT_WINDOW` rows before `brokenId`, or the start of the log. */
async function walkStartBefore(executor: Executor, brokenId: number, rowsBefore: number): Promise<{ walker: ChainWalker; rowsBefore: number }> {
  const [row] = rowsOf<{ id: number | string; hash: string }>(
    await executor.execute(sql`select id, encode(hash, 'hex') as hash from account_logs where id < ${brokenId} order by id desc offset ${RECENT_WINDOW} limit 1`),
  );
  if (!row) return { walker: new ChainWalker(), rowsBefore: 0 };
  return { walker: new ChainWalker({ id: Number(row.id), hash: row.hash }), rowsBefore: rowsBefore - RECENT_WINDOW };
}

async function walkChain(
  executor: Executor,
  head: ChainHead,
  startedAt: Date,
  { walker, rowsBefore }: { walker: ChainWalker; rowsBefore: number },
  onProgress: (progress: VerifyProgress) => void,
): Promise<VerifyOutcome> {
  let afterId = walker.head?.id ?? 0;
  let carried: ChainRow | undefined;
  let reading = readChainRows(executor, afterId, head.id, BATCH);
  for (;;) {
    const batch = await reading;
    const done = batch.length < BATCH;
    // The database reads the next batch while this one is hashed: two cores, not one.
    if (!done) {
      reading = readChainRows(executor, batch.at(-1)!.id, head.id, BATCH);
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
      if (broken) return { intact: false, rowsVerified: rowsBefore + walker.rowsVerified, head, startedAt, broken };
    }
    carried = done ? undefined : rows.at(-1);
    afterId = batch.at(-1)?.id ?? afterId;
    onProgress({ rowsVerified: rowsBefore + walker.rowsVerified, lastId: afterId, throughId: head.id });
    if (done) break;
  }
  return finishWalk(executor, { head, startedAt, rowsVerified: rowsBefore + walker.rowsVerified, walkedHead: walker.head });
}

/** After a walk that found no break: the walk must end at the head, and the head must not be older than one verified before. */
async function finishWalk(
  executor: Executor,
  { head, startedAt, rowsVerified, walkedHead }: { head: ChainHead; startedAt: Date; rowsVerified: number; walkedHead: ChainHead | undefined },
): Promise<VerifyOutcome> {
  if (!walkedHead || walkedHead.id !== head.id || walkedHead.hash !== head.hash) {
    const broken: ChainBreak = { id: head.id, kind: "edited", detail: `the head row ID ${head.id} changed while it was read` };
    return { intact: false, rowsVerified, head, startedAt, broken };
  }
  const anchor = await checkLastVerifiedHead(executor, head);
  if (anchor) return { intact: false, rowsVerified, head, startedAt, broken: anchor };
  return { intact: true, rowsVerified, head, startedAt };
}

/**
 * Removing the newest rows leaves a chain that links up. The head an earlier run verified is
 * the anchor: that row must still be there, with the same hash.
 */
async function checkLastVerifiedHead(executor: Executor, head: ChainHead): Promise<ChainBreak | undefined> {
  const [last] = await executor
    .select({ throughId: accountLogVerifications.throughId, headHash: accountLogVerifications.headHash, finishedAt: accountLogVerifications.finishedAt })
    .from(accountLogVerifications)
    // A run over an empty log anchors nothing.
    .where(sql`${accountLogVerifications.intact} and ${accountLogVerifications.throughId} > 0`)
    .orderBy(desc(accountLogVerifications.id))
    .limit(1);
  if (!last || last.throughId > head.id) {
    if (!last) return undefined;
    return {
      id: last.throughId,
      kind: "removed",
      detail: `row ID ${last.throughId}, the head verified on ${last.finishedAt.toISOString()}, is gone: the newest rows were removed`,
    };
  }
  const [row] = rowsOf<{ hash: string }>(
    await executor.execute(sql`select encode(hash, 'hex') as hash from account_logs where id = ${last.throughId}`),
  );
  if (!row) {
    return { id: last.throughId, kind: "removed", detail: `row ID ${last.throughId}, a head verified on ${last.finishedAt.toISOString()}, is gone` };
  }
  if (row.hash !== last.headHash) {
    return {
      id: last.throughId,
      kind: "edited",
      detail: `row ID ${last.throughId} no longer has the hash verified on ${last.finishedAt.toISOString()}: the chain was rewritten from there`,
    };
  }
  return undefined;
}

/** Keeps the outcome, so the admin page can show how far the chain was verified, and when. */
export async function recordVerification(executor: Executor, outcome: VerifyOutcome): Promise<void> {
  await executor.insert(accountLogVerifications).values({
    startedAt: outcome.startedAt,
    throughId: outcome.head?.id ?? 0,
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
    | { finishedAt: Date; throughId: number; headHash: string; rowsVerified: number; intact: boolean; problem: string | null }
    | undefined;
};

/** What the admin page shows: the head now, and the last verification, in one round trip. */
export async function chainStatus(executor: Executor): Promise<ChainStatus> {
  const [row] = rowsOf<{
    head_id: number | string | null;
    head_hash: string | null;
    finished_at: string | Date | null;
    through_id: number | string | null;
    verified_head_hash: string | null;
    rows_verified: number | string | null;
    intact: boolean | null;
    problem: string | null;
  }>(
    await executor.execute(sql`
      select h.id as head_id, encode(h.hash, 'hex') as head_hash, v.finished_at, v.through_id,
        v.head_hash as verified_head_hash, v.rows_verified, v.intact, v.problem
      from (select 1) one
      left join lateral (select id, hash from account_logs order by id desc limit 1) h on true
      left join lateral (select * from ${accountLogVerifications} order by id desc limit 1) v on true`),
  );
  return {
    head: row?.head_id == null ? undefined : { id: Number(row.head_id), hash: row.head_hash! },
    lastVerification:
      row?.finished_at == null
        ? undefined
        : {
            finishedAt: new Date(row.finished_at),
            throughId: Number(row.through_id),
            headHash: row.verified_head_hash!,
            rowsVerified: Number(row.rows_verified),
            intact: Boolean(row.intact),
            problem: row.problem,
          },
  };
}
