import { sql, type SQL } from "drizzle-orm";
import { rowsOf, type Database, type Executor } from "@/db";
import { appendAccountLog } from "@/lib/account-log/record";
import { filtersOfExport, hasFilters, type ExportFilter } from "@/lib/account-log/filters";
import { selectRowIds, selectionSpanOf } from "@/lib/account-log/selection";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { csvRecord } from "./csv";
import { waitUntilSealed } from "./sealer";
import { CHAIN_COLUMNS, toChainRow, type ChainHead, type ChainRow } from "./verify";

export const EXPORT_FORMATS = ["csv", "ndjson"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export { exportFilterOf, exportFilterSchema, filtersOfExport, type ExportFilter } from "@/lib/account-log/filters";

export type ExportTrailer = {
  /** Exports made before sealing have no `seq`: their rows were chained in ID order. */
  chainHead: Omit<ChainHead, "seq"> & { seq?: number };
  exportedAt: string;
  filter: ExportFilter;
  rows: number;
};

/** An export of the whole log, which must then be one chain down to the first row. */
export function isWholeLog(filter: ExportFilter): boolean {
  return !hasFilters(filtersOfExport(filter));
}

const BATCH = 1_000;

/**
 * The rows an export holds, sealed at or before `throughSeq`, a batch at a time by keyset, so a
 * million rows stream with the memory of one batch. The whole log comes in chain order from the
 * head down (`seq`), so it links up row by row; a selection comes newest first by ID, as the page
 * shows it.
 */
export async function* exportedRows(executor: Executor, filter: ExportFilter, throughSeq: number): AsyncGenerator<ChainRow> {
  const read = async (statement: SQL) => rowsOf<Parameters<typeof toChainRow>[0]>(await executor.execute(statement)).map(toChainRow);
  let readBelow: (below: number | undefined) => Promise<ChainRow[]>;
  let cursorOf: (row: ChainRow) => number;
  if (isWholeLog(filter)) {
    readBelow = (below) =>
      read(sql`select ${CHAIN_COLUMNS} from account_logs where seq <= ${throughSeq} and seq < ${below ?? throughSeq + 1} order by seq desc limit ${BATCH}`);
    cursorOf = (row) => row.seq;
  } else {
    const filters = filtersOfExport(filter);
    const span = await selectionSpanOf(executor, filters);
    readBelow = async (below) => {
      const ids = await selectRowIds(executor, filters, span, { before: below, limit: BATCH });
      return ids ? read(sql`select ${CHAIN_COLUMNS} from account_logs where id in (${ids}) order by id desc`) : [];
    };
    cursorOf = (row) => row.id;
  }
  let reading = readBelow(undefined);
  for (;;) {
    const rows = await reading;
    const done = rows.length < BATCH;
    // The next batch is read while this one is encoded and sent.
    if (!done) {
      reading = readBelow(cursorOf(rows.at(-1)!));
      // Handled now: a slow client may keep this batch waiting while the next one fails.
      reading.catch(() => {});
    }
    // Rows sealed after the export's own row are left for the next export.
    for (const row of rows) if (row.seq <= throughSeq) yield row;
    if (done) return;
  }
}

export const CSV_COLUMNS = [
  "id",
  "username",
  "time",
  "result",
  "ip_address",
  "metadata",
  "username_truncated",
  "username_normalized",
  "user_id",
  "prev_hash",
  "hash",
  "seq",
] as const;

/** The result cell of the CSV's last record, which carries the chain head instead of a row. */
export const CSV_TRAILER_RESULT = "chain_head";

function csvRow(row: ChainRow): string {
  return csvRecord([
    row.id,
    row.username,
    row.occurredAt,
    row.result,
    row.ip,
    row.metadata as string,
    row.usernameTruncated,
    row.usernameNormalized,
    row.userId as number | null,
    row.prevHash,
    row.hash,
    row.seq,
  ]);
}

export function ndjsonRow(row: ChainRow): string {
  // The metadata is PostgreSQL's jsonb text already: valid JSON, embedded as it is.
  return (
    `{"id":${row.id},"seq":${row.seq},"username":${JSON.stringify(row.username)},"time":${JSON.stringify(row.occurredAt)},` +
    `"result":${JSON.stringify(row.result)},"ip_address":${JSON.stringify(row.ip)},"metadata":${row.metadata as string},` +
    `"username_truncated":${row.usernameTruncated},"username_normalized":${JSON.stringify(row.usernameNormalized)},` +
    `"user_id":${row.userId === null ? "null" : row.userId},"prev_hash":"${row.prevHash}","hash":"${row.hash}"}\n`
  );
}

/**
 * An export as text chunks: the rows newest first, then a trailer with the chain head at export
 * time, the filter and the row count. A file without its trailer is incomplete.
 */
export async function* exportChunks(
  executor: Executor,
  { filter, format, head, exportedAt }: { filter: ExportFilter; format: ExportFormat; head: ChainHead; exportedAt: Date },
): AsyncGenerator<string> {
  let rows = 0;
  let chunk = format === "csv" ? csvRecord([...CSV_COLUMNS]) : "";
  for await (const row of exportedRows(executor, filter, head.seq)) {
    chunk += format === "csv" ? csvRow(row) : ndjsonRow(row);
    rows += 1;
    if (rows % BATCH === 0) {
      yield chunk;
      chunk = "";
    }
  }
  const trailer: ExportTrailer = { chainHead: head, exportedAt: exportedAt.toISOString(), filter, rows };
  if (format === "csv") {
    chunk += csvRecord([head.id, filter.q, trailer.exportedAt, CSV_TRAILER_RESULT, null, JSON.stringify({ rows, filter }), null, null, null, null, head.hash, head.seq]);
  } else {
    chunk += `${JSON.stringify({ chain_head: head, exported_at: trailer.exportedAt, filter, rows })}\n`;
  }
  yield chunk;
}

/**
 * Writes `logs_exported` (who, from where, which format and filter), waits for it to be sealed,
 * and returns the chain position the export is cut at: the new row itself, so the export's
 * evidence includes its own record. Nothing is exported when this fails.
 */
export async function recordExport(
  db: Database,
  { admin, context, filter, format }: { admin: Pick<CurrentUser, "id" | "username">; context: RequestContext; filter: ExportFilter; format: ExportFormat },
): Promise<{ head: ChainHead; exportedAt: Date }> {
  const row = await db.transaction(async (tx) => {
    const [written] = await appendAccountLog(tx, [
      {
        username: admin.username,
        userId: admin.id,
        result: "logs_exported",
        ip: context.ip ?? null,
        metadata: { ...requestMetadata(context), actor: { userId: admin.id, username: admin.username, via: "admin page" }, export: { format, filter } },
      },
    ]);
    return written!;
  });
  const head = await waitUntilSealed(db, row.id);
  return { head, exportedAt: row.occurredAt };
}
