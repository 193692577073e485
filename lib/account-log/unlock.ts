import { and, eq, isNotNull, sql, type SQL } from "drizzle-orm";
import { getDb } from "@/db";
import { users, type AccountLogMetadata } from "@/db/schema";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { normalizeUsername } from "@/lib/users/username";
import { appendAccountLog } from "./record";

export type UnlockOutcome =
  | { status: "unlocked"; username: string; logId: number }
  | { status: "not_locked"; username: string }
  | { status: "not_found" };

/**
 * An admin's unlock: clears the lock and the failure count and writes `account_unlocked`
 * naming the admin, in one transaction. Unlocking an account that is not locked changes
 * nothing and writes nothing, so a repeated click is harmless.
 */
export async function unlockAccount({
  userId,
  admin,
  context,
}: {
  userId: number;
  admin: Pick<CurrentUser, "id" | "username">;
  context: RequestContext;
}): Promise<UnlockOutcome> {
  return unlock(eq(users.id, userId), context, { userId: admin.id, username: admin.username, via: "admin page" });
}

/**
 * Break-glass unlock from the command line, for when every admin is locked out. Logged like an
 * admin's unlock, naming the operating-system account that ran it.
 */
export async function unlockAccountFromCommandLine({ username, operator }: { username: string; operator: string }) {
  const context: RequestContext = { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined };
  return unlock(eq(users.usernameNormalized, normalizeUsername(username)), context, {
    userId: null,
    username: operator,
    via: "command line",
  });
}

async function unlock(which: SQL, context: RequestContext, actor: NonNullable<AccountLogMetadata["actor"]>): Promise<UnlockOutcome> {
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
        metadata: { ...requestMetadata(context), actor },
      },
    ]);
    return { status: "unlocked", username: account.username, logId: row!.id };
  });
}
