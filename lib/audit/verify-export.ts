import fs from "node:fs";
import readline from "node:readline";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf, type Executor } from "@/db";
import { canonicalEncoding, chainHash, GENESIS_HASH, jsonbText } from "./canonical";
import { parseCsv, restoreFormula } from "./csv";
import { CSV_COLUMNS, CSV_TRAILER_RESULT, exportedRows, exportFilterSchema, isWholeLog, type ExportTrailer } from "./export";
import type { ChainRow } from "./verify";

/** A row as an export holds it: exports made before sealing have no `seq`. */
export type ExportedRow = Omit<ChainRow, "seq"> & { seq?: number };
type ExportEntry = { kind: "row"; row: ExportedRow } | { kind: "trailer"; trailer: ExportTrailer };

export class ExportFormatError extends Error {
  override name = "ExportFormatError";
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "64 hexadecimal digits");
const ndjsonRowSchema = z.object({
  id: z.number().int().positive(),
  seq: z.number().int().positive().optional(),
  username: z.string(),
  time: z.string(),
  result: z.string(),
  ip_address: z.string().nullable(),
  metadata: z.unknown(),
  username_truncated: z.boolean(),
  username_normalized: z.string(),
  user_id: z.number().int().nullable(),
  prev_hash: hex64,
  hash: hex64,
});
const trailerSchema = z.object({
  chain_head: z.object({ seq: z.number().int().nonnegative().optional(), id: z.number().int().nonnegative(), hash: hex64 }),
  exported_at: z.string(),
  filter: exportFilterSchema,
  rows: z.number().int().nonnegative(),
});

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join(".") || "value"}: ${issue.message}`;
}

async function* ndjsonEntries(file: string): AsyncGenerator<ExportEntry> {
  let lineNumber = 0;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file, "utf8"), crlfDelay: Infinity })) {
    lineNumber += 1;
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ExportFormatError(`Line ${lineNumber} is not JSON.`);
    }
    if (value && typeof value === "object" && "chain_head" in value) {
      const trailer = trailerSchema.safeParse(value);
      if (!trailer.success) throw new ExportFormatError(`Line ${lineNumber}, the trailer: ${describeIssue(trailer.error)}.`);
      const { chain_head, exported_at, filter, rows } = trailer.data;
      yield { kind: "trailer", trailer: { chainHead: chain_head, exportedAt: exported_at, filter, rows } };
      continue;
    }
    yield { kind: "row", row: ndjsonChainRow(value, lineNumber) };
  }
}

/** A row of an NDJSON export or archive, checked field by field. */
export function ndjsonChainRow(value: unknown, lineNumber: number): ExportedRow {
  const parsed = ndjsonRowSchema.safeParse(value);
  if (!parsed.success) throw new ExportFormatError(`Line ${lineNumber}: ${describeIssue(parsed.error)}.`);
  const row = parsed.data;
  return {
    id: row.id,
    seq: row.seq,
    occurredAt: row.time,
    username: row.username,
    usernameTruncated: row.username_truncated,
    usernameNormalized: row.username_normalized,
    userId: row.user_id,
    result: row.result,
    ip: row.ip_address,
    metadata: jsonbText(row.metadata),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The header of exports made before sealing, without `seq`. */
const UNSEALED_CSV_COLUMNS = CSV_COLUMNS.filter((column) => column !== "seq").join(",");

async function* csvEntries(file: string): AsyncGenerator<ExportEntry> {
  let recordNumber = 0;
  let columns = 0;
  for await (const raw of parseCsv(fs.createReadStream(file, "utf8"))) {
    recordNumber += 1;
    const cells = raw.map(restoreFormula);
    if (recordNumber === 1) {
      columns = cells.join(",") === CSV_COLUMNS.join(",") ? CSV_COLUMNS.length : cells.join(",") === UNSEALED_CSV_COLUMNS ? CSV_COLUMNS.length - 1 : 0;
      if (!columns) throw new ExportFormatError(`The header is not ${CSV_COLUMNS.join(",")}.`);
      continue;
    }
    if (cells.length !== columns) {
      throw new ExportFormatError(`Record ${recordNumber} has ${cells.length} cells, not ${columns}.`);
    }
    const [id, username, time, result, ip, metadata, truncated, normalized, userId, prevHash, hash, seqCell] = cells as [string, ...string[]];
    const seq = seqCell === undefined ? undefined : /^\d+$/.test(seqCell) ? Number(seqCell) : NaN;
    if (Number.isNaN(seq)) throw new ExportFormatError(`Record ${recordNumber} is malformed.`);
    if (result === CSV_TRAILER_RESULT) {
      const details = z.object({ rows: z.number().int().nonnegative(), filter: exportFilterSchema }).safeParse(safeJson(metadata!));
      const headHash = hex64.safeParse(hash);
      if (!details.success || !headHash.success || !/^\d+$/.test(id)) throw new ExportFormatError(`Record ${recordNumber}, the trailer, is malformed.`);
      yield {
        kind: "trailer",
        trailer: { chainHead: { seq, id: Number(id), hash: headHash.data }, exportedAt: time!, filter: details.data.filter, rows: details.data.rows },
      };
      continue;
    }
    if (!/^\d+$/.test(id) || !hex64.safeParse(prevHash).success || !hex64.safeParse(hash).success || !["true", "false"].includes(truncated!)) {
      throw new ExportFormatError(`Record ${recordNumber} is malformed.`);
    }
    yield {
      kind: "row",
      row: {
        id: Number(id),
        seq,
        occurredAt: time!,
        username: username!,
        usernameTruncated: truncated === "true",
        usernameNormalized: normalized!,
        userId: userId === "" ? null : Number(userId),
        result: result!,
        ip: ip === "" ? null : ip!,
        metadata: metadata!,
        prevHash: prevHash!,
        hash: hash!,
      },
    };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** NDJSON when the file starts with `{`, else CSV. */
async function exportEntries(file: string): Promise<AsyncGenerator<ExportEntry>> {
  const handle = await fs.promises.open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, 0);
    return bytesRead > 0 && buffer[0] === 0x7b ? ndjsonEntries(file) : csvEntries(file);
  } finally {
    await handle.close();
  }
}

export type ExportCheck =
  | { intact: true; rows: number; trailer: ExportTrailer; database: "matched" | "not checked" }
  | { intact: false; problem: string; id?: number };

/** Where a row stands in the export's order: its `seq` in a sealed export of the whole log, else its ID. */
type OrderKey = { name: "seq" | "ID"; of: (row: ExportedRow) => number };
const BY_SEQ: OrderKey = { name: "seq", of: (row) => row.seq! };
const BY_ID: OrderKey = { name: "ID", of: (row) => row.id };

/**
 * Checks an export against itself: every row gives its own hash, rows run newest first, the
 * trailer is there and counts them. An export of the whole log must also link up from the
 * head to the first row, position by position. With a database, the same selection is read again
 * up to the export's head and must match row for row, and the head must be in the database's chain.
 */
export async function checkExport(file: string, executor?: Executor): Promise<ExportCheck> {
  let trailer: ExportTrailer | undefined;
  let rows = 0;
  let newer: ExportedRow | undefined;
  let firstRow: ExportedRow | undefined;
  let newestSeq = 0;
  let sealed = true;
  // Both orders are followed until the trailer says which one the export must have.
  const orderBreak: Partial<Record<OrderKey["name"], { problem: string; id: number }>> = {};
  let linkBreak: { problem: string; id: number } | undefined;
  try {
    for await (const entry of await exportEntries(file)) {
      if (trailer) return { intact: false, problem: "There is data after the trailer: rows were added to the export." };
      if (entry.kind === "trailer") {
        trailer = entry.trailer;
        continue;
      }
      const { row } = entry;
      rows += 1;
      firstRow ??= row;
      if (row.seq === undefined) sealed = false;
      else newestSeq = Math.max(newestSeq, row.seq);
      if (chainHash(row.prevHash, canonicalEncoding(row)) !== row.hash) {
        return { intact: false, id: row.id, problem: `Row ID ${row.id} does not match its hash: it was edited in the export.` };
      }
      if (newer) {
        for (const key of [BY_SEQ, BY_ID]) {
          if (!orderBreak[key.name] && !(key.of(row) < key.of(newer))) {
            orderBreak[key.name] = { id: row.id, problem: `Row ID ${row.id} follows ID ${newer.id}: rows were reordered.` };
          }
        }
        const consecutive = row.seq === undefined || newer.seq === row.seq + 1;
        if (!linkBreak && (newer.prevHash !== row.hash || !consecutive)) {
          linkBreak = { id: newer.id, problem: `ID ${newer.id} does not link to ID ${row.id}: rows between them were removed or added.` };
        }
      }
      newer = row;
    }
  } catch (error) {
    if (error instanceof ExportFormatError) return { intact: false, problem: error.message };
    throw error;
  }
  if (!trailer) return { intact: false, problem: "The trailer with the chain head is missing: the export is incomplete or was cut." };
  if (trailer.rows !== rows) return { intact: false, problem: `The trailer counts ${trailer.rows} rows; the export holds ${rows}.` };
  const head = trailer.chainHead;
  sealed &&= head.seq !== undefined;
  const wholeLog = isWholeLog(trailer.filter);
  const order = sealed && wholeLog ? BY_SEQ : BY_ID;
  if (orderBreak[order.name]) return { intact: false, ...orderBreak[order.name]! };
  if (sealed ? newestSeq > head.seq! : firstRow && firstRow.id > head.id) {
    return { intact: false, id: firstRow!.id, problem: `Row ID ${firstRow!.id} is newer than the chain head at export, ID ${head.id}.` };
  }
  if (wholeLog) {
    // The whole log: it must be one chain from the head down to the first row ever written.
    if (linkBreak) return { intact: false, ...linkBreak };
    if (firstRow && (firstRow.id !== head.id || firstRow.hash !== head.hash)) {
      return { intact: false, id: firstRow.id, problem: `The newest row, ID ${firstRow.id}, is not the chain head the trailer names.` };
    }
    if (newer && (newer.prevHash !== GENESIS_HASH || (sealed && newer.seq !== 1))) {
      return { intact: false, id: newer.id, problem: `The oldest row, ID ${newer.id}, is not the first of the chain: older rows were removed.` };
    }
  }
  if (!executor) return { intact: true, rows, trailer, database: "not checked" };
  const againstDatabase = await compareWithDatabase(file, trailer, order, executor);
  return againstDatabase ?? { intact: true, rows, trailer, database: "matched" };
}

async function compareWithDatabase(file: string, trailer: ExportTrailer, order: OrderKey, executor: Executor): Promise<ExportCheck | undefined> {
  const head = trailer.chainHead;
  const [stored] = rowsOf<{ hash: string; seq: number | string }>(
    await executor.execute(sql`select encode(hash, 'hex') as hash, seq from account_logs where id = ${head.id} limit 1`),
  );
  if (!stored) return { intact: false, id: head.id, problem: `The export's chain head, ID ${head.id}, is not in the database.` };
  // An export made before sealing names its head by ID; those rows were sealed in ID order.
  if (stored.hash !== head.hash || Number(stored.seq) !== (head.seq ?? Number(stored.seq))) {
    return { intact: false, id: head.id, problem: `The database's row ID ${head.id} has another hash or position than the export's chain head.` };
  }
  const fromDatabase = exportedRows(executor, trailer.filter, Number(stored.seq));
  try {
    return await compareRows(file, fromDatabase, order);
  } finally {
    await fromDatabase.return(undefined);
  }
}

async function compareRows(file: string, fromDatabase: AsyncGenerator<ChainRow>, order: OrderKey): Promise<ExportCheck | undefined> {
  for await (const entry of await exportEntries(file)) {
    if (entry.kind !== "row") continue;
    const next = await fromDatabase.next();
    if (next.done) return { intact: false, id: entry.row.id, problem: `Row ID ${entry.row.id} is not in the database's selection.` };
    const expected = next.value;
    if (order.of(expected) !== order.of(entry.row)) {
      const missing = order.of(expected) > order.of(entry.row) ? expected.id : undefined;
      return {
        intact: false,
        id: missing ?? entry.row.id,
        problem: missing
          ? `The database holds row ID ${missing}, which the export lacks.`
          : `Row ID ${entry.row.id} is not in the database's selection.`,
      };
    }
    if (expected.id !== entry.row.id || expected.hash !== entry.row.hash || canonicalEncoding(expected) !== canonicalEncoding(entry.row)) {
      return { intact: false, id: expected.id, problem: `Row ID ${expected.id} differs from the database's row: one of them was changed.` };
    }
  }
  const extra = await fromDatabase.next();
  if (!extra.done) return { intact: false, id: extra.value.id, problem: `The database holds row ID ${extra.value.id}, which the export lacks.` };
  return undefined;
}
