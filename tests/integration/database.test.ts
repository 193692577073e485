import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { closeDb, DatabaseUnavailableError, getDb, openAppDatabase, openDatabase, pgliteSiblingPath, rowsOf } from "@/db";
import { DirectoryLockedError } from "@/db/directory-lock";
import { appendAccountLog } from "@/lib/account-log/record";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { sealPending } from "@/lib/audit/sealer";
import { ACCOUNT_LOG_RESULTS } from "@/db/schema";
import { resultBit } from "@/lib/account-log/selection";

describe("embedded database lock", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-lock-"));
  const dir = path.join(root, "nested", "db");
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("creates missing parent folders and refuses a second opener, naming the holder", async () => {
    const first = await openDatabase({ kind: "pglite", dir });
    try {
      const lock = JSON.parse(fs.readFileSync(pgliteSiblingPath(dir, "lock"), "utf8"));
      expect(lock.pid).toBe(process.pid);
      // Another process: the real case is the CLI while the app runs.
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/user-create.ts", "--username", "zoe", "--password-stdin"], {
        cwd: process.cwd(),
        env: { ...process.env, PGLITE_DIR: dir, DATABASE_URL: "" },
      });
      child.stdin.end("a long enough password\n");
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const code = await new Promise((resolve) => child.on("exit", resolve));
      expect(code).toBe(1);
      expect(output).toContain(`in use by process ${process.pid}`);
      expect(output).toContain("Stop that process first");
    } finally {
      await first.close();
    }
    expect(fs.existsSync(pgliteSiblingPath(dir, "lock"))).toBe(false);
  });

  it("takes over a lock left by a dead process, and keeps the data", async () => {
    const lockPath = pgliteSiblingPath(dir, "lock");
    fs.writeFileSync(lockPath, JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname(), startedAt: "then", command: "gone" }));
    const reopened = await openDatabase({ kind: "pglite", dir });
    try {
      const rows = rowsOf<{ n: number }>(await reopened.db.execute(sql`select count(*)::int as n from users`));
      expect(rows[0]!.n).toBe(0);
    } finally {
      await reopened.close();
    }
  });

  it("treats a fresh unreadable lock as held and an old one as stale", async () => {
    const lockPath = pgliteSiblingPath(dir, "lock");
    fs.writeFileSync(lockPath, "");
    const refused = openDatabase({ kind: "pglite", dir });
    await expect(refused).rejects.toBeInstanceOf(DirectoryLockedError);
    await expect(refused).rejects.toThrow(/in use by another process \(its lock file cannot be read yet\)/);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockPath, old, old);
    const reopened = await openDatabase({ kind: "pglite", dir });
    await reopened.close();
    expect(fs.existsSync(lockPath)).toBe(false);
  });

  it("refuses a live holder in this process too", async () => {
    const lockPath = pgliteSiblingPath(dir, "lock");
    fs.writeFileSync(lockPath, JSON.stringify({ pid: process.ppid, hostname: os.hostname(), startedAt: "now", command: "parent" }));
    await expect(openDatabase({ kind: "pglite", dir })).rejects.toBeInstanceOf(DirectoryLockedError);
    fs.rmSync(lockPath);
  });
});

describe("unreachable PostgreSQL", () => {
  it("fails with one clear message naming the server, without the password", async () => {
    const attempt = openDatabase({ kind: "postgres", url: "postgres://app:hunter2@127.0.0.1:1/accounts" });
    await expect(attempt).rejects.toThrow(/Cannot reach PostgreSQL at 127\.0\.0\.1:1\/accounts.*Check DATABASE_URL/);
    await expect(attempt).rejects.not.toThrow(/hunter2/);
  });
});

describe.each(DATABASE_KINDS)("schema and counts on %s", (kind) => {
  useFreshDatabase(kind);

  it("hands out only the open database: closed, it is refused until opened again", async () => {
    await closeDb();
    await expect(getDb()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(getDb()).rejects.toThrow(/not open/);
    const [first, second] = await Promise.all([openAppDatabase(), openAppDatabase()]);
    expect(second).toBe(first);
    expect(await getDb()).toBe(first);
    expect(rowsOf<{ n: number }>(await first.execute(sql`select 1 as n`))[0]!.n).toBe(1);
  });

  it("applies migrations idempotently", async () => {
    const db = await getDb();
    const rows = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
  });

  it("keeps exact per-username and total counts of sealed rows; a rolled-back write leaves no row and no count", async () => {
    const db = await getDb();
    await appendAccountLog(db, [
      { username: "Alice", result: "login_successful" },
      { username: " ALICE", result: "login_failed_wrong_password" },
      { username: "bob", result: "login_failed_unknown_user" },
    ]);
    // A failed transaction leaves no row and no count behind.
    await expect(
      db.transaction(async (tx) => {
        await appendAccountLog(tx, [{ username: "alice", result: "logout" }]);
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    expect(await sealPending(db)).toBe(3);
    const counts = rowsOf<{ username_normalized: string; row_count: string | number }>(
      await db.execute(sql`select username_normalized, row_count from account_log_usernames order by username_normalized`),
    );
    expect(counts.map((c) => [c.username_normalized, Number(c.row_count)])).toEqual([
      ["alice", 2],
      ["bob", 1],
    ]);
    const total = rowsOf<{ n: string | number }>(await db.execute(sql`select sum(row_count) as n from account_log_totals`));
    expect(Number(total[0]!.n)).toBe(3);
  });

  it("refuses a result code outside the list", async () => {
    const db = await getDb();
    await expect(
      db.execute(sql`insert into account_log_inbox (username, username_normalized, result) values ('x', 'x', 'login_maybe')`),
    ).rejects.toThrow();
  });
});

describe.each(DATABASE_KINDS)("result codes on %s", (kind) => {
  useFreshDatabase(kind);

  it("takes every result the app writes: the log's checks, and each result's bit as the app computes it", async () => {
    const db = await getDb();
    for (const result of ACCOUNT_LOG_RESULTS) {
      const [row] = rowsOf<{ bit: number | null }>(await db.execute(sql`select account_log_result_bit(${result}) as bit`));
      expect(row!.bit, result).toBe(resultBit(result));
      await appendAccountLog(db, [{ username: `every-result-${result}`, result, ip: null }]);
    }
    expect(await sealPending(db)).toBeGreaterThanOrEqual(ACCOUNT_LOG_RESULTS.length);
    const sealed = rowsOf<{ result: string }>(await db.execute(sql`select result from account_logs where username like 'every-result-%' order by seq`));
    expect(sealed.map((row) => row.result)).toEqual([...ACCOUNT_LOG_RESULTS]);
  });
});
