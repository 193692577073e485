import { sql } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import { filterConditions, hasFilters, type AccountLogFilters } from "@/lib/account-log/filters";
import { resolveUsernameKeys } from "@/lib/account-log/selection";
import { CHAIN_COLUMNS, toChainRow, type ChainRow } from "@/lib/audit/verify";

export const API_LIMIT_DEFAULT = 100;
export const API_LIMIT_MAX = 1_000;
/** Sealed rows a filtered page reads at most: a sparse filter answers within this many and moves on. */
export const API_SCAN_ROWS = 10_000;

export type ApiPage = {
  rows: ChainRow[];
  /** The cursor for the next page: the last `seq` returned, or with a filter the last one read. */
  nextAfter: number;
  /** The newest sealed position when the page was read: a reader at it has every sealed row. */
  sealedThrough: number;
  /** The log's identity: a cursor kept for another log (a restored or new database) is not valid here. */
  logId: string;
};

/**
 * Sealed rows after `after`, in `seq` order. `seq` is given out gaplessly and in commit order by
 * the sealer, so a reader that keeps `nextAfter` never misses a row and never sees one twice;
 * rows written but not sealed yet are not read, and appear on a later page.
 *
 * With filters, at most `scanRows` (`API_SCAN_ROWS`) rows past the cursor are read and the page holds those
 * that match (up to `limit`): `nextAfter` is the last row read when the page is not full, so an
 * empty page still moves the cursor, and a filter that matches nothing reaches the head in
 * bounded steps.
 */
export async function readApiPage(
  executor: Executor,
  { after, limit, filters, scanRows = API_SCAN_ROWS }: { after: number; limit: number; filters: AccountLogFilters; scanRows?: number },
): Promise<ApiPage> {
  if (!hasFilters(filters)) {
    const rows = rowsOf<Parameters<typeof toChainRow>[0] & { sealed_through: string | number; log_id: string }>(
      await executor.execute(sql`
        select ${CHAIN_COLUMNS}, s.sealed_through, s.log_id
        from (select seq as sealed_through, log_id::text as log_id from account_log_seal_state) s left join lateral (
          select * from account_logs where seq > ${after} order by seq limit ${limit}) l on true
        order by l.seq`),
    );
    const [state] = rows;
    const read = rows.filter((row) => row.seq !== null).map(toChainRow);
    return { rows: read, nextAfter: read.length ? read.at(-1)!.seq : after, sealedThrough: Number(state?.sealed_through ?? 0), logId: state?.log_id ?? "" };
  }
  // The position first, then the usernames: the sealer commits a new username with its rows, so
  // every row up to this position has its username visible to the look-up below. A row sealed
  // after it is left for the next page, not read with a stale list and skipped.
  const { sealedThrough, logId } = await sealedPosition(executor);
  const resolved = await resolveUsernameKeys(executor, filters);
  const conditions = filterConditions(resolved);
  const [window] = rowsOf<{ read_to: string | number | null; rows: string | null }>(
    await executor.execute(sql`
      with scanned as materialized (
        select * from account_logs where seq > ${after} and seq <= ${sealedThrough} order by seq limit ${scanRows})
      select (select max(seq) from scanned) as read_to,
        (select json_agg(m order by m.seq)::text from (
          select ${CHAIN_COLUMNS} from scanned l where ${sql.join(conditions, sql` and `)} order by seq limit ${limit}) m) as rows`),
  );
  const rows = window?.rows ? (JSON.parse(window.rows) as Parameters<typeof toChainRow>[0][]).map(toChainRow) : [];
  const readTo = window?.read_to == null ? after : Number(window.read_to);
  // A full page may stop before the rows read: the next page starts after its last row.
  const nextAfter = rows.length === limit ? rows.at(-1)!.seq : readTo;
  return { rows, nextAfter, sealedThrough, logId };
}

async function sealedPosition(executor: Executor): Promise<{ sealedThrough: number; logId: string }> {
  const [row] = rowsOf<{ seq: string | number; log_id: string }>(await executor.execute(sql`select seq, log_id::text as log_id from account_log_seal_state`));
  return { sealedThrough: Number(row?.seq ?? 0), logId: row?.log_id ?? "" };
}
