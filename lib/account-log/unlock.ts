import { and, eq, isNotNull, sql } from "drizzle-orm";
import { getDb } from "@/db";
import { users } from "@/db/schema";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
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
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [account] = await tx
      .update(users)
      .set({ lockedAt: null, failedAttempts: 0, updatedAt: sql`now()` })
      .where(and(eq(users.id, userId), isNotNull(users.lockedAt)))
      .returning({ username: users.username });
    if (!account) {
      const [existing] = await tx.select({ username: users.username }).from(users).where(eq(users.id, userId));
      return existing ? { status: "not_locked", username: existing.username } : { status: "not_found" };
    }
    const [row] = await appendAccountLog(tx, [
      {
        username: account.username,
        userId,
        result: "account_unlocked",
        ip: context.ip ?? null,
        metadata: { ...requestMetadata(context), actor: { userId: admin.id, username: admin.username } },
      },
    ]);
    return { status: "unlocked", username: account.username, logId: row!.id };
  });
}
