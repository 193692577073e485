import fs from "node:fs";
import readline from "node:readline";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf, type Executor } from "@/db";
import { canonicalEncoding, chainHash, GENESIS_HASH, jsonbText } from "./canonical";
import { parseCsv, restoreFormula } from "./csv";
import { CSV_COLUMNS, CSV_TRAILER_RESULT, exportedRows, exportFilterSchema, isWholeLog, type ExportTrailer } from "./export";
import type { ChainRow } from "./verify";

type ExportEntry = { kind: "row"; row: ChainRow } | { kind: "trailer"; trailer: ExportTrailer };

export class ExportFormatError extends Error {
  override name = "ExportFormatError";
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "64 hexadecimal digits");
const ndjsonRowSchema = z.object({
  id: z.number().int().positive(),
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
  chain_head: z.object({ id: z.number().int().nonnegative(), hash: hex64 }),
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
    const parsed = ndjsonRowSchema.safeParse(value);
    if (!parsed.success) throw new ExportFormatError(`Line ${lineNumber}: ${describeIssue(parsed.error)}.`);
    const row = parsed.data;
    yield {
      kind: "row",
      row: {
        id: row.id,
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
      },
    };
  }
}

async function* csvEntries(file: string): AsyncGenerator<ExportEntry> {
  let recordNumber = 0;
  for await (const raw of parseCsv(fs.createReadStream(file, "utf8"))) {
    recordNumber += 1;
    const cells = raw.map(restoreFormula);
    if (recordNumber === 1) {
      if (cells.join(",") !== CSV_COLUMNS.join(",")) throw new ExportFormatError(`The header is not ${CSV_COLUMNS.join(",")}.`);
      continue;
    }
    if (cells.length !== CSV_COLUMNS.length) {
      throw new ExportFormatError(`Record ${recordNumber} has ${cells.length} cells, not ${CSV_COLUMNS.length}.`);
    }
    const [id, username, time, result, ip, metadata, truncated, normalized, userId, prevHash, hash] = cells as [string, ...string[]];
    if (result === CSV_TRAILER_RESULT) {
      const details = z.object({ rows: z.number().int().nonnegative(), filter: exportFilterSchema }).safeParse(safeJson(metadata!));
      const headHash = hex64.safeParse(hash);
      if (!details.success || !headHash.success || !/^\d+$/.test(id)) throw new ExportFormatError(`Record ${recordNumber}, the trailer, is malformed.`);
      yield {
        kind: "trailer",
        trailer: { chainHead: { id: Number(id), hash: headHash.data }, exportedAt: time!, filter: details.data.filter, rows: details.data.rows },
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

/**
 * Checks an export against itself: every row gives its own hash, rows run newest first, the
 * trailer is there and counts them. An export of the whole log must also link up from the
 * head to the first row. With a database, the same selection is read again up to the export's
 * head and must match row for row, and the head must be in the database's chain.
 */
export async function checkExport(file: string, executor?: Executor): Promise<ExportCheck> {
  let trailer: ExportTrailer | undefined;
  let rows = 0;
  let newer: ChainRow | undefined;
  let firstRow: ChainRow | undefined;
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
      if (chainHash(row.prevHash, canonicalEncoding(row)) !== row.hash) {
        return { intact: false, id: row.id, problem: `Row ID ${row.id} does not match its hash: it was edited in the export.` };
      }
      if (newer && row.id >= newer.id) {
        return { intact: false, id: row.id, problem: `Row ID ${row.id} follows ID ${newer.id}: rows were reordered.` };
      }
      if (newer && !linkBreak && newer.prevHash !== row.hash) {
        linkBreak = { id: newer.id, problem: `ID ${newer.id} does not link to ID ${row.id}: rows between them were removed or added.` };
      }
      newer = row;
    }
  } catch (error) {
    if (error instanceof ExportFormatError) return { intact: false, problem: error.message };
    throw error;
  }
  if (!trailer) return { intact: false, problem: "The trailer with the chain head is missing: the export is incomplete or was cut." };
  if (trailer.rows !== rows) return { intact: false, problem: `The trailer counts ${trailer.rows} rows; the export holds ${rows}.` };
  if (firstRow && firstRow.id > trailer.chainHead.id) {
    return { intact: false, id: firstRow.id, problem: `Row ID ${firstRow.id} is newer than the chain head at export, ID ${trailer.chainHead.id}.` };
  }
  if (isWholeLog(trailer.filter)) {
    // The whole log: it must be one chain from the head down to the first row ever written.
    if (linkBreak) return { intact: false, ...linkBreak };
    if (firstRow && (firstRow.id !== trailer.chainHead.id || firstRow.hash !== trailer.chainHead.hash)) {
      return { intact: false, id: firstRow.id, problem: `The newest row, ID ${firstRow.id}, is not the chain head the trailer names.` };
    }
    if (newer && newer.prevHash !== GENESIS_HASH) {
      return { intact: false, id: newer.id, problem: `The oldest row, ID ${newer.id}, is not the first of the chain: older rows were removed.` };
    }
  }
  if (!executor) return { intact: true, rows, trailer, database: "not checked" };
  const againstDatabase = await compareWithDatabase(file, trailer, executor);
  return againstDatabase ?? { intact: true, rows, trailer, database: "matched" };
}

async function compareWithDatabase(file: string, trailer: ExportTrailer, executor: Executor): Promise<ExportCheck | undefined> {
  const head = trailer.chainHead;
  const [stored] = rowsOf<{ hash: string }>(
    await executor.execute(sql`select encode(hash, 'hex') as hash from account_logs where id = ${head.id}`),
  );
  if (!stored) return { intact: false, id: head.id, problem: `The export's chain head, ID ${head.id}, is not in the database.` };
  if (stored.hash !== head.hash) {
    return { intact: false, id: head.id, problem: `The database's row ID ${head.id} has another hash than the export's chain head.` };
  }
  const fromDatabase = exportedRows(executor, trailer.filter, head.id);
  try {
    return await compareRows(file, fromDatabase);
  } finally {
    await fromDatabase.return(undefined);
  }
}

async function compareRows(file: string, fromDatabase: AsyncGenerator<ChainRow>): Promise<ExportCheck | undefined> {
  for await (const entry of await exportEntries(file)) {
    if (entry.kind !== "row") continue;
    const next = await fromDatabase.next();
    if (next.done) return { intact: false, id: entry.row.id, problem: `Row ID ${entry.row.id} is not in the database's selection.` };
    const expected = next.value;
    if (expected.id !== entry.row.id) {
      const [missing, extra] = expected.id > entry.row.id ? [expected.id, entry.row.id] : [undefined, entry.row.id];
      return {
        intact: false,
        id: missing ?? extra,
        problem: missing
          ? `The database holds row ID ${missing}, which the export lacks.`
          : `Row ID ${extra} is not in the database's selection.`,
      };
    }
    if (expected.hash !== entry.row.hash || canonicalEncoding(expected) !== canonicalEncoding(entry.row)) {
      return { intact: false, id: expected.id, problem: `Row ID ${expected.id} differs from the database's row: one of them was changed.` };
    }
  }
  const extra = await fromDatabase.next();
  if (!extra.done) return { intact: false, id: extra.value.id, problem: `The database holds row ID ${extra.value.id}, which the export lacks.` };
  return undefined;
}
