import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, rowsOf, type Executor } from "@/db";
import { users, type UserRole } from "@/db/schema";
import { hashPassword, needsRehash, verifyDummyPassword, verifyPassword } from "@/lib/auth/password";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { withDeadline } from "@/lib/service/deadline";
import { createSessionRecord } from "@/lib/sessions/queries";
import { logServerError } from "@/lib/server-log";
import { findUserByUsername } from "@/lib/users/queries";
import { normalizeUsername, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH } from "@/lib/users/username";
import { appendAccountLog } from "./record";
import { boundUsername, storableText } from "./text";
import { crossesLockThreshold } from "./lockout";
import { noteSignInPlace } from "./signals";
import { claimAttemptPlace, isAddressThrottled } from "./throttle";
import { lastResetPoint, resetScheduleKey } from "./unknown-username";

export type SignedInUser = { id: number; username: string; role: UserRole; sessionVersion: number };

/** The new session: `key` goes in the cookie, and only its hash in the database. */
export type NewSession = { id: number; key: string; expiresAt: Date };

export type SignInOutcome =
  | { status: "signed_in"; user: SignedInUser; session: NewSession; logId: number }
  | { status: "rejected"; reason: "invalid_credentials" | "locked" | "rate_limited"; logId: number };

/** Logged instead of a typed username that may be a password (see `loggedUsername`). */
export const USERNAME_NOT_STORED = "(not stored: sent without a password)";

// Advisory-lock key space for attempts on unknown usernames (the second key is the name's hash).
const UNKNOWN_USERNAME_LOCK_SPACE = 726_531_003;

/**
 * How long the first, read-only query of an attempt may wait for the database. While the
 * server is unreachable the driver queues queries behind its reconnect backoff (up to 20 s);
 * an attempt that gets no answer by then is refused before it has written anything.
 */
const DATABASE_ANSWER_DEADLINE_MS = 5_000;

const noAnswer = () => new Error(`The database did not answer within ${DATABASE_ANSWER_DEADLINE_MS} ms.`);

export class SignInUnavailableError extends Error {
  override name = "SignInUnavailableError";
}

const credentialsSchema = z.object({
  username: z
    .string()
    .transform(normalizeUsername)
    .pipe(z.string().min(1).refine((name) => [...name].length <= USERNAME_MAX_LENGTH)),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

/** The typed username whatever arrived: a missing or non-text field is logged as empty. */
function typedUsername(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * What the log keeps of an attempt's username when it reached no account. A username sent
 * without a password is not kept: the usual way a password lands in a log is a user typing it
 * into the username field and pressing Enter. (Such an attempt is refused before any account is
 * looked at, so what the row keeps tells an attacker nothing.)
 */
function loggedUsername(credentials: { username?: unknown; password?: unknown }): string {
  const hasPassword = typeof credentials.password === "string" && credentials.password !== "";
  return hasPassword ? typedUsername(credentials.username) : USERNAME_NOT_STORED;
}

/**
 * One sign-in attempt: checks the password, applies the lockout rule and writes exactly one
 * attempt row (plus `account_locked` when this attempt locks the account). The account state,
 * the log rows and a success's session record change in one transaction; if any cannot be
 * written, nothing changes and the attempt fails closed with SignInUnavailableError.
 */
export async function attemptSignIn(
  credentials: { username?: unknown; password?: unknown },
  context: RequestContext,
): Promise<SignInOutcome> {
  const threshold = env().LOCKOUT_THRESHOLD;
  const typed = typedUsername(credentials.username);
  const attempt = { username: typed, ip: context.ip ?? null, metadata: requestMetadata(context) };
  try {
    // A name longer than the log keeps is refused outright: checking it would file the attempt
    // under a different (cut) name than the account it reached.
    const parsed = boundUsername(typed).truncated
      ? undefined
      : credentialsSchema.safeParse({ username: storableText(typed), password: credentials.password });
    const db = await getDb();
    if (!parsed?.success) {
      const [row] = await appendAccountLog(db, [
        { ...attempt, username: loggedUsername(credentials), result: "login_failed_invalid_request" },
      ]);
      return { status: "rejected", reason: "invalid_credentials", logId: row!.id };
    }
    const { username: normalized, password } = parsed.data;
    const user = await findUserByUsername(normalized, db);

    if (!user) {
      await verifyDummyPassword(password);
      return await db.transaction(async (tx) => {
        // One attempt at a time per name, as the row lock orders attempts on an account: a burst
        // on an unknown name then also gets exactly `threshold` "invalid" answers. Log inserts
        // share no lock, so this is what orders them.
        await tx.execute(sql`select pg_advisory_xact_lock(${UNKNOWN_USERNAME_LOCK_SPACE}::int, hashtext(${normalized}))`);
        const [row] = await appendAccountLog(tx, [{ ...attempt, result: "login_failed_unknown_user" }]);
        // Unknown names lock after as many failures as an account would, and start over at
        // unguessable moments as an account does when its owner signs in or an admin unlocks it,
        // so neither the answer nor how it changes over time reveals which accounts exist.
        const since = lastResetPoint({
          name: normalized,
          at: row!.occurredAt.getTime(),
          periodMs: env().UNKNOWN_USERNAME_RESET_HOURS * 3_600_000,
          key: resetScheduleKey(),
        });
        // The name's failures whether sealed or still in the inbox, read in one statement.
        const recent = rowsOf<{ occurred_at: string | Date }>(
          await tx.execute(sql`
            select occurred_at from (
              (select l.id, l.occurred_at from account_logs l
               join account_log_usernames u on u.id = l.username_key
               where u.username_normalized = ${normalized} and l.result = 'login_failed_unknown_user'
               order by l.id desc limit ${threshold + 1})
              union all
              (select i.id, i.occurred_at from account_log_inbox i
               where i.username_normalized = ${normalized} and i.result = 'login_failed_unknown_user'
               order by i.id desc limit ${threshold + 1})
            ) failures order by id desc limit ${threshold + 1}`),
        );
        const failures = recent.filter((failure) => new Date(failure.occurred_at).getTime() >= since).length;
        const locked = crossesLockThreshold(failures, threshold);
        return { status: "rejected", reason: locked ? "locked" : "invalid_credentials", logId: row!.id } as const;
      });
    }

    const accountAttempt = { ...attempt, userId: user.id };
    const refuseLocked = async (executor: Executor): Promise<SignInOutcome> => {
      const [row] = await appendAccountLog(executor, [{ ...accountAttempt, result: "login_failed_account_locked" }]);
      return { status: "rejected", reason: "locked", logId: row!.id };
    };
    if (user.lockedAt) {
      // A locked account is refused whatever the password: the real hash is never checked.
      await verifyDummyPassword(password);
      return refuseLocked(db);
    }

    const correct = await verifyPassword(password, user.passwordHash);

    const outcome = await db.transaction(async (tx): Promise<SignInOutcome> => {
      // Conditional updates: the row lock orders concurrent attempts, and `locked_at is null`
      // makes every attempt after the locking one see the lock, on any number of app processes.
      if (correct) {
        const [account] = await tx
          .update(users)
          .set({ failedAttempts: 0, updatedAt: sql`now()` })
          .where(and(eq(users.id, user.id), isNull(users.lockedAt)))
          .returning({ id: users.id, username: users.username, role: users.role, sessionVersion: users.sessionVersion });
        if (!account) return refuseLocked(tx);
        const signals = await noteSignInPlace(tx, user.id, { ip: attempt.ip, country: attempt.metadata.location?.country });
        const [row] = await appendAccountLog(tx, [
          { ...accountAttempt, result: "login_successful", metadata: { ...attempt.metadata, ...(signals && { signals }) } },
        ]);
        const session = await createSessionRecord(tx, {
          userId: account.id,
          sessionVersion: account.sessionVersion,
          device: attempt.metadata.summary,
          ip: attempt.ip,
        });
        return { status: "signed_in", user: account, session, logId: row!.id };
      }

      const failuresAfter = sql`${users.failedAttempts} + 1`;
      const [account] = await tx
        .update(users)
        .set({
          failedAttempts: failuresAfter,
          lockedAt: sql`case when ${failuresAfter} > ${threshold} then now() end`,
          sessionVersion: sql`case when ${failuresAfter} > ${threshold} then ${users.sessionVersion} + 1 else ${users.sessionVersion} end`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(users.id, user.id), isNull(users.lockedAt)))
        .returning({ failedAttempts: users.failedAttempts, lockedAt: users.lockedAt });
      if (!account) return refuseLocked(tx);
      if (!account.lockedAt) {
        const [row] = await appendAccountLog(tx, [{ ...accountAttempt, result: "login_failed_wrong_password" }]);
        return { status: "rejected", reason: "invalid_credentials", logId: row!.id };
      }
      const [row] = await appendAccountLog(tx, [
        { ...accountAttempt, result: "login_failed_wrong_password" },
        {
          username: user.username,
          userId: user.id,
          result: "account_locked",
          ip: attempt.ip,
          metadata: { ...attempt.metadata, failedAttempts: account.failedAttempts },
        },
      ]);
      return { status: "rejected", reason: "locked", logId: row!.id };
    });
    // Only once the attempt is decided and committed as a success: a refusal (locked, say) never
    // waits for the slow hash, so its timing cannot tell that the password was right.
    if (outcome.status === "signed_in" && needsRehash(user.passwordHash)) await upgradePasswordHash(db, user.id, user.passwordHash, password);
    return outcome;
  } catch (error) {
    logServerError("sign-in attempt could not be recorded; refused", error);
    throw new SignInUnavailableError("The sign-in attempt could not be recorded.", { cause: error });
  }
}

/**
 * Stores the password's hash at the current cost in place of an older, cheaper one, unless the
 * hash changed meanwhile (a password reset). The sign-in stands whether or not this succeeds.
 */
async function upgradePasswordHash(db: Executor, userId: number, previousHash: string, password: string): Promise<void> {
  try {
    const upgraded = await hashPassword(password);
    await db
      .update(users)
      .set({ passwordHash: upgraded, updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), eq(users.passwordHash, previousHash)));
  } catch (error) {
    logServerError("password hash could not be upgraded; the older hash stays", error, { userId });
  }
}

/**
 * A sign-in attempt from a client address, as the sign-in endpoint makes it: an address with too
 * many recent failures is refused before any password is checked (`login_failed_rate_limited`,
 * whatever the username), otherwise the attempt goes on to `attemptSignIn`. Without an address
 * (the app not behind its own server) there is nothing to count by, and no throttle.
 */
export async function attemptThrottledSignIn(
  credentials: { username?: unknown; password?: unknown },
  context: RequestContext,
): Promise<SignInOutcome> {
  const ip = context.ip;
  if (!ip) return attemptSignIn(credentials, context);
  const {
    SIGN_IN_RATE_LIMIT_FAILURES: maxFailures,
    SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: windowSeconds,
    SIGN_IN_RATE_LIMIT_CONCURRENT: maxConcurrent,
  } = env();
  const release = claimAttemptPlace(ip, maxConcurrent);
  try {
    let throttled = !release;
    try {
      const db = await withDeadline(getDb(), DATABASE_ANSWER_DEADLINE_MS, noAnswer);
      throttled ||= await withDeadline(isAddressThrottled(db, ip, { maxFailures, windowSeconds }), DATABASE_ANSWER_DEADLINE_MS, noAnswer);
      if (throttled) {
        // No account is looked up: the answer and its timing depend on the address alone.
        const [row] = await appendAccountLog(db, [
          { username: loggedUsername(credentials), ip, metadata: requestMetadata(context), result: "login_failed_rate_limited" },
        ]);
        return { status: "rejected", reason: "rate_limited", logId: row!.id };
      }
    } catch (error) {
      logServerError("sign-in throttle could not be checked; refused", error);
      throw new SignInUnavailableError("The sign-in attempt could not be recorded.", { cause: error });
    }
    return await attemptSignIn(credentials, context);
  } finally {
    release?.();
  }
}

/** Logged as the username of a sign-in whose body was too large to read. */
export const USERNAME_NOT_READ = "(not read: request too large)";

/**
 * A sign-in request refused before its credentials were checked: a bad CSRF token, or a body
 * over the limit (`credentials` is then undefined: the body was never read).
 */
export async function recordRejectedSignInRequest(
  credentials: { username?: unknown; password?: unknown } | undefined,
  context: RequestContext,
) {
  try {
    await appendAccountLog(await getDb(), [
      {
        username: credentials ? loggedUsername(credentials) : USERNAME_NOT_READ,
        ip: context.ip ?? null,
        metadata: requestMetadata(context),
        result: "login_failed_invalid_request",
      },
    ]);
  } catch (error) {
    logServerError("rejected sign-in request could not be recorded", error);
  }
}
