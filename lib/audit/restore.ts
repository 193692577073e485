import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { KeyObject } from "node:crypto";
import { sql } from "drizzle-orm";
import { rowsOf, type Database } from "@/db";
import { checkArchive, type ArchiveCheck } from "./verify-archive";
import { ndjsonChainRow, type ExportedRow } from "./verify-export";

const BATCH = 1_000;

/** Why archives could not be restored. */
export class RestoreRefused extends Error {
  override name = "RestoreRefused";
}

/**
 * Loads retention archives into `restored_account_logs` of a scratch database (docs/audit.md,
 * "Restoring an archive"), for an investigation with SQL. Each archive is verified first (its
 * rows, their links, and the signed boundary when keys are given), and archives given together
 * must link up in seq order. Rows already restored (by seq) are left as they are, and not counted.
 */
export async function restoreArchives(db: Database, files: string[], publicKeys: KeyObject[] = []): Promise<{ archives: number; rows: number }> {
  const checked: { file: string; check: Extract<ArchiveCheck, { intact: true }> }[] = [];
  for (const file of files) {
    const check = await checkArchive(file, publicKeys);
    if (!check.intact) throw new RestoreRefused(`${path.basename(file)} is NOT intact: ${check.problem}`);
    checked.push({ file, check });
  }
  checked.sort((a, b) => a.check.header.first_seq - b.check.header.first_seq);
  for (let i = 1; i < checked.length; i++) {
    const [before, after] = [checked[i - 1]!.check, checked[i]!.check];
    if (after.header.first_seq !== before.header.last_seq + 1 || after.header.prev_hash !== before.headHash) {
      throw new RestoreRefused(`${path.basename(checked[i]!.file)} does not follow ${path.basename(checked[i - 1]!.file)}: months are missing between them.`);
    }
  }
  await db.execute(sql`
    create table if not exists restored_account_logs (
      seq bigint primary key, id bigint not null, occurred_at timestamptz not null, username text not null,
      username_truncated boolean not null, username_normalized text not null, user_id bigint, result text not null, ip inet, metadata jsonb not null,
      prev_hash text not null, hash text not null, archive text not null)`);
  let rows = 0;
  // All or nothing: a file that fails half-way leaves the scratch table as it was.
  await db.transaction(async (tx) => {
    for (const { file } of checked) {
      let batch: ExportedRow[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const inserted = await tx.execute(sql`
          insert into restored_account_logs (seq, id, occurred_at, username, username_truncated, username_normalized, user_id, result, ip, metadata, prev_hash, hash, archive)
          values ${sql.join(
            batch.map(
              (row) =>
                sql`(${row.seq!}, ${row.id}, ${row.occurredAt}::timestamptz, ${row.username}, ${row.usernameTruncated}, ${row.usernameNormalized}, ${row.userId}, ${row.result},
                  ${row.ip}::inet, ${row.metadata as string}::jsonb, ${row.prevHash}, ${row.hash}, ${path.basename(file)})`,
            ),
            sql`, `,
          )}
          on conflict (seq) do nothing returning seq`);
        rows += rowsOf<{ seq: unknown }>(inserted).length;
        batch = [];
      };
      // By position, as checkArchive reads it: the first line is the header, the last the
      // trailer, every line between them a row; the count must be the header's.
      let lineNumber = 0;
      let rowsInFile = 0;
      let previous: { line: string; number: number } | undefined;
      let sawHeader = false;
      for await (const line of readline.createInterface({ input: fs.createReadStream(file, "utf8"), crlfDelay: Infinity })) {
        lineNumber += 1;
        if (line === "") continue;
        if (!sawHeader) {
          sawHeader = true;
          continue;
        }
        if (previous) {
          batch.push(ndjsonChainRow(JSON.parse(previous.line), previous.number));
          rowsInFile += 1;
          if (batch.length >= BATCH) await flush();
        }
        previous = { line, number: lineNumber };
      }
      const expected = checked.find((entry) => entry.file === file)!.check.header.rows;
      if (rowsInFile !== expected) throw new RestoreRefused(`${path.basename(file)} holds ${rowsInFile} rows, not the ${expected} it was checked with: it changed while being restored.`);
      await flush();
    }
  });
  return { archives: checked.length, rows };
}
