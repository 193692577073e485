import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { userSessions } from "@/db/schema";
import { attemptSignIn, SignInUnavailableError } from "@/lib/account-log/sign-in";
import { verifyChain } from "@/lib/audit/verify";
import { authOptions } from "@/lib/auth/options";
import { deleteEndedSessions, startSessionCleanup } from "@/lib/sessions/cleanup";
import { endOwnSessions, endSessionsAsAdmin } from "@/lib/sessions/end";
import { sessionKeyHash } from "@/lib/sessions/key";
import { checkSessionRecord, listActiveSessions, touchSession } from "@/lib/sessions/queries";
import { lockAccount, resetPassword, type AdminRequest } from "@/lib/users/admin";
import { UserInputError } from "@/lib/users/errors";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { accountState, browserContext, countRows, createTestUser, logRowsFor } from "../support/accounts";

type TestUser = Awaited<ReturnType<typeof createTestUser>>;

async function signIn(user: TestUser) {
  const outcome = await attemptSignIn({ username: user.username, password: user.password }, browserContext);
  if (outcome.status !== "signed_in") throw new Error(`${user.username} could not sign in: ${outcome.reason}`);
  return outcome;
}

/** What a request presents: the cookie's claims. */
async function claimsOf(user: TestUser, session: { key: string }) {
  return { userId: user.id, sessionVersion: (await accountState(user.id)).sessionVersion, sessionKey: session.key };
}

async function record(id: number) {
  const db = await getDb();
  const [row] = await db.select().from(userSessions).where(eq(userSessions.id, id));
  return row;
}

/** Moves a session's times by the database clock, as if it had been made or used earlier. */
async function setTimes(id: number, times: { lastSeenAgo?: string; expiresIn?: string; revokedAgo?: string }) {
  const db = await getDb();
  if (times.lastSeenAgo) await db.execute(sql`update user_sessions set last_seen_at = now() - ${times.lastSeenAgo}::interval where id = ${id}`);
  if (times.expiresIn) await db.execute(sql`update user_sessions set expires_at = now() + ${times.expiresIn}::interval where id = ${id}`);
  if (times.revokedAgo) await db.execute(sql`update user_sessions set revoked_at = now() - ${times.revokedAgo}::interval where id = ${id}`);
}

async function newAdmin(): Promise<AdminRequest> {
  const admin = await createTestUser("boss", "admin");
  return { admin: { id: admin.id, username: admin.username }, context: browserContext };
}

async function rowsOf(username: string, result: string) {
  return (await logRowsFor(username.toLowerCase())).filter((row) => row.result === result);
}

const signOut = (user: TestUser, key: string) => authOptions.events!.signOut!({ token: { uid: user.id, name: user.username, sid: key }, session: null as never });

describe.each(DATABASE_KINDS)("session records on %s", (kind) => {
  useFreshDatabase(kind);

  it("a sign-in creates a session record that keeps only the key's hash, with device, address and an absolute expiry", async () => {
    const user = await createTestUser("rec");
    const { session, logId } = await signIn(user);
    const row = await record(session.id);
    expect(row).toMatchObject({ userId: user.id, device: "Chrome 131 · Windows 11", ip: "203.0.113.5", revokedAt: null, sessionVersion: 1 });
    expect(Buffer.from(row!.keyHash).equals(sessionKeyHash(session.key))).toBe(true);
    expect(JSON.stringify(row)).not.toContain(session.key);
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(8 * 3_600_000);
    expect((await logRowsFor(user.username)).map((r) => [r.id, r.result])).toEqual([[logId, "login_successful"]]);
    expect(await checkSessionRecord(await claimsOf(user, session))).toEqual({
      sessionId: session.id,
      user: { id: user.id, username: user.username, role: "user" },
    });
    // A key alone is not enough: it must come with its account and version, as the token carries them.
    expect(await checkSessionRecord({ userId: user.id, sessionVersion: 1, sessionKey: "not-the-key" })).toBeUndefined();
    expect(await checkSessionRecord({ userId: user.id, sessionVersion: 1, sessionKey: undefined })).toBeUndefined();
  });

  it("fails closed: a session record that cannot be written means no sign-in and no success row", async () => {
    const user = await createTestUser("closed");
    await signIn(user);
    const db = await getDb();
    await db.execute(sql`create function refuse_session() returns trigger language plpgsql as $$ begin raise exception 'no sessions today'; end $$`);
    await db.execute(sql`create trigger refuse_session before insert on user_sessions for each row execute function refuse_session()`);
    try {
      const before = await countRows();
      await expect(attemptSignIn({ username: user.username, password: user.password }, browserContext)).rejects.toBeInstanceOf(SignInUnavailableError);
      expect(await countRows()).toBe(before);
    } finally {
      await db.execute(sql`drop trigger refuse_session on user_sessions`);
      await db.execute(sql`drop function refuse_session()`);
    }
    expect((await rowsOf(user.username, "login_successful")).length).toBe(1);
  });

  it("sign-out revokes the session in the transaction of its logout row; other sessions go on", async () => {
    const user = await createTestUser("out");
    const first = (await signIn(user)).session;
    const second = (await signIn(user)).session;
    await signOut(user, first.key);
    expect(await record(first.id)).toMatchObject({ revokedReason: "signed out", revokedBy: user.id });
    expect((await record(first.id))!.revokedAt).not.toBeNull();
    expect(await checkSessionRecord(await claimsOf(user, first))).toBeUndefined();
    expect(await checkSessionRecord(await claimsOf(user, second))).toBeDefined();
    expect((await rowsOf(user.username, "logout")).length).toBe(1);
  });

  it("a cookie whose session is already over signs out nothing and writes no logout row, however often", async () => {
    const user = await createTestUser("out-again");
    const ended = (await signIn(user)).session;
    const idle = (await signIn(user)).session;
    await signOut(user, ended.key);
    await setTimes(idle.id, { lastSeenAgo: "61 minutes" });
    for (let i = 0; i < 3; i++) {
      await signOut(user, ended.key);
      await signOut(user, idle.key);
    }
    expect((await rowsOf(user.username, "logout")).length).toBe(1);
    expect((await record(idle.id))!.revokedAt).toBeNull();
  });

  it("absolute expiry is not moved by activity", async () => {
    const user = await createTestUser("abs");
    const { session } = await signIn(user);
    const claims = await claimsOf(user, session);
    const expiresAt = (await record(session.id))!.expiresAt.getTime();
    for (let i = 0; i < 3; i++) {
      await setTimes(session.id, { lastSeenAgo: "5 minutes" });
      expect(await checkSessionRecord(claims)).toBeDefined();
      const row = await record(session.id);
      expect(row!.lastSeenAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(row!.expiresAt.getTime()).toBe(expiresAt);
    }
    // Used a moment ago, but past its expiry: over.
    await setTimes(session.id, { expiresIn: "-1 second" });
    expect(await checkSessionRecord(claims)).toBeUndefined();
    expect(await listActiveSessions([user.id])).toEqual([]);
  });

  it("ends a session idle for longer than SESSION_IDLE_MINUTES (60)", async () => {
    const user = await createTestUser("idle");
    const { session } = await signIn(user);
    const claims = await claimsOf(user, session);
    await setTimes(session.id, { lastSeenAgo: "59 minutes" });
    expect(await checkSessionRecord(claims)).toBeDefined();
    // That request counted as activity: idle again from now.
    await setTimes(session.id, { lastSeenAgo: "61 minutes" });
    expect(await checkSessionRecord(claims)).toBeUndefined();
    expect(await listActiveSessions([user.id])).toEqual([]);
    // Ended for good: a later request does not bring it back.
    expect(await checkSessionRecord(claims)).toBeUndefined();
  });

  it("writes last-seen at most once a minute per session", async () => {
    const user = await createTestUser("seen");
    const { session } = await signIn(user);
    const claims = await claimsOf(user, session);
    const created = (await record(session.id))!.lastSeenAt.getTime();
    for (let i = 0; i < 5; i++) expect(await checkSessionRecord(claims)).toBeDefined();
    expect((await record(session.id))!.lastSeenAt.getTime()).toBe(created);
    expect(await touchSession(await getDb(), session.id)).toBe(0);

    await setTimes(session.id, { lastSeenAgo: "61 seconds" });
    const stale = (await record(session.id))!.lastSeenAt.getTime();
    expect(await checkSessionRecord(claims)).toBeDefined();
    const touched = (await record(session.id))!.lastSeenAt.getTime();
    expect(touched).toBeGreaterThan(stale);
    // Two processes noticing a stale session at once write it once.
    await setTimes(session.id, { lastSeenAgo: "2 minutes" });
    const db = await getDb();
    const writes = await Promise.all([touchSession(db, session.id), touchSession(db, session.id), touchSession(db, session.id)]);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("an admin ends one session, then all, each with one session_revoked row naming the admin and the reason", async () => {
    const request = await newAdmin();
    const user = await createTestUser("victim");
    const [a, b, c] = [(await signIn(user)).session, (await signIn(user)).session, (await signIn(user)).session];
    expect((await listActiveSessions([user.id])).map((s) => s.id).sort()).toEqual([a.id, b.id, c.id].sort());

    await expect(endSessionsAsAdmin({ ...request, userId: user.id, scope: { kind: "one", sessionId: a.id }, reason: "  " })).rejects.toBeInstanceOf(UserInputError);
    await expect(endSessionsAsAdmin({ ...request, userId: user.id, scope: { kind: "one", sessionId: a.id }, reason: "x".repeat(201) })).rejects.toThrow(
      "at most 200 characters",
    );

    const one = await endSessionsAsAdmin({ ...request, userId: user.id, scope: { kind: "one", sessionId: a.id }, reason: "lost laptop" });
    expect(one).toMatchObject({ status: "ended", username: user.username, ended: 1 });
    expect(await checkSessionRecord(await claimsOf(user, a))).toBeUndefined();
    expect(await checkSessionRecord(await claimsOf(user, b))).toBeDefined();
    expect(await record(a.id)).toMatchObject({ revokedReason: "lost laptop", revokedBy: request.admin.id });
    // Again: nothing left to end, nothing written.
    expect(await endSessionsAsAdmin({ ...request, userId: user.id, scope: { kind: "one", sessionId: a.id }, reason: "again" })).toMatchObject({
      status: "none",
    });

    const all = await endSessionsAsAdmin({ ...request, userId: user.id, scope: { kind: "all" }, reason: "incident 7" });
    expect(all).toMatchObject({ status: "ended", ended: 2 });
    for (const s of [b, c]) expect(await checkSessionRecord(await claimsOf(user, s))).toBeUndefined();
    expect(await listActiveSessions([user.id])).toEqual([]);

    const rows = await rowsOf(user.username, "session_revoked");
    expect(rows.map((row) => row.id)).toEqual([(one as { logId: number }).logId, (all as { logId: number }).logId]);
    expect(rows[0]).toMatchObject({ userId: user.id, ip: "203.0.113.5" });
    expect(rows[0]!.metadata).toMatchObject({
      actor: { userId: request.admin.id, username: request.admin.username, via: "admin page" },
      reason: "lost laptop",
      sessions: { ended: 1, scope: "one", id: a.id, device: "Chrome 131 · Windows 11" },
    });
    expect(rows[1]!.metadata).toMatchObject({ reason: "incident 7", sessions: { ended: 2, scope: "all" } });
    expect(JSON.stringify(rows)).not.toContain(a.key);
    // The new result and its metadata hash like every other row.
    expect((await verifyChain(await getDb())).intact).toBe(true);
    expect(await endSessionsAsAdmin({ ...request, userId: 2 ** 31 - 1, scope: { kind: "all" }, reason: "gone" })).toEqual({ status: "not_found" });
  });

  it("a non-admin cannot end another account's sessions, whoever calls the function", async () => {
    const victim = await createTestUser("target");
    const intruder = await createTestUser("intruder");
    const { session } = await signIn(victim);
    const before = await countRows();
    const asIntruder = { admin: { id: intruder.id, username: intruder.username }, context: browserContext };
    expect(await endSessionsAsAdmin({ ...asIntruder, userId: victim.id, scope: { kind: "one", sessionId: session.id }, reason: "mine now" })).toEqual({
      status: "forbidden",
    });
    expect(await endSessionsAsAdmin({ ...asIntruder, userId: victim.id, scope: { kind: "all" }, reason: "mine now" })).toEqual({ status: "forbidden" });
    // Through the owner's own action, another account's session ID matches nothing.
    expect(await endOwnSessions({ user: { id: intruder.id, username: intruder.username }, context: browserContext, scope: { kind: "one", sessionId: session.id } })).toEqual({
      status: "none",
      username: intruder.username,
    });
    expect(await checkSessionRecord(await claimsOf(victim, session))).toBeDefined();
    expect(await countRows()).toBe(before);

    // An admin who has been locked since is refused too.
    const request = await newAdmin();
    const other = await newAdmin();
    await lockAccount({ ...other, userId: request.admin.id, reason: "rotation" });
    expect(await endSessionsAsAdmin({ ...request, userId: victim.id, scope: { kind: "all" }, reason: "late" })).toEqual({ status: "forbidden" });
    expect(await checkSessionRecord(await claimsOf(victim, session))).toBeDefined();
  });

  it("a user ends one of their own sessions, or all but the current one, logged with the user as actor", async () => {
    const user = await createTestUser("owner");
    const [current, phone, tablet, laptop] = [
      (await signIn(user)).session,
      (await signIn(user)).session,
      (await signIn(user)).session,
      (await signIn(user)).session,
    ];
    const self = { user: { id: user.id, username: user.username }, context: browserContext };
    expect(await endOwnSessions({ ...self, scope: { kind: "one", sessionId: phone.id } })).toMatchObject({ status: "ended", ended: 1 });
    expect(await checkSessionRecord(await claimsOf(user, phone))).toBeUndefined();
    expect(await endOwnSessions({ ...self, scope: { kind: "others", keepSessionId: current.id } })).toMatchObject({ status: "ended", ended: 2 });
    for (const s of [tablet, laptop]) expect(await checkSessionRecord(await claimsOf(user, s))).toBeUndefined();
    expect(await checkSessionRecord(await claimsOf(user, current))).toBeDefined();
    expect((await listActiveSessions([user.id])).map((s) => s.id)).toEqual([current.id]);

    const rows = await rowsOf(user.username, "session_revoked");
    expect(rows.map((row) => row.metadata.sessions)).toEqual([
      { ended: 1, scope: "one", id: phone.id, device: "Chrome 131 · Windows 11" },
      { ended: 2, scope: "others" },
    ]);
    for (const row of rows) {
      expect(row.metadata.actor).toEqual({ userId: user.id, username: user.username, via: "sessions page" });
      expect(row.metadata.reason).toBeUndefined();
    }
  });

  it("a lock ends every session of the account, and a new password does too; they are no longer listed", async () => {
    const locked = await createTestUser("locked");
    const sessions = [(await signIn(locked)).session, (await signIn(locked)).session];
    const claims = await Promise.all(sessions.map((s) => claimsOf(locked, s)));
    for (let i = 0; i < 6; i++) await attemptSignIn({ username: locked.username, password: "wrong" }, browserContext);
    expect((await accountState(locked.id)).lockedAt).not.toBeNull();
    for (const c of claims) expect(await checkSessionRecord(c)).toBeUndefined();
    expect(await listActiveSessions([locked.id])).toEqual([]);

    const request = await newAdmin();
    const byAdmin = await createTestUser("admin-locked");
    const s = (await signIn(byAdmin)).session;
    const c = await claimsOf(byAdmin, s);
    await lockAccount({ ...request, userId: byAdmin.id, reason: "suspicious" });
    expect(await checkSessionRecord(c)).toBeUndefined();
    expect(await listActiveSessions([byAdmin.id])).toEqual([]);

    const reset = await createTestUser("reset");
    const r = (await signIn(reset)).session;
    const rc = await claimsOf(reset, r);
    await resetPassword({ ...request, userId: reset.id, password: "a-new-password-1" });
    expect(await checkSessionRecord(rc)).toBeUndefined();
    // A token that claims the new version still names a record of the old one.
    expect(await checkSessionRecord({ ...rc, sessionVersion: rc.sessionVersion + 1 })).toBeUndefined();
    expect(await listActiveSessions([reset.id])).toEqual([]);
  });

  it("cleanup deletes sessions that ended more than a day ago, and keeps the rest", async () => {
    const user = await createTestUser("clean");
    const [active, recent, oldRevoked, oldExpired, oldIdle] = [
      (await signIn(user)).session,
      (await signIn(user)).session,
      (await signIn(user)).session,
      (await signIn(user)).session,
      (await signIn(user)).session,
    ];
    await signOut(user, recent.key);
    await setTimes(oldRevoked.id, { revokedAgo: "25 hours" });
    await setTimes(oldExpired.id, { expiresIn: "-25 hours" });
    await setTimes(oldIdle.id, { lastSeenAgo: "26 hours" });
    const logRows = await countRows();
    expect(await deleteEndedSessions()).toBeGreaterThanOrEqual(3);
    const db = await getDb();
    const left = await db.select({ id: userSessions.id }).from(userSessions).where(eq(userSessions.userId, user.id));
    expect(left.map((row) => row.id).sort()).toEqual([active.id, recent.id].sort());
    expect(await countRows()).toBe(logRows);
    expect(await checkSessionRecord(await claimsOf(user, active))).toBeDefined();
  });

  it("startSessionCleanup deletes at once and then on its interval, until stopped", async () => {
    const user = await createTestUser("timer");
    const [first, second] = [(await signIn(user)).session, (await signIn(user)).session];
    await setTimes(first.id, { revokedAgo: "2 days" });
    const cleanup = startSessionCleanup({ intervalMs: 50 });
    try {
      await expect.poll(async () => (await record(first.id)) === undefined).toBe(true);
      await setTimes(second.id, { revokedAgo: "2 days" });
      await expect.poll(async () => (await record(second.id)) === undefined).toBe(true);
    } finally {
      await cleanup.stop();
    }
    const third = (await signIn(user)).session;
    await setTimes(third.id, { revokedAgo: "2 days" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await record(third.id)).toBeDefined();
  });
});
