import type { KeyObject } from "node:crypto";
import fs from "node:fs";
import readline from "node:readline";
import { z } from "zod";
import { canonicalEncoding, chainHash } from "./canonical";
import { keyIdOf } from "./checkpoints";
import { boundarySignatureHolds, type ArchiveHeader } from "./retention";
import { ExportFormatError, ndjsonChainRow } from "./verify-export";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "64 hexadecimal digits");
const seq = z.number().int().positive();
const headerSchema = z.object({
  archive: z.literal("account-logs"),
  version: z.literal(1),
  log_id: z.string().uuid(),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  first_seq: seq,
  last_seq: seq,
  rows: z.number().int().positive(),
  prev_hash: hex64,
});
const trailerSchema = z.object({
  archive_end: z.object({ rows: z.number().int().positive(), last_seq: seq, head_hash: hex64 }),
  boundary: z.object({
    log_id: z.string().uuid(),
    seq,
    head_hash: hex64,
    first_seq: seq,
    rows_removed: z.number().int().positive(),
    spans: z.array(z.object({ month: z.string(), first_seq: seq, last_seq: seq, rows: z.number().int().positive(), prev_hash: hex64, head_hash: hex64 })),
    archives: z.array(z.string()),
    retained_at: z.string(),
    key_id: z.string(),
    signature: z.string(),
  }),
});

export type ArchiveCheck =
  | { intact: true; header: ArchiveHeader; rows: number; headHash: string; boundarySeq: number; signature: "held" | "not checked" }
  | { intact: false; problem: string };

/** Whether a file is a retention archive (its first line names itself), not an export. */
export async function isArchive(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    return buffer.subarray(0, bytesRead).toString("utf8").startsWith('{"archive":"account-logs"');
  } finally {
    await handle.close();
  }
}

/**
 * Checks a month's archive offline: every row gives its own hash and links to the one before,
 * at consecutive positions, from the header's `prev_hash` to the trailer's head; the counts
 * agree; and the boundary it was made for is signed by one of `publicKeys` (when given) and
 * covers this month. Archives of consecutive months link up: each one's `prev_hash` is the
 * previous one's head.
 */
export async function checkArchive(file: string, publicKeys: KeyObject[] = []): Promise<ArchiveCheck> {
  let header: ArchiveHeader | undefined;
  let trailer: z.infer<typeof trailerSchema> | undefined;
  let rows = 0;
  let expectedPrev = "";
  let expectedSeq = 0;
  let lineNumber = 0;
  try {
    for await (const line of readline.createInterface({ input: fs.createReadStream(file, "utf8"), crlfDelay: Infinity })) {
      lineNumber += 1;
      if (line === "") continue;
      if (trailer) return { intact: false, problem: "There is data after the trailer: rows were added to the archive." };
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return { intact: false, problem: `Line ${lineNumber} is not JSON.` };
      }
      if (!header) {
        const parsed = headerSchema.safeParse(value);
        if (!parsed.success) return { intact: false, problem: "The first line is not an archive header." };
        header = parsed.data;
        expectedPrev = header.prev_hash;
        expectedSeq = header.first_seq;
        continue;
      }
      if (value && typeof value === "object" && "archive_end" in value) {
        const parsed = trailerSchema.safeParse(value);
        if (!parsed.success) return { intact: false, problem: `Line ${lineNumber}, the trailer, is malformed.` };
        trailer = parsed.data;
        continue;
      }
      const row = ndjsonChainRow(value, lineNumber);
      rows += 1;
      if (chainHash(row.prevHash, canonicalEncoding(row)) !== row.hash) return { intact: false, problem: `Row ID ${row.id} does not match its hash: it was edited in the archive.` };
      if (row.prevHash !== expectedPrev) return { intact: false, problem: `Row ID ${row.id} does not link to the row before it: rows were removed or added.` };
      if (row.seq !== expectedSeq) return { intact: false, problem: `Row ID ${row.id} is at seq ${row.seq} where seq ${expectedSeq} should be.` };
      expectedPrev = row.hash;
      expectedSeq += 1;
    }
  } catch (error) {
    if (error instanceof ExportFormatError) return { intact: false, problem: error.message };
    throw error;
  }
  if (!header) return { intact: false, problem: "The archive is empty." };
  if (!trailer) return { intact: false, problem: "The trailer is missing: the archive is incomplete or was cut." };
  const end = trailer.archive_end;
  if (end.rows !== rows || header.rows !== rows) return { intact: false, problem: `The archive says ${header.rows} rows (trailer ${end.rows}); it holds ${rows}.` };
  if (end.last_seq !== expectedSeq - 1 || header.last_seq !== end.last_seq || end.head_hash !== expectedPrev) {
    return { intact: false, problem: "The last row is not the head the trailer names: rows were removed from the end." };
  }
  const b = trailer.boundary;
  // The month's own span in the signed boundary: its positions, rows and both end hashes, so an
  // archive edited and re-hashed from its first row does not match what was signed.
  const span = b.spans.find((candidate) => candidate.month === header.month);
  if (b.log_id !== header.log_id || !span) return { intact: false, problem: "The boundary the archive carries does not name its month." };
  if (span.first_seq !== header.first_seq || span.last_seq !== end.last_seq || span.rows !== rows || span.prev_hash !== header.prev_hash || span.head_hash !== end.head_hash) {
    return { intact: false, problem: `The archive's rows are not the span of ${header.month} that the boundary signs: they were changed.` };
  }
  if (publicKeys.length === 0) return { intact: true, header, rows, headHash: end.head_hash, boundarySeq: b.seq, signature: "not checked" };
  const key = publicKeys.find((publicKey) => keyIdOf(publicKey) === b.key_id);
  const boundary = {
    logId: b.log_id,
    seq: b.seq,
    headHash: b.head_hash,
    firstSeq: b.first_seq,
    rowsRemoved: b.rows_removed,
    spans: b.spans,
    archives: b.archives,
    retainedAt: new Date(b.retained_at),
    keyId: b.key_id,
    signature: Buffer.from(b.signature, "base64"),
  };
  if (!key) return { intact: false, problem: `The boundary is signed by key ${b.key_id}, which was not given.` };
  if (!boundarySignatureHolds(boundary, key)) return { intact: false, problem: "The boundary's signature does not hold: it was changed or written without the key." };
  return { intact: true, header, rows, headHash: end.head_hash, boundarySeq: b.seq, signature: "held" };
}
