import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { getDb, type Executor } from "@/db";
import { users, userSessions, type UserRole } from "@/db/schema";
import { env } from "@/lib/env";
import { LAST_SEEN_WRITE_INTERVAL_SECONDS, newSessionKey, SESSION_LIFETIME_SECONDS, sessionKeyHash } from "./key";

/**
 * A session that still works: not revoked, before its absolute expiry, used within the idle
 * timeout, and its account unlocked with the session version it signed in with. The one
 * definition the request check, the lists and the End buttons share; needs `users` joined.
 */
export function isActiveSession() {
  return sql`${userSessions.revokedAt} is null
    and ${userSessions.expiresAt} > now()
    and ${userSessions.lastSeenAt} > now() - make_interval(mins => ${env().SESSION_IDLE_MINUTES}::int)
    and ${users.lockedAt} is null
    and ${users.sessionVersion} = ${userSessions.sessionVersion}`;
}

/**
 * A session record for a sign-in, in the sign-in's transaction. Returns the key for the cookie;
 * only its hash is stored.
 */
export async function createSessionRecord(
  executor: Executor,
  session: { userId: number; sessionVersion: number; device: string | undefined; ip: string | null },
): Promise<{ id: number; key: string; expiresAt: Date }> {
  const key = newSessionKey();
  const [row] = await executor
    .insert(userSessions)
    .values({
      keyHash: sessionKeyHash(key),
      userId: session.userId,
      sessionVersion: session.sessionVersion,
      device: session.device ?? null,
      ip: session.ip,
      expiresAt: sql`now() + make_interval(secs => ${SESSION_LIFETIME_SECONDS}::int)`,
    })
    .returning({ id: userSessions.id, expiresAt: userSessions.expiresAt });
  return { id: row!.id, key, expiresAt: row!.expiresAt };
}

export type SessionClaims = { userId: number; sessionVersion: number | undefined; sessionKey: string | undefined };

export type CheckedSession = { sessionId: number; user: { id: number; username: string; role: UserRole } };

/**
 * The account behind a session cookie's claims, or undefined when that session has ended
 * (signed out, ended by an admin or its owner, idle, expired, account locked or removed,
 * session version raised). Notes the session as seen, at most once a minute: the conditional
 * update keeps that to one write a minute across any number of app processes.
 */
export async function checkSessionRecord(claims: SessionClaims): Promise<CheckedSession | undefined> {
  if (!claims.sessionKey || claims.sessionVersion === undefined) return undefined;
  const db = await getDb();
  const [row] = await db
    .select({
      sessionId: userSessions.id,
      id: users.id,
      username: users.username,
      role: users.role,
      stale: sql<boolean>`${userSessions.lastSeenAt} < now() - make_interval(secs => ${LAST_SEEN_WRITE_INTERVAL_SECONDS}::int)`,
    })
    .from(userSessions)
    .innerJoin(users, eq(users.id, userSessions.userId))
    .where(
      and(
        eq(userSessions.keyHash, sessionKeyHash(claims.sessionKey)),
        eq(userSessions.userId, claims.userId),
        eq(users.sessionVersion, claims.sessionVersion),
        isActiveSession(),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  if (row.stale) await touchSession(db, row.sessionId);
  return { sessionId: row.sessionId, user: { id: row.id, username: row.username, role: row.role } };
}

/** Last seen now, unless another request did it within the minute; how many rows it wrote (0 or 1). */
export async function touchSession(executor: Executor, sessionId: number): Promise<number> {
  const touched = await executor
    .update(userSessions)
    .set({ lastSeenAt: sql`now()` })
    .where(
      and(
        eq(userSessions.id, sessionId),
        sql`${userSessions.revokedAt} is null`,
        sql`${userSessions.lastSeenAt} < now() - make_interval(secs => ${LAST_SEEN_WRITE_INTERVAL_SECONDS}::int)`,
      ),
    )
    .returning({ id: userSessions.id });
  return touched.length;
}

/**
 * The session of a cookie ends at sign-out; in the transaction that writes the `logout` row.
 * Only a session that still works is ended: false for one already over (revoked, expired,
 * idle, its account locked or its version raised), which then gets no `logout` row either.
 */
export async function revokeSessionByKey(executor: Executor, { userId, sessionKey }: { userId: number; sessionKey: string }): Promise<boolean> {
  const revoked = await executor
    .update(userSessions)
    .set({ revokedAt: sql`now()`, revokedReason: "signed out", revokedBy: userId })
    .where(
      and(
        eq(userSessions.keyHash, sessionKeyHash(sessionKey)),
        eq(userSessions.userId, userId),
        sql`exists (select 1 from ${users} where ${users.id} = ${userSessions.userId} and ${isActiveSession()})`,
      ),
    )
    .returning({ id: userSessions.id });
  return revoked.length > 0;
}

export type ActiveSession = {
  id: number;
  userId: number;
  device: string | null;
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
};

/** The active sessions of some accounts, newest first. */
export async function listActiveSessions(userIds: number[], executor?: Executor): Promise<ActiveSession[]> {
  if (userIds.length === 0) return [];
  const db = executor ?? (await getDb());
  return db
    .select({
      id: userSessions.id,
      userId: userSessions.userId,
      device: userSessions.device,
      ip: sql<string | null>`host(${userSessions.ip})`,
      createdAt: userSessions.createdAt,
      lastSeenAt: userSessions.lastSeenAt,
      expiresAt: userSessions.expiresAt,
    })
    .from(userSessions)
    .innerJoin(users, eq(users.id, userSessions.userId))
    .where(and(inArray(userSessions.userId, userIds), isActiveSession()))
    .orderBy(desc(userSessions.createdAt), desc(userSessions.id));
}
