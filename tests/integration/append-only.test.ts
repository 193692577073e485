import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb, rowsOf } from "@/db";
import { appendAccountLog } from "@/lib/account-log/record";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { countRows } from "../support/accounts";
import { sealPending } from "@/lib/audit/sealer";

describe.each(DATABASE_KINDS)("the account log is append-only on %s", (kind) => {
  useFreshDatabase(kind);

  it("refuses UPDATE, DELETE and TRUNCATE, even from the table's owner", async () => {
    const db = await getDb();
    const [row] = await appendAccountLog(db, [{ username: "mallory", result: "login_failed_wrong_password" }]);
    await sealPending(db);
    // Each month's partition refuses TRUNCATE too: a partition's TRUNCATE skips the parent's trigger.
    const [partition] = rowsOf<{ name: string }>(
      await db.execute(sql`select tableoid::regclass::text as name from account_logs where id = ${row!.id}`),
    );
    const attempts = [
      sql`update account_logs set result = 'login_successful' where id = ${row!.id}`,
      sql`update account_logs set username = 'someone-else'`,
      sql`delete from account_logs where id = ${row!.id}`,
      sql`delete from account_logs`,
      sql`truncate account_logs`,
      sql`truncate ${sql.identifier(partition!.name)}`,
      sql`delete from ${sql.identifier(partition!.name)}`,
    ];
    for (const statement of attempts) {
      await expect(db.execute(statement)).rejects.toThrow();
    }
    expect(await countRows()).toBe(1);
    const [kept] = await db.query.accountLogs.findMany({ where: (t, { eq }) => eq(t.id, row!.id) });
    expect(kept).toMatchObject({ username: "mallory", result: "login_failed_wrong_password" });
  });

  it("names the refused operation", async () => {
    const db = await getDb();
    const error = await db.execute(sql`delete from account_logs`).catch((e: Error) => e);
    expect(String((error as Error).cause ?? error)).toMatch(/account_logs is append-only: DELETE is not allowed/);
  });
});
