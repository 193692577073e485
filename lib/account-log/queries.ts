import { count, desc, isNotNull, sql } from "drizzle-orm";
import { getDb, rowsOf, type Executor } from "@/db";
import { accountLogs, users, type AccountLog } from "@/db/schema";
import type { AccountLogQuery } from "./search-params";
import { countLogs, idSpanOf, rowIdsStatement } from "./selection";

export type AccountLogPage = { rows: AccountLog[]; newerCursor?: number; olderCursor?: number };
export type AccountLogView = { numberOfLogs: number; page: AccountLogPage };

/**
 * What the Account Logs page shows for a query: the exact Number of Logs and one page, newest
 * first, by keyset on the ID (`before` towards older rows, `after` towards newer ones). Never
 * OFFSET, so any page costs the same and stays stable while rows arrive. How each filter is
 * read without scanning the log is in `selection.ts`.
 */
export async function findAccountLogs(query: AccountLogQuery, executor?: Executor): Promise<AccountLogView> {
  const db = executor ?? (await getDb());
  const { before, after, size } = query;
  const towardsNewer = after !== undefined;
  const span = await idSpanOf(db, query);
  const [numberOfLogs, ids] = await Promise.all([
    countLogs(db, query, span),
    rowIdsStatement(db, query, span, { before, after, limit: size + 1 }),
  ]);
  const rows = ids
    ? await db
        .select()
        .from(accountLogs)
        .where(sql`${accountLogs.id} in (${ids})`)
        .orderBy(towardsNewer ? accountLogs.id : desc(accountLogs.id))
    : [];

  const hasMore = rows.length > size;
  const page = rows.slice(0, size);
  if (towardsNewer) page.reverse();
  const newest = page[0]?.id;
  const oldest = page.at(-1)?.id;
  return {
    numberOfLogs,
    page: {
      rows: page,
      // Newer rows exist when we came from a cursor (or found more going up); older when we
      // found more going down (or came from an `after` cursor).
      newerCursor: newest !== undefined && (towardsNewer ? hasMore : before !== undefined) ? newest : undefined,
      olderCursor: oldest !== undefined && (towardsNewer ? true : hasMore) ? oldest : undefined,
    },
  };
}

export type LockedAccount = {
  id: number;
  username: string;
  lockedAt: Date;
  failedAttempts: number;
  failureIps: string[];
};

const LOCKED_ACCOUNTS_SHOWN = 100;

/**
 * Accounts locked now, newest lock first, with the addresses of the failures that locked them;
 * at most 100, with the total, so a mass-lockout attack cannot make the page heavy.
 */
export async function listLockedAccounts(): Promise<{ accounts: LockedAccount[]; total: number }> {
  const db = await getDb();
  const [result, [total]] = await Promise.all([
    db.execute(sql`
      select u.id, u.username, u.locked_at, u.failed_attempts,
        array(
          select distinct host(f.ip) from (
            select l.ip from ${accountLogs} l
            where l.user_id = u.id and l.result = 'login_failed_wrong_password'
            order by l.id desc limit u.failed_attempts
          ) f where f.ip is not null
        ) as failure_ips
      from ${users} u where u.locked_at is not null
      order by u.locked_at desc, u.id limit ${LOCKED_ACCOUNTS_SHOWN}`),
    db.select({ n: count() }).from(users).where(isNotNull(users.lockedAt)),
  ]);
  const accounts = rowsOf<{ id: number; username: string; locked_at: string | Date; failed_attempts: number; failure_ips: string[] | string }>(
    result,
  ).map((row) => ({
    id: Number(row.id),
    username: row.username,
    lockedAt: new Date(row.locked_at),
    failedAttempts: Number(row.failed_attempts),
    failureIps: parseTextArray(row.failure_ips),
  }));
  return { accounts, total: total?.n ?? accounts.length };
}

/** A text[] arrives as an array or, from some drivers, in its `{a,b}` literal form. */
function parseTextArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, "");
  return inner ? inner.split(",").map((item) => item.replace(/^"|"$/g, "")) : [];
}
