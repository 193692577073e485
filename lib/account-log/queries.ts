import { and, count, desc, gt, inArray, isNotNull, lt, sql, sum, type SQL } from "drizzle-orm";
import { getDb, rowsOf } from "@/db";
import { accountLogs, accountLogTotals, accountLogUsernames, users, type AccountLog } from "@/db/schema";
import { escapeLike, type AccountLogQuery } from "./search-params";

/** Above this many matching usernames, walking the ID index beats one probe per username. */
const PER_USERNAME_PROBE_LIMIT = 200;

function usernameMatch(q: string): SQL {
  return sql`${accountLogUsernames.usernameNormalized} like ${`%${escapeLike(q)}%`}`;
}

/**
 * The Number of Logs: exact, from counters the insert trigger keeps in the same transaction
 * as each row, so neither the whole log nor a search's matches are scanned.
 */
export async function countAccountLogs({ q }: Pick<AccountLogQuery, "q">): Promise<number> {
  const db = await getDb();
  if (!q) {
    const [row] = await db.select({ n: sum(accountLogTotals.rowCount) }).from(accountLogTotals);
    return Number(row?.n ?? 0);
  }
  const [row] = await db.select({ n: sum(accountLogUsernames.rowCount) }).from(accountLogUsernames).where(usernameMatch(q));
  return Number(row?.n ?? 0);
}

export type AccountLogPage = { rows: AccountLog[]; newerCursor?: number; olderCursor?: number };

/**
 * One page of the log, newest first, by keyset on the ID: `before` pages towards older rows,
 * `after` towards newer ones. Never OFFSET, so any page costs the same and stays stable while
 * rows arrive.
 */
export async function listAccountLogs({ q, before, after, size }: AccountLogQuery): Promise<AccountLogPage> {
  const db = await getDb();
  const towardsNewer = after !== undefined;
  const cursor = towardsNewer ? gt(accountLogs.id, after) : before !== undefined ? lt(accountLogs.id, before) : undefined;
  const order = towardsNewer ? accountLogs.id : desc(accountLogs.id);
  const limit = size + 1;

  let rows: AccountLog[];
  if (!q) {
    rows = await db.select().from(accountLogs).where(cursor).orderBy(order).limit(limit);
  } else {
    const keys = await db
      .select({ id: accountLogUsernames.id })
      .from(accountLogUsernames)
      .where(usernameMatch(q))
      .limit(PER_USERNAME_PROBE_LIMIT + 1);
    if (keys.length === 0) {
      rows = [];
    } else if (keys.length <= PER_USERNAME_PROBE_LIMIT) {
      // A few usernames: take the top rows of each from its (username, id) index and merge.
      const keyList = sql.join(keys.map((k) => sql`(${k.id}::int)`), sql`, `);
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
      // Many usernames match, so matching rows are common: walk the ID index and filter.
      const matching = db.select({ id: accountLogUsernames.id }).from(accountLogUsernames).where(usernameMatch(q));
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
    rows: page,
    // Newer rows exist when we came from a cursor (or found more going up); older when we
    // found more going down (or came from an `after` cursor).
    newerCursor: newest !== undefined && (towardsNewer ? hasMore : before !== undefined) ? newest : undefined,
    olderCursor: oldest !== undefined && (towardsNewer ? true : hasMore) ? oldest : undefined,
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
