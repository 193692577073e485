import "server-only";
import { and, asc, count, eq, isNull, ne, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db";
import { accountLogs, accountLogUsernameResults, accountLogUsernames, users, type AccountLogMetadata, type AccountLogResult, type UserRole } from "@/db/schema";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { appendAccountLog } from "@/lib/account-log/record";
import { escapeLike } from "@/lib/account-log/search-params";
import { storableText } from "@/lib/account-log/text";
import { hashPassword } from "@/lib/auth/password";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { listActiveSessions, type ActiveSession } from "@/lib/sessions/queries";
import { UserInputError } from "./errors";
import { insertUser, prepareNewUser } from "./queries";
import { newPasswordSchema, normalizeUsername, USERNAME_MAX_LENGTH } from "./username";

/** The admin acting, and where their request came from: every change below is logged with both. */
export type AdminRequest = { admin: Pick<CurrentUser, "id" | "username">; context: RequestContext };

/** At most this many users are listed; a filter narrows the rest. */
export const USER_LIST_LIMIT = 50;

// Serializes the changes that can take away an active admin (demotion, lock), so two admins
// demoting or locking each other at once cannot both pass the last-admin check.
const ADMIN_SET_LOCK_KEY = 726_531_004;

export type UserSummary = {
  id: number;
  username: string;
  role: UserRole;
  lockedAt: Date | null;
  failedAttempts: number;
  lastSignInAt: Date | null;
  createdAt: Date;
  /** Active sessions, newest first. */
  sessions: ActiveSession[];
};

export type UserList = { users: UserSummary[]; total: number; lockoutThreshold: number };

/** `?q=`: a username filter, trimmed and bounded like a username. */
export function parseUserListQuery(params: Record<string, string | string[] | undefined>): { q: string } {
  const raw = Array.isArray(params.q) ? params.q[0] : params.q;
  // No username is longer, so nothing past that is read; NUL, which PostgreSQL's text refuses, shows as ␀.
  return { q: [...storableText((raw ?? "").slice(0, USERNAME_MAX_LENGTH * 4)).trim()].slice(0, USERNAME_MAX_LENGTH).join("") };
}

/**
 * Users by username, with what an admin decides on: role, lock, consecutive failures and the
 * last successful sign-in, and their active sessions. At most `USER_LIST_LIMIT`, with the total
 * that matched the filter.
 */
export async function listUsers({ q = "", limit = USER_LIST_LIMIT }: { q?: string; limit?: number } = {}): Promise<UserList> {
  const db = await getDb();
  const term = normalizeUsername(q);
  const where = term ? sql`${users.usernameNormalized} like ${`%${escapeLike(term)}%`}` : undefined;
  // The newest success from the per-username counters, then that one row: three index probes
  // per user, however long the account's history.
  const lastSignIn = sql<Date | null>`(
    select l.occurred_at from ${accountLogUsernames} k
    join ${accountLogUsernameResults} r on r.username_key = k.id and r.result = 'login_successful'
    join ${accountLogs} l on l.id = r.last_id
    where k.username_normalized = ${users}.username_normalized)`.mapWith((value: string | Date) => new Date(value));
  const [rows, [total]] = await Promise.all([
    db
      .select({
        id: users.id,
        username: users.username,
        role: users.role,
        lockedAt: users.lockedAt,
        failedAttempts: users.failedAttempts,
        lastSignInAt: lastSignIn,
        createdAt: users.createdAt,
      })
      .from(users)
      .where(where)
      .orderBy(asc(users.usernameNormalized))
      .limit(limit),
    db.select({ n: count() }).from(users).where(where),
  ]);
  const sessions = await listActiveSessions(rows.map((row) => row.id), db);
  const listed = rows.map((row) => ({ ...row, sessions: sessions.filter((session) => session.userId === row.id) }));
  return { users: listed, total: total?.n ?? rows.length, lockoutThreshold: env().LOCKOUT_THRESHOLD };
}

function parseOrRefuse<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UserInputError(parsed.error.issues[0]!.message, field);
  return parsed.data;
}

function actorOf({ admin }: AdminRequest): NonNullable<AccountLogMetadata["actor"]> {
  return { userId: admin.id, username: admin.username, via: "admin page" };
}

/** The one log row of an admin action on an account, written in the action's transaction. */
async function logAdminAction(
  tx: Transaction,
  request: AdminRequest,
  account: { id: number; username: string },
  result: AccountLogResult,
  extra: Pick<AccountLogMetadata, "reason" | "role"> = {},
) {
  const [row] = await appendAccountLog(tx, [
    {
      username: account.username,
      userId: account.id,
      result,
      ip: request.context.ip ?? null,
      metadata: { ...requestMetadata(request.context), actor: actorOf(request), ...extra },
    },
  ]);
  return row!.id;
}

/**
 * Creates an account from the admin page, with the rules of `npm run user:create`, and writes
 * `user_created` naming the admin in the same transaction. Throws UserInputError for a name or
 * password the rules refuse and UsernameTakenError for a name in use (no row either way).
 */
export async function createUserAsAdmin(
  request: AdminRequest & { username: string; password: string; role: UserRole },
): Promise<{ status: "created"; user: { id: number; username: string; role: UserRole }; logId: number }> {
  const prepared = await prepareNewUser(request);
  const db = await getDb();
  return db.transaction(async (tx) => {
    const user = await insertUser(tx, prepared);
    const logId = await logAdminAction(tx, request, user, "user_created", { role: { to: user.role } });
    return { status: "created", user, logId };
  });
}

export type ResetPasswordOutcome = { status: "reset"; username: string; logId: number } | { status: "not_found" };

/**
 * Sets a new password chosen by the admin. Raises the session version, so every session of the
 * account ends, and clears the failure count of an unlocked account: those failures were guesses
 * at the old password. A lock stays: lifting it is a separate decision, with its own reason.
 */
export async function resetPassword(request: AdminRequest & { userId: number; password: string }): Promise<ResetPasswordOutcome> {
  const passwordHash = await hashPassword(parseOrRefuse(newPasswordSchema, request.password, "password"));
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [account] = await tx
      .update(users)
      .set({
        passwordHash,
        failedAttempts: sql`case when ${users.lockedAt} is null then 0 else ${users.failedAttempts} end`,
        sessionVersion: sql`${users.sessionVersion} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(users.id, request.userId))
      .returning({ id: users.id, username: users.username });
    if (!account) return { status: "not_found" };
    return { status: "reset", username: account.username, logId: await logAdminAction(tx, request, account, "password_reset") };
  });
}

/** Whether an active (unlocked) admin other than `userId` exists; call under the admin-set lock. */
async function hasOtherActiveAdmin(tx: Transaction, userId: number): Promise<boolean> {
  const [other] = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, "admin"), isNull(users.lockedAt), ne(users.id, userId)))
    .limit(1);
  return Boolean(other);
}

async function takeAdminSetLock(tx: Transaction) {
  await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_SET_LOCK_KEY}::bigint)`);
}

async function usernameOf(tx: Transaction, which: SQL): Promise<string | undefined> {
  const [row] = await tx.select({ username: users.username }).from(users).where(which);
  return row?.username;
}

export type ChangeRoleOutcome =
  | { status: "changed"; username: string; role: { from: UserRole; to: UserRole }; logId: number }
  | { status: "unchanged"; username: string; role: UserRole }
  | { status: "last_admin"; username: string }
  | { status: "not_found" };

/**
 * Makes an account an admin or a user, and writes `role_changed` with the old and new role.
 * Raises the session version, so the account signs in again with its new role. Refused when it
 * would leave no active admin (the acting admin demoting themselves included). Asking for the
 * role the account already has changes and writes nothing, so two admins clicking at once
 * write one row.
 */
export async function changeRole(request: AdminRequest & { userId: number; role: UserRole }): Promise<ChangeRoleOutcome> {
  const to = parseOrRefuse(z.enum(["admin", "user"], { error: "The role must be admin or user." }), request.role, "role");
  const from: UserRole = to === "admin" ? "user" : "admin";
  const db = await getDb();
  return db.transaction(async (tx): Promise<ChangeRoleOutcome> => {
    const target = eq(users.id, request.userId);
    if (to === "user") {
      await takeAdminSetLock(tx);
      const [account] = await tx.select({ username: users.username, role: users.role, lockedAt: users.lockedAt }).from(users).where(target);
      if (!account) return { status: "not_found" };
      if (account.role === "admin" && !account.lockedAt && !(await hasOtherActiveAdmin(tx, request.userId))) {
        return { status: "last_admin", username: account.username };
      }
    }
    const [changed] = await tx
      .update(users)
      .set({ role: to, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: sql`now()` })
      .where(and(target, eq(users.role, from)))
      .returning({ id: users.id, username: users.username });
    if (!changed) {
      const username = await usernameOf(tx, target);
      return username === undefined ? { status: "not_found" } : { status: "unchanged", username, role: to };
    }
    const logId = await logAdminAction(tx, request, changed, "role_changed", { role: { from, to } });
    return { status: "changed", username: changed.username, role: { from, to }, logId };
  });
}

export type LockOutcome =
  | { status: "locked"; username: string; logId: number }
  | { status: "already_locked"; username: string }
  | { status: "last_admin"; username: string }
  | { status: "own_account" }
  | { status: "not_found" };

/**
 * An admin's lock, with a reason: sets the lock, raises the session version (open sessions end
 * at their next request) and writes `account_locked` naming the admin and the reason. An admin
 * cannot lock their own account, nor the last active admin. Locking a locked account changes
 * and writes nothing.
 */
export async function lockAccount(request: AdminRequest & { userId: number; reason: string }): Promise<LockOutcome> {
  const reason = parseOrRefuse(adminReasonSchema, request.reason, "reason");
  if (request.userId === request.admin.id) return { status: "own_account" };
  const db = await getDb();
  return db.transaction(async (tx): Promise<LockOutcome> => {
    const target = eq(users.id, request.userId);
    await takeAdminSetLock(tx);
    const [account] = await tx.select({ username: users.username, role: users.role, lockedAt: users.lockedAt }).from(users).where(target);
    if (!account) return { status: "not_found" };
    if (account.role === "admin" && !account.lockedAt && !(await hasOtherActiveAdmin(tx, request.userId))) {
      return { status: "last_admin", username: account.username };
    }
    const [locked] = await tx
      .update(users)
      .set({ lockedAt: sql`now()`, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: sql`now()` })
      .where(and(target, isNull(users.lockedAt)))
      .returning({ id: users.id, username: users.username });
    if (!locked) return { status: "already_locked", username: account.username };
    return { status: "locked", username: locked.username, logId: await logAdminAction(tx, request, locked, "account_locked", { reason }) };
  });
}
