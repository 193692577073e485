import { and, count, desc, gt, inArray, isNotNull, lt, sql, sum } from "drizzle-orm";
import { getDb, rowsOf } from "@/db";
import { accountLogs, accountLogTotals, accountLogUsernames, users, type AccountLog } from "@/db/schema";
import { escapeLike, type AccountLogQuery } from "./search-params";

/** Above this many matching usernames, walking the ID index beats one probe per username. */
const PER_USERNAME_PROBE_LIMIT = 200;

export type AccountLogPage = { rows: AccountLog[]; newerCursor?: number; olderCursor?: number };
export type AccountLogView = { numberOfLogs: number; page: AccountLogPage };

type UsernameMatches = { numberOfLogs: number; matchingUsernames: number; keys: number[] };

/**
 * One pass over the usernames containing the term (a small table, trigram-indexed): the exact
 * Number of Logs from their counters, how many match, and which to probe for rows: on the
 * first page the `limit` usernames with the newest rows (each other one has at least `limit`
 * newer matches ahead of it), otherwise the first few.
 */
async function matchUsernames(q: string, limit: number, firstPage: boolean): Promise<UsernameMatches> {
  const db = await getDb();
  const keyOrder = firstPage ? sql`${accountLogUsernames.lastId} desc nulls last` : accountLogUsernames.id;
  const keyCount = firstPage ? limit : PER_USERNAME_PROBE_LIMIT + 1;
  const [row] = await db
    .select({
      numberOfLogs: sql<string>`coalesce(sum(${accountLogUsernames.rowCount}), 0)::text`,
      matchingUsernames: count(),
      keys: sql<number[] | string | null>`(array_agg(${accountLogUsernames.id} order by ${keyOrder}))[1:${keyCount}]`,
    })
    .from(accountLogUsernames)
    .where(sql`${accountLogUsernames.usernameNormalized} like ${`%${escapeLike(q)}%`}`);
  return {
    numberOfLogs: Number(row?.numberOfLogs ?? 0),
    matchingUsernames: row?.matchingUsernames ?? 0,
    keys: parseIntArray(row?.keys ?? null),
  };
}

async function totalLogs(): Promise<number> {
  const db = await getDb();
  const [row] = await db.select({ n: sum(accountLogTotals.rowCount) }).from(accountLogTotals);
  return Number(row?.n ?? 0);
}

/**
 * What the Account Logs page shows for a query: the exact Number of Logs (from counters the
 * insert trigger keeps in the same transaction as each row, never a scan of the log) and one
 * page, newest first, by keyset on the ID (`before` towards older rows, `after` towards newer
 * ones). Never OFFSET, so any page costs the same and stays stable while rows arrive.
 */
export async function findAccountLogs({ q, before, after, size }: AccountLogQuery): Promise<AccountLogView> {
  const db = await getDb();
  const towardsNewer = after !== undefined;
  const cursor = towardsNewer ? gt(accountLogs.id, after) : before !== undefined ? lt(accountLogs.id, before) : undefined;
  const order = towardsNewer ? accountLogs.id : desc(accountLogs.id);
  const limit = size + 1;

  let rows: AccountLog[];
  let numberOfLogs: number;
  if (!q) {
    [numberOfLogs, rows] = await Promise.all([
      totalLogs(),
      db.select().from(accountLogs).where(cursor).orderBy(order).limit(limit),
    ]);
  } else {
    const matches = await matchUsernames(q, limit, before === undefined && after === undefined);
    numberOfLogs = matches.numberOfLogs;
    if (matches.keys.length === 0) {
      rows = [];
    } else if (matches.keys.length <= PER_USERNAME_PROBE_LIMIT) {
      // A few usernames: take the top rows of each from its (username, id) index and merge.
      const keyList = sql.join(matches.keys.map((key) => sql`(${key}::int)`), sql`, `);
      const cursorSql = towardsNewer ? sql`and l.id > ${after}` : before !== undefined ? sql`and l.id < ${before}` : sql``;
      const direction = towardsNewer ? sql`asc` : sql`desc`;
      const result = await db.execute(sql`
        select l.id from (values ${keyList}) as k(key)
        cross join lateral (
          select l.id from ${accountLogs} l where l.username_key = k.key ${cursorSql}
          order by l.id ${direction} limit ${limit}
        ) l
        order by l.id ${direction} limit ${limit}`);
      const ids = rowsOf<{ id: string | number }>(result).map((r) => Number(r.id));
      rows = ids.length ? await db.select().from(accountLogs).where(inArray(accountLogs.id, ids)).orderBy(order) : [];
    } else {
      // A later page of a search matching many usernames: walk the ID index from the cursor
      // and filter; matches are common there, so few rows are read.
      const matching = db
        .select({ id: accountLogUsernames.id })
        .from(accountLogUsernames)
        .where(sql`${accountLogUsernames.usernameNormalized} like ${`%${escapeLike(q)}%`}`);
      rows = await db
        .select()
        .from(accountLogs)
        .where(and(inArray(accountLogs.usernameKey, matching), cursor))
        .orderBy(order)
        .limit(limit);
    }
  }

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

/** An int[] arrives as an array or, from some drivers, in its `{1,2}` literal form. */
function parseIntArray(value: number[] | string | null): number[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.map(Number);
  const inner = value.replace(/^\{|\}$/g, "");
  return inner ? inner.split(",").map(Number) : [];
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
