import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { getDb, rowsOf, type Database } from "@/db";
import { appendAccountLog } from "@/lib/account-log/record";
import { parseCsv } from "@/lib/audit/csv";
import { exportChunks, exportFilterOf, recordExport, type ExportFormat } from "@/lib/audit/export";
import { checkExport } from "@/lib/audit/verify-export";
import { verifyChain } from "@/lib/audit/verify";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { browserContext, createTestUser } from "../support/accounts";

const HOSTILE = [
  "=HYPERLINK(\"http://evil.example\",\"click\")",
  "+1+1",
  "-2+3",
  "@SUM(A1:A2)",
  "\tTAB",
  "\rCR",
  "'quoted",
  'comma, "quote"',
  "multi\nline",
  "<script>alert(1)</script>",
];

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-export-"));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

async function exportToFile(db: Database, format: ExportFormat, term: string, name: string) {
  const admin = await createTestUser("exporter", "admin");
  const filter = exportFilterOf({ term, q: term.toLowerCase(), exact: false, results: [] });
  const start = await recordExport(db, { admin, context: browserContext, filter, format });
  const file = path.join(folder, name);
  const out = fs.createWriteStream(file);
  for await (const chunk of exportChunks(db, { filter, format, ...start })) out.write(chunk);
  await new Promise((resolve) => out.end(resolve));
  return { file, start, admin };
}

async function csvRecords(file: string) {
  const records: string[][] = [];
  for await (const record of parseCsv(fs.createReadStream(file, "utf8"))) records.push(record);
  return records;
}

describe.each(DATABASE_KINDS)("exports on %s", (kind) => {
  useFreshDatabase(kind);

  it("a search with hostile usernames: spreadsheet-safe CSV that checks offline and against the database", async () => {
    const db = await getDb();
    for (const name of HOSTILE) {
      await appendAccountLog(db, [{ username: `hx${name}`, result: "login_failed_unknown_user", ip: "192.0.2.1" }]);
    }
    await appendAccountLog(db, [{ username: "unrelated", result: "logout" }]);
    const { file, start, admin } = await exportToFile(db, "csv", "HX", "hostile.csv");

    const records = await csvRecords(file);
    expect(records[0]).toEqual([
      "id", "username", "time", "result", "ip_address", "metadata", "username_truncated", "username_normalized", "user_id", "prev_hash", "hash", "seq",
    ]);
    const rows = records.slice(1, -1);
    expect(rows).toHaveLength(HOSTILE.length);
    // Newest first, and no cell a spreadsheet would run as a formula.
    expect(rows.map((r) => Number(r[0]))).toEqual([...rows.map((r) => Number(r[0]))].sort((a, b) => b - a));
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    // These usernames start with "hx", so they stay as they are.
    expect(rows.map((r) => r[1])).toContain('hx=HYPERLINK("http://evil.example","click")');
    expect(rows.map((r) => r[1])).toContain("hx\tTAB");
    const trailer = records.at(-1)!;
    expect(trailer[3]).toBe("chain_head");
    expect(trailer[0]).toBe(String(start.head.id));
    expect(trailer[10]).toBe(start.head.hash);
    expect(trailer[11]).toBe(String(start.head.seq));

    expect(await checkExport(file)).toMatchObject({ intact: true, rows: HOSTILE.length, database: "not checked" });
    expect(await checkExport(file, db)).toMatchObject({ intact: true, database: "matched" });

    const logged = rowsOf<{ result: string; metadata: { export?: unknown; actor?: { username: string } } }>(
      await db.execute(sql`select result, metadata from account_logs where id = ${start.head.id}`),
    )[0]!;
    expect(logged.result).toBe("logs_exported");
    expect(logged.metadata.export).toEqual({ format: "csv", filter: { q: "hx" } });
    expect(logged.metadata.actor?.username).toBe(admin.username);
  });

  it("cells that begin with a formula character are prefixed, and restored by the check", async () => {
    const db = await getDb();
    for (const name of HOSTILE) await appendAccountLog(db, [{ username: name, result: "login_failed_unknown_user" }]);
    const { file } = await exportToFile(db, "csv", "", "all.csv");
    const usernames = (await csvRecords(file)).slice(1, -1).map((r) => r[1]);
    expect(usernames).toContain("'=HYPERLINK(\"http://evil.example\",\"click\")");
    expect(usernames).toContain("'+1+1");
    expect(usernames).toContain("'-2+3");
    expect(usernames).toContain("'@SUM(A1:A2)");
    expect(usernames).toContain("'\tTAB");
    expect(usernames).toContain("'\rCR");
    expect(usernames).toContain("''quoted");
    // The whole log: one chain from the head down to the first row.
    expect(await checkExport(file, db)).toMatchObject({ intact: true, database: "matched" });
  });

  for (const format of ["csv", "ndjson"] as const) {
    it(`an edited, cut or shortened ${format} export fails its check`, async () => {
      const db = await getDb();
      const { file } = await exportToFile(db, format, "", `edit.${format}`);
      expect((await checkExport(file)).intact).toBe(true);
      const text = fs.readFileSync(file, "utf8");

      const edited = path.join(folder, `edited.${format}`);
      fs.writeFileSync(edited, text.replace("login_failed_unknown_user", "login_successful"));
      expect(await checkExport(edited)).toMatchObject({ intact: false, problem: expect.stringMatching(/edited in the export/) });

      const lines = text.split(format === "csv" ? "\r\n" : "\n");
      const cut = path.join(folder, `cut.${format}`);
      fs.writeFileSync(cut, lines.slice(0, 3).join(format === "csv" ? "\r\n" : "\n"));
      expect(await checkExport(cut)).toMatchObject({ intact: false, problem: expect.stringMatching(/trailer .* missing/) });

      // A row dropped from the middle (the hostile rows with line breaks span records, so drop one without).
      const dropAt = lines.findIndex((line, i) => i > 2 && line.includes("unrelated"));
      expect(dropAt).toBeGreaterThan(2);
      const shortened = path.join(folder, `shortened.${format}`);
      fs.writeFileSync(shortened, [...lines.slice(0, dropAt), ...lines.slice(dropAt + 1)].join(format === "csv" ? "\r\n" : "\n"));
      expect((await checkExport(shortened)).intact).toBe(false);
    });
  }

  it("an export taken before the database was tampered with no longer matches it", async () => {
    const db = await getDb();
    const { file } = await exportToFile(db, "ndjson", "", "before-tamper.ndjson");
    const target = rowsOf<{ id: number }>(await db.execute(sql`select id from account_logs where username = 'unrelated'`))[0]!;
    await db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update account_logs set username = 'changed' where id = ${target.id}`);
    });
    expect(await checkExport(file)).toMatchObject({ intact: true });
    expect(await checkExport(file, db)).toMatchObject({ intact: false, id: Number(target.id) });
    expect((await verifyChain(db)).intact).toBe(false);
  });
});
