import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { getDb, rowsOf } from "@/db";
import { accountLogs, users } from "@/db/schema";
import type { RequestContext } from "@/lib/client/request-context";
import { sealPending } from "@/lib/audit/sealer";
import { createUser } from "@/lib/users/queries";

export const browserContext: RequestContext = {
  ip: "203.0.113.5",
  userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  hints: { "sec-ch-ua-platform": '"Windows"', "sec-ch-ua-platform-version": '"15.0.0"' },
  forwardedHeaders: undefined,
};

export async function createTestUser(prefix = "user", role: "admin" | "user" = "user") {
  const username = `${prefix}-${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const user = await createUser({ username, password, role });
  return { ...user, password };
}

/** The log rows of a username, oldest first, once every row written so far is sealed. */
export async function logRowsFor(normalized: string) {
  const db = await getDb();
  await sealPending(db);
  return db
    .select()
    .from(accountLogs)
    .where(eq(accountLogs.usernameNormalized, normalized))
    .orderBy(accountLogs.id);
}

export async function accountState(userId: number) {
  const db = await getDb();
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  return row!;
}

/** Sealed rows matching `where`, once every row written so far is sealed. */
export async function countRows(where = sql`true`) {
  const db = await getDb();
  await sealPending(db);
  const rows = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from account_logs where ${where}`));
  return rows[0]!.n;
}
