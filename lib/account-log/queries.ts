import { desc, sql } from "drizzle-orm";
import { getDb, rowsOf, type Executor } from "@/db";
import { accountLogs, accountLogUsernames, users, type AccountLog, type UserRole } from "@/db/schema";
import type { AccountLogQuery } from "./search-params";
import { countLogs, resolveUsernameKeys, selectRowIds, selectionSpanOf } from "./selection";

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
  const [span, filters] = await Promise.all([selectionSpanOf(db, query), resolveUsernameKeys(db, query)]);
  const readRows = async () => {
    const ids = await selectRowIds(db, filters, span, { before, after, limit: size + 1 });
    if (!ids) return [];
    return db
      .select()
      .from(accountLogs)
      .where(sql`${accountLogs.id} in (${ids})`)
      .orderBy(towardsNewer ? accountLogs.id : desc(accountLogs.id));
  };
  // The count and the rows at once, each on its own connection.
  const [numberOfLogs, rows] = await Promise.all([countLogs(db, filters, span), readRows()]);

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

/** A row behind a lock or a recent sign-in, as the "why locked" panel compares them. */
export type AttemptSummary = { id: number; at: Date; ip: string | null; browser: string | null; country: string | null };

export type LockedAccount = {
  id: number;
  username: string;
  lockedAt: Date;
  failedAttempts: number;
  failureIps: string[];
  /** The wrong passwords that locked it, newest first (none when an admin locked it). */
  failures: AttemptSummary[];
  /** The account's successful sign-ins of the last 90 days, newest first, at most 20. */
  recentSuccesses: AttemptSummary[];
  /** The `account_locked` row: who locked it when an admin did, and why. */
  lock: { id: number; actor: string | null; reason: string | null } | null;
};

const LOCKED_ACCOUNTS_SHOWN = 100;
const RECENT_SUCCESSES_SHOWN = 20;
const RECENT_DAYS = 90;

const attemptJson = (alias: string) =>
  sql.raw(`json_build_object('id', ${alias}.id, 'at', ${alias}.occurred_at, 'ip', host(${alias}.ip),
    'browser', ${alias}.metadata->>'summary', 'country', ${alias}.metadata->'location'->>'country')`);

/**
 * Accounts locked now, newest lock first, with what an admin needs before unlocking: the
 * failures that locked each (when, from where, with what) and the account's recent successful
 * sign-ins to compare them with. At most 100, with the total, so a mass-lockout attack cannot
 * make the page heavy; every list is read from an index in order, however long the history.
 */
export async function listLockedAccounts(): Promise<{ accounts: LockedAccount[]; total: number }> {
  const db = await getDb();
  // One statement, the total included: a round trip costs the page more than the count.
  const result = await db.execute(sql`
      select u.id, u.username, u.locked_at, u.failed_attempts,
        (select count(*) from ${users} where ${users.lockedAt} is not null) as total,
        coalesce((
          select json_agg(${attemptJson("f")} order by f.id desc) from (
            select l.id, l.occurred_at, l.ip, l.metadata from ${accountLogs} l
            where l.user_id = u.id and l.result = 'login_failed_wrong_password'
            order by l.user_id desc, l.id desc limit u.failed_attempts
          ) f), '[]') as failures,
        coalesce((
          select json_agg(${attemptJson("s")} order by s.id desc) from (
            select l.id, l.occurred_at, l.ip, l.metadata from ${accountLogs} l
            where l.username_key = k.id and l.result = 'login_successful'
              and l.occurred_at > now() - ${RECENT_DAYS}::int * interval '1 day'
            order by l.username_key desc, l.result desc, l.id desc limit ${RECENT_SUCCESSES_SHOWN}
          ) s), '[]') as successes,
        (select json_build_object('id', l.id, 'actor', l.metadata->'actor'->>'username', 'reason', l.metadata->>'reason')
          from ${accountLogs} l where l.username_key = k.id and l.result = 'account_locked'
          order by l.username_key desc, l.result desc, l.id desc limit 1) as lock
      from ${users} u
      left join ${accountLogUsernames} k on k.username_normalized = u.username_normalized
      where u.locked_at is not null
      order by u.locked_at desc, u.id limit ${LOCKED_ACCOUNTS_SHOWN}`);
  type Attempt = { id: number; at: string; ip: string | null; browser: string | null; country: string | null };
  const attempts = (value: Attempt[] | string) =>
    (typeof value === "string" ? (JSON.parse(value) as Attempt[]) : value).map((a) => ({ ...a, id: Number(a.id), at: new Date(a.at) }));
  const lockedRows = rowsOf<{
    id: number;
    username: string;
    total: number | string;
    locked_at: string | Date;
    failed_attempts: number;
    failures: Attempt[] | string;
    successes: Attempt[] | string;
    lock: { id: number; actor: string | null; reason: string | null } | string | null;
  }>(result);
  const accounts = lockedRows.map((row) => {
    const failures = attempts(row.failures);
    const lock = typeof row.lock === "string" ? JSON.parse(row.lock) : row.lock;
    return {
      id: Number(row.id),
      username: row.username,
      lockedAt: new Date(row.locked_at),
      failedAttempts: Number(row.failed_attempts),
      failureIps: [...new Set(failures.flatMap((failure) => (failure.ip ? [failure.ip] : [])))],
      failures,
      recentSuccesses: attempts(row.successes),
      lock: lock ? { ...lock, id: Number(lock.id) } : null,
    };
  });
  return { accounts, total: lockedRows.length ? Number(lockedRows[0]!.total) : 0 };
}

/** What the per-user view shows above an account's log. */
export type AccountStatus = {
  id: number;
  username: string;
  role: UserRole;
  lockedAt: Date | null;
  failedAttempts: number;
  createdAt: Date;
  lastSuccess: { at: Date; ip: string | null; browser: string | null } | null;
};

/** The account with this normalized username, with its last successful sign-in; undefined when none. */
export async function findAccountStatus(usernameNormalized: string, executor?: Executor): Promise<AccountStatus | undefined> {
  const db = executor ?? (await getDb());
  const [row] = rowsOf<{
    id: number;
    username: string;
    role: UserRole;
    locked_at: string | Date | null;
    failed_attempts: number;
    created_at: string | Date;
    last_success: { at: string; ip: string | null; browser: string | null } | string | null;
  }>(
    await db.execute(sql`
      select u.id, u.username, u.role, u.locked_at, u.failed_attempts, u.created_at,
        (select json_build_object('at', l.occurred_at, 'ip', host(l.ip), 'browser', l.metadata->>'summary')
          from ${accountLogs} l where l.username_key = k.id and l.result = 'login_successful'
          order by l.username_key desc, l.result desc, l.id desc limit 1) as last_success
      from ${users} u left join ${accountLogUsernames} k on k.username_normalized = u.username_normalized
      where u.username_normalized = ${usernameNormalized}`),
  );
  if (!row) return undefined;
  const last = typeof row.last_success === "string" ? JSON.parse(row.last_success) : row.last_success;
  return {
    id: Number(row.id),
    username: row.username,
    role: row.role,
    lockedAt: row.locked_at ? new Date(row.locked_at) : null,
    failedAttempts: Number(row.failed_attempts),
    createdAt: new Date(row.created_at),
    lastSuccess: last ? { at: new Date(last.at), ip: last.ip, browser: last.browser } : null,
  };
}
