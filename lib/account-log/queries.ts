import { and, count, desc, gt, inArray, isNotNull, lt, sql, sum, type SQL } from "drizzle-orm";
import { getDb, rowsOf } from "@/db";
import { accountLogs, accountLogTotals, accountLogUsernames, users, type AccountLog } from "@/db/schema";
import { escapeLike, type AccountLogQuery } from "./search-params";

/** Above this many matching usernames, walking the ID index beats one probe per username. */
export const PER_USERNAME_PROBE_LIMIT = 200;

/** The usernames that contain the search (every one for none); `%`, `_` and `\` match themselves. */
export function usernameContains(q: string): SQL {
  return sql`${accountLogUsernames.usernameNormalized} like ${`%${q ? escapeLike(q) : ""}%`}`;
}

export type AccountLogPage = { rows: AccountLog[]; newerCursor?: number; olderCursor?: number };
export type AccountLogView = { numberOfLogs: number; page: AccountLogPage };

/** The exact Number of Logs of a search: the counters of the usernames that match. */
async function countMatches(usernameLike: SQL): Promise<number> {
  const db = await getDb();
  const [row] = await db.select({ n: sum(accountLogUsernames.rowCount) }).from(accountLogUsernames).where(usernameLike);
  return Number(row?.n ?? 0);
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

  const usernameLike = usernameContains(q);
  // The top rows of each given username from its (username, id) index, merged: one statement.
  const rowsOfUsernames = (keys: SQL) => {
    const cursorSql = towardsNewer ? sql`and l.id > ${after}` : before !== undefined ? sql`and l.id < ${before}` : sql``;
    const direction = towardsNewer ? sql`asc` : sql`desc`;
    return db
      .select()
      .from(accountLogs)
      .where(
        sql`${accountLogs.id} in (
          select l.id from (${keys}) as k(key)
          cross join lateral (
            select l.id from ${accountLogs} l where l.username_key = k.key ${cursorSql}
            order by l.id ${direction} limit ${limit}
          ) l
          order by l.id ${direction} limit ${limit})`,
      )
      .orderBy(order);
  };

  let rows: AccountLog[];
  let numberOfLogs: number;
  if (!q) {
    [numberOfLogs, rows] = await Promise.all([
      totalLogs(),
      db.select().from(accountLogs).where(cursor).orderBy(order).limit(limit),
    ]);
  } else if (before === undefined && after === undefined) {
    // The first page's rows can only come from the `limit` usernames with the newest rows: each
    // other matching username has at least `limit` newer matches ahead of it.
    const newestUsernames = sql`select ${accountLogUsernames.id} from ${accountLogUsernames} where ${usernameLike}
      order by ${accountLogUsernames.lastId} desc nulls last limit ${limit}`;
    [numberOfLogs, rows] = await Promise.all([countMatches(usernameLike), rowsOfUsernames(newestUsernames)]);
  } else {
    let keys: { id: number }[];
    [numberOfLogs, keys] = await Promise.all([
      countMatches(usernameLike),
      db
        .select({ id: accountLogUsernames.id })
        .from(accountLogUsernames)
        .where(usernameLike)
        .limit(PER_USERNAME_PROBE_LIMIT + 1),
    ]);
    if (keys.length === 0) {
      rows = [];
    } else if (keys.length <= PER_USERNAME_PROBE_LIMIT) {
      rows = await rowsOfUsernames(sql`values ${sql.join(keys.map((key) => sql`(${key.id}::int)`), sql`, `)}`);
    } else {
      // Many usernames match, so matches are common past the first page: walk the ID index from
      // the cursor and filter.
      const matching = db.select({ id: accountLogUsernames.id }).from(accountLogUsernames).where(usernameLike);
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
