import "server-only";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db";
import { users, userSessions, type AccountLogMetadata } from "@/db/schema";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { appendAccountLog } from "@/lib/account-log/record";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { UserInputError } from "@/lib/users/errors";
import { isActiveSession } from "./queries";

/** Which of an account's active sessions to end. */
export type SessionScope = { kind: "one"; sessionId: number } | { kind: "all" } | { kind: "others"; keepSessionId: number };

export type EndSessionsOutcome =
  | { status: "ended"; username: string; ended: number; logId: number }
  /** Nothing active matched (already ended, or not this account's): nothing changed, no row. */
  | { status: "none"; username: string }
  | { status: "not_found" }
  /** The actor is not an unlocked admin in the database: nothing changed, no row. */
  | { status: "forbidden" };

type Actor = Pick<CurrentUser, "id" | "username">;

/** What the owner's own ending records as its reason on the session. */
export const OWNER_ENDED_REASON = "ended by its owner";

/**
 * Ends an account's active sessions in `scope` and writes one `session_revoked` row naming the
 * actor (and the admin's reason), in one transaction. A session ended here stops working at its
 * next request, on every app process: each request checks the record.
 */
async function endSessions(
  tx: Transaction,
  request: { actor: Actor; context: RequestContext; userId: number; scope: SessionScope; via: "admin page" | "sessions page"; reason?: string },
): Promise<EndSessionsOutcome> {
  const [account] = await tx.select({ id: users.id, username: users.username }).from(users).where(eq(users.id, request.userId));
  if (!account) return { status: "not_found" };
  const { scope } = request;
  const inScope =
    scope.kind === "one" ? eq(userSessions.id, scope.sessionId) : scope.kind === "others" ? ne(userSessions.id, scope.keepSessionId) : undefined;
  const active = tx
    .select({ id: userSessions.id })
    .from(userSessions)
    .innerJoin(users, eq(users.id, userSessions.userId))
    .where(and(eq(userSessions.userId, account.id), inScope, isActiveSession()));
  const ended = await tx
    .update(userSessions)
    .set({ revokedAt: sql`now()`, revokedReason: request.reason ?? OWNER_ENDED_REASON, revokedBy: request.actor.id })
    .where(and(inArray(userSessions.id, active), sql`${userSessions.revokedAt} is null`))
    .returning({ id: userSessions.id, device: userSessions.device });
  if (ended.length === 0) return { status: "none", username: account.username };

  const sessions: NonNullable<AccountLogMetadata["sessions"]> = { ended: ended.length, scope: scope.kind };
  if (scope.kind === "one") {
    sessions.id = ended[0]!.id;
    if (ended[0]!.device) sessions.device = ended[0]!.device;
  }
  const [row] = await appendAccountLog(tx, [
    {
      username: account.username,
      userId: account.id,
      result: "session_revoked",
      ip: request.context.ip ?? null,
      metadata: {
        ...requestMetadata(request.context),
        actor: { userId: request.actor.id, username: request.actor.username, via: request.via },
        sessions,
        ...(request.reason !== undefined && { reason: request.reason }),
      },
    },
  ]);
  return { status: "ended", username: account.username, ended: ended.length, logId: row!.id };
}

function parseReason(reason: string): string {
  const parsed = adminReasonSchema.safeParse(reason);
  if (!parsed.success) throw new UserInputError(parsed.error.issues[0]!.message, "reason");
  return parsed.data;
}

const adminScope = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("one"), sessionId: z.number().int().positive() }),
  z.object({ kind: z.literal("all") }),
]);

/**
 * An admin ends one session of an account, or all of them, with a reason. The actor's role is
 * read again in the transaction: whoever calls this, only an unlocked admin ends anything.
 */
export async function endSessionsAsAdmin(request: {
  admin: Actor;
  context: RequestContext;
  userId: number;
  scope: { kind: "one"; sessionId: number } | { kind: "all" };
  reason: string;
}): Promise<EndSessionsOutcome> {
  const reason = parseReason(request.reason);
  const scope = adminScope.parse(request.scope);
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [actor] = await tx.select({ role: users.role, lockedAt: users.lockedAt }).from(users).where(eq(users.id, request.admin.id));
    if (actor?.role !== "admin" || actor.lockedAt) return { status: "forbidden" };
    return endSessions(tx, { actor: request.admin, context: request.context, userId: request.userId, scope, via: "admin page", reason });
  });
}

/**
 * A signed-in user ends one of their own sessions, or all but the one they are using. Only
 * their own account's sessions match: another account's session ID ends nothing.
 */
export async function endOwnSessions(request: {
  user: Actor;
  context: RequestContext;
  scope: { kind: "one"; sessionId: number } | { kind: "others"; keepSessionId: number };
}): Promise<EndSessionsOutcome> {
  const db = await getDb();
  return db.transaction((tx) =>
    endSessions(tx, { actor: request.user, context: request.context, userId: request.user.id, scope: request.scope, via: "sessions page" }),
  );
}
