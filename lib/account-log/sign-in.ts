import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Executor } from "@/db";
import { accountLogs, accountLogUsernames, users, type UserRole } from "@/db/schema";
import { hashPassword, needsRehash, verifyDummyPassword, verifyPassword } from "@/lib/auth/password";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { logServerError } from "@/lib/server-log";
import { findUserByUsername } from "@/lib/users/queries";
import { normalizeUsername, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH } from "@/lib/users/username";
import { appendAccountLog } from "./record";
import { boundUsername, storableText } from "./text";
import { crossesLockThreshold } from "./lockout";

export type SignedInUser = { id: number; username: string; role: UserRole; sessionVersion: number };

export type SignInOutcome =
  | { status: "signed_in"; user: SignedInUser; logId: number }
  | { status: "rejected"; reason: "invalid_credentials" | "locked"; logId: number };

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
 * One sign-in attempt: checks the password, applies the lockout rule and writes exactly one
 * attempt row (plus `account_locked` when this attempt locks the account). The account state
 * and the log rows change in one transaction; if the log cannot be written, nothing changes
 * and the attempt fails closed with SignInUnavailableError.
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
      const [row] = await appendAccountLog(db, [{ ...attempt, result: "login_failed_invalid_request" }]);
      return { status: "rejected", reason: "invalid_credentials", logId: row!.id };
    }
    const { username: normalized, password } = parsed.data;
    const user = await findUserByUsername(normalized, db);

    if (!user) {
      await verifyDummyPassword(password);
      return await db.transaction(async (tx) => {
        const [row] = await appendAccountLog(tx, [{ ...attempt, result: "login_failed_unknown_user" }]);
        // Unknown names show the locked message after as many failures as a real account would,
        // so the message does not reveal which accounts exist.
        const recent = tx
          .select({ id: accountLogs.id })
          .from(accountLogs)
          .innerJoin(accountLogUsernames, eq(accountLogUsernames.id, accountLogs.usernameKey))
          .where(and(eq(accountLogUsernames.usernameNormalized, normalized), eq(accountLogs.result, "login_failed_unknown_user")))
          .orderBy(desc(accountLogs.id))
          .limit(threshold + 1)
          .as("recent");
        const [failures] = await tx.select({ n: count() }).from(recent);
        const locked = crossesLockThreshold(failures?.n ?? 0, threshold);
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
    const upgradedHash = correct && needsRehash(user.passwordHash) ? await hashPassword(password) : undefined;

    return await db.transaction(async (tx): Promise<SignInOutcome> => {
      // Conditional updates: the row lock orders concurrent attempts, and `locked_at is null`
      // makes every attempt after the locking one see the lock, on any number of app processes.
      if (correct) {
        const [account] = await tx
          .update(users)
          .set({ failedAttempts: 0, updatedAt: sql`now()`, ...(upgradedHash && { passwordHash: upgradedHash }) })
          .where(and(eq(users.id, user.id), isNull(users.lockedAt)))
          .returning({ id: users.id, username: users.username, role: users.role, sessionVersion: users.sessionVersion });
        if (!account) return refuseLocked(tx);
        const [row] = await appendAccountLog(tx, [{ ...accountAttempt, result: "login_successful" }]);
        return { status: "signed_in", user: account, logId: row!.id };
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
  } catch (error) {
    logServerError("sign-in attempt could not be recorded; refused", error);
    throw new SignInUnavailableError("The sign-in attempt could not be recorded.", { cause: error });
  }
}

/** A sign-in request refused before its credentials were checked (bad CSRF token). */
export async function recordRejectedSignInRequest(credentials: { username?: unknown }, context: RequestContext) {
  try {
    await appendAccountLog(await getDb(), [
      {
        username: typedUsername(credentials.username),
        ip: context.ip ?? null,
        metadata: requestMetadata(context),
        result: "login_failed_invalid_request",
      },
    ]);
  } catch (error) {
    logServerError("rejected sign-in request could not be recorded", error);
  }
}
