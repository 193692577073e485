import { and, eq, isNotNull, sql, type SQL } from "drizzle-orm";
import { getDb } from "@/db";
import { users, type AccountLogMetadata } from "@/db/schema";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { UserInputError } from "@/lib/users/errors";
import { normalizeUsername } from "@/lib/users/username";
import { adminReasonSchema, COMMAND_LINE_UNLOCK_REASON } from "./reason";
import { appendAccountLog } from "./record";

export type UnlockOutcome =
  | { status: "unlocked"; username: string; logId: number }
  | { status: "not_locked"; username: string }
  | { status: "not_found" };

/**
 * An admin's unlock: clears the lock and the failure count and writes `account_unlocked`
 * naming the admin and their reason, in one transaction. Unlocking an account that is not
 * locked changes nothing and writes nothing, so a repeated click is harmless.
 */
export async function unlockAccount({
  userId,
  reason,
  admin,
  context,
}: {
  userId: number;
  /** Required from the admin page: 1–200 characters after trimming. */
  reason: string;
  admin: Pick<CurrentUser, "id" | "username">;
  context: RequestContext;
}): Promise<UnlockOutcome> {
  return unlock(eq(users.id, userId), context, { userId: admin.id, username: admin.username, via: "admin page" }, parseReason(reason));
}

/**
 * Break-glass unlock from the command line, for when every admin is locked out. Logged like an
 * admin's unlock, naming the operating-system account that ran it.
 */
export async function unlockAccountFromCommandLine({
  username,
  operator,
  reason = COMMAND_LINE_UNLOCK_REASON,
}: {
  username: string;
  operator: string;
  reason?: string;
}) {
  const context: RequestContext = { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined };
  const actor = { userId: null, username: operator, via: "command line" } as const;
  return unlock(eq(users.usernameNormalized, normalizeUsername(username)), context, actor, parseReason(reason));
}

function parseReason(raw: string): string {
  const parsed = adminReasonSchema.safeParse(raw);
  if (!parsed.success) throw new UserInputError(parsed.error.issues[0]!.message, "reason");
  return parsed.data;
}

async function unlock(
  which: SQL,
  context: RequestContext,
  actor: NonNullable<AccountLogMetadata["actor"]>,
  reason: string,
): Promise<UnlockOutcome> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [account] = await tx
      .update(users)
      .set({ lockedAt: null, failedAttempts: 0, updatedAt: sql`now()` })
      .where(and(which, isNotNull(users.lockedAt)))
      .returning({ id: users.id, username: users.username });
    if (!account) {
      const [existing] = await tx.select({ username: users.username }).from(users).where(which);
      return existing ? { status: "not_locked", username: existing.username } : { status: "not_found" };
    }
    const [row] = await appendAccountLog(tx, [
      {
        username: account.username,
        userId: account.id,
        result: "account_unlocked",
        ip: context.ip ?? null,
        metadata: { ...requestMetadata(context), actor, reason },
      },
    ]);
    return { status: "unlocked", username: account.username, logId: row!.id };
  });
}
