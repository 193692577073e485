import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { users } from "@/db/schema";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { unlockAccount } from "@/lib/account-log/unlock";
import { changeRole, createUserAsAdmin, listUsers, lockAccount, resetPassword, type AdminRequest } from "@/lib/users/admin";
import { UserInputError, UsernameTakenError } from "@/lib/users/errors";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { accountState, browserContext, countRows, createTestUser, logRowsFor } from "../support/accounts";
import { sealPending } from "@/lib/audit/sealer";

const MISSING_ID = 2 ** 31 - 1;

async function newAdmin(prefix = "boss"): Promise<AdminRequest & { password: string }> {
  const admin = await createTestUser(prefix, "admin");
  return { admin: { id: admin.id, username: admin.username }, context: browserContext, password: admin.password };
}

async function lockBySignIns(username: string) {
  for (let i = 0; i < 6; i++) await attemptSignIn({ username, password: "wrong" }, browserContext);
}

/** The account's rows of one result, and the whole log serialized, to search for secrets. */
async function rowsOf(username: string, result: string) {
  return (await logRowsFor(username.toLowerCase())).filter((row) => row.result === result);
}

describe.each(DATABASE_KINDS)("user administration on %s", (kind) => {
  useFreshDatabase(kind);

  it("creates a user who can sign in, with one user_created row naming the admin and no password", async () => {
    const request = await newAdmin();
    const password = `secret-${randomBytes(8).toString("hex")}`;
    const username = `Nora-${randomBytes(3).toString("hex")}`;
    const before = await countRows();
    const outcome = await createUserAsAdmin({ ...request, username: `  ${username} `, password, role: "user" });
    expect(outcome).toMatchObject({ status: "created", user: { username, role: "user" } });
    expect(await countRows()).toBe(before + 1);

    const rows = await logRowsFor(username.toLowerCase());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ result: "user_created", userId: outcome.user.id, username, ip: "203.0.113.5" });
    expect(rows[0]!.metadata.actor).toEqual({ userId: request.admin.id, username: request.admin.username, via: "admin page" });
    expect(rows[0]!.metadata.role).toEqual({ to: outcome.user.role });
    const account = await accountState(outcome.user.id);
    expect(JSON.stringify(rows)).not.toContain(password);
    expect(JSON.stringify(rows)).not.toContain(account.passwordHash.split("$")[3]);

    expect((await attemptSignIn({ username, password }, browserContext)).status).toBe("signed_in");
  });

  it("refuses bad names, short passwords and taken names with a clear error and no row", async () => {
    const request = await newAdmin();
    const taken = await createTestUser("taken");
    const before = await countRows();
    const attempt = (username: string, password: string) => createUserAsAdmin({ ...request, username, password, role: "user" });
    await expect(attempt("   ", "long-enough-password")).rejects.toThrow(new UserInputError("Username is required.", "username"));
    await expect(attempt("a".repeat(65), "long-enough-password")).rejects.toThrow("Username must be at most 64 characters.");
    await expect(attempt("bad\u202Ename", "long-enough-password")).rejects.toThrow("control or invisible characters");
    const short = attempt("short-password-user", "seven77");
    await expect(short).rejects.toBeInstanceOf(UserInputError);
    await expect(short).rejects.toThrow("Password must be at least 8 characters.");
    const duplicate = attempt(taken.username.toUpperCase(), "long-enough-password");
    await expect(duplicate).rejects.toBeInstanceOf(UsernameTakenError);
    // The message names the account, never the password it was given.
    await expect(duplicate).rejects.not.toThrow("long-enough-password");
    expect(await countRows()).toBe(before);
  });

  it("resets a password: the old one fails, the new one works, sessions end, failures clear, one row", async () => {
    const request = await newAdmin();
    const user = await createTestUser("reset");
    await attemptSignIn({ username: user.username, password: "wrong" }, browserContext);
    const before = await accountState(user.id);
    expect(before.failedAttempts).toBe(1);

    const newPassword = `new-${randomBytes(8).toString("hex")}`;
    const outcome = await resetPassword({ ...request, userId: user.id, password: newPassword });
    expect(outcome).toMatchObject({ status: "reset", username: user.username });
    const after = await accountState(user.id);
    expect(after.sessionVersion).toBe(before.sessionVersion + 1);
    expect(after.failedAttempts).toBe(0);

    const rows = await rowsOf(user.username, "password_reset");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metadata.actor).toMatchObject({ userId: request.admin.id, username: request.admin.username });
    const log = JSON.stringify(await logRowsFor(user.username));
    expect(log).not.toContain(newPassword);
    expect(log).not.toContain(after.passwordHash.split("$")[3]);

    expect(await attemptSignIn({ username: user.username, password: user.password }, browserContext)).toMatchObject({ status: "rejected" });
    expect((await attemptSignIn({ username: user.username, password: newPassword }, browserContext)).status).toBe("signed_in");
  });

  it("keeps a lock through a password reset, and refuses a short password or a missing account", async () => {
    const request = await newAdmin();
    const user = await createTestUser("reset-locked");
    await lockBySignIns(user.username);
    const before = await countRows();
    await expect(resetPassword({ ...request, userId: user.id, password: "short" })).rejects.toThrow("Password must be at least 8 characters.");
    expect(await resetPassword({ ...request, userId: MISSING_ID, password: "long-enough-password" })).toEqual({ status: "not_found" });
    expect(await countRows()).toBe(before);

    await resetPassword({ ...request, userId: user.id, password: "long-enough-password" });
    expect(await accountState(user.id)).toMatchObject({ failedAttempts: 6, lockedAt: expect.any(Date) });
    expect(await attemptSignIn({ username: user.username, password: "long-enough-password" }, browserContext)).toMatchObject({
      reason: "locked",
    });
  });

  it("changes a role both ways with one role_changed row each, raising the session version; a repeat writes nothing", async () => {
    const request = await newAdmin();
    const user = await createTestUser("promoted");
    const version = (await accountState(user.id)).sessionVersion;

    expect(await changeRole({ ...request, userId: user.id, role: "admin" })).toMatchObject({
      status: "changed",
      role: { from: "user", to: "admin" },
    });
    expect(await changeRole({ ...request, userId: user.id, role: "admin" })).toMatchObject({ status: "unchanged", role: "admin" });
    expect(await accountState(user.id)).toMatchObject({ role: "admin", sessionVersion: version + 1 });
    expect(await changeRole({ ...request, userId: user.id, role: "user" })).toMatchObject({ status: "changed" });
    expect(await accountState(user.id)).toMatchObject({ role: "user", sessionVersion: version + 2 });

    const rows = await rowsOf(user.username, "role_changed");
    expect(rows.map((row) => row.metadata.role)).toEqual([
      { from: "user", to: "admin" },
      { from: "admin", to: "user" },
    ]);
    expect(rows.every((row) => row.metadata.actor?.username === request.admin.username)).toBe(true);
    await expect(changeRole({ ...request, userId: user.id, role: "owner" as never })).rejects.toThrow("The role must be admin or user.");
    expect(await changeRole({ ...request, userId: MISSING_ID, role: "admin" })).toEqual({ status: "not_found" });
  });

  it("never leaves the database without an active admin", async () => {
    const db = await getDb();
    // Only the admins of this test are active: earlier tests' admins are locked out of the way.
    const first = await newAdmin("first");
    const others = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin"));
    for (const other of others) if (other.id !== first.admin.id) await lockBySignIns((await accountState(other.id)).username);

    const before = await countRows();
    // Alone: cannot demote themselves, and nobody can lock them.
    expect(await changeRole({ ...first, userId: first.admin.id, role: "user" })).toEqual({ status: "last_admin", username: first.admin.username });
    expect(await lockAccount({ ...first, userId: first.admin.id, reason: "testing" })).toEqual({ status: "own_account" });
    expect(await countRows()).toBe(before);

    // With a second admin, one may step down; then the other is the last again.
    const second = await newAdmin("second");
    expect(await changeRole({ ...first, userId: first.admin.id, role: "user" })).toMatchObject({ status: "changed" });
    expect(await changeRole({ ...second, userId: second.admin.id, role: "user" })).toMatchObject({ status: "last_admin" });
    expect(await lockAccount({ ...first, userId: second.admin.id, reason: "testing" })).toMatchObject({ status: "last_admin" });
    expect(await accountState(second.admin.id)).toMatchObject({ role: "admin", lockedAt: null });

    // Two admins demoting each other at once: one succeeds, one is refused.
    await changeRole({ ...second, userId: first.admin.id, role: "admin" });
    const outcomes = await Promise.all([
      changeRole({ ...first, userId: second.admin.id, role: "user" }),
      changeRole({ ...second, userId: first.admin.id, role: "user" }),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(["changed", "last_admin"]);
    const [active] = await db.select({ id: users.id }).from(users).where(eq(users.role, "admin"));
    expect(active).toBeDefined();
  });

  it("locks with a reason: sessions end, sign-in refused, one account_locked row with actor and reason", async () => {
    const request = await newAdmin();
    const user = await createTestUser("locked-by-admin");
    const version = (await accountState(user.id)).sessionVersion;
    const outcome = await lockAccount({ ...request, userId: user.id, reason: "  laptop reported stolen  " });
    expect(outcome).toMatchObject({ status: "locked", username: user.username });
    expect(await accountState(user.id)).toMatchObject({ lockedAt: expect.any(Date), sessionVersion: version + 1 });

    const rows = await rowsOf(user.username, "account_locked");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metadata).toMatchObject({
      reason: "laptop reported stolen",
      actor: { userId: request.admin.id, username: request.admin.username, via: "admin page" },
    });
    expect(await attemptSignIn({ username: user.username, password: user.password }, browserContext)).toMatchObject({ reason: "locked" });
    expect(await lockAccount({ ...request, userId: user.id, reason: "again" })).toEqual({ status: "already_locked", username: user.username });
    expect(await rowsOf(user.username, "account_locked")).toHaveLength(1);
  });

  it("unlocks with a reason recorded in the account_unlocked row, and refuses a missing or long reason", async () => {
    const request = await newAdmin();
    const user = await createTestUser("unlocked-by-admin");
    await lockBySignIns(user.username);
    const before = await countRows();
    const unlock = (reason: string) => unlockAccount({ ...request, userId: user.id, reason });
    await expect(unlock("   ")).rejects.toThrow(new UserInputError("A reason is required.", "reason"));
    await expect(unlock("x".repeat(201))).rejects.toThrow("The reason must be at most 200 characters.");
    await expect(unlock("line\nbreak")).rejects.toThrow("control or invisible characters");
    await expect(lockAccount({ ...request, userId: user.id, reason: "" })).rejects.toThrow("A reason is required.");
    expect(await countRows()).toBe(before);

    expect(await unlock(` ${"é".repeat(200)} `)).toMatchObject({ status: "unlocked" });
    const rows = await rowsOf(user.username, "account_unlocked");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metadata).toMatchObject({ reason: "é".repeat(200), actor: { username: request.admin.username } });
    expect((await attemptSignIn({ username: user.username, password: user.password }, browserContext)).status).toBe("signed_in");
  });

  it("two admins locking or unlocking at once write one row", async () => {
    const first = await newAdmin("one");
    const second = await newAdmin("two");
    const user = await createTestUser("contested");

    const locks = await Promise.all([
      lockAccount({ ...first, userId: user.id, reason: "first admin" }),
      lockAccount({ ...second, userId: user.id, reason: "second admin" }),
    ]);
    expect(locks.map((outcome) => outcome.status).sort()).toEqual(["already_locked", "locked"]);
    expect(await rowsOf(user.username, "account_locked")).toHaveLength(1);

    const unlocks = await Promise.all([
      unlockAccount({ ...first, userId: user.id, reason: "first admin" }),
      unlockAccount({ ...second, userId: user.id, reason: "second admin" }),
    ]);
    expect(unlocks.map((outcome) => outcome.status).sort()).toEqual(["not_locked", "unlocked"]);
    expect(await rowsOf(user.username, "account_unlocked")).toHaveLength(1);
  });

  it("lists users by username with status, failures, last sign-in and role, filtered and capped", async () => {
    const prefix = `list-${randomBytes(3).toString("hex")}`;
    const signedIn = await createTestUser(`${prefix}-b`);
    const failing = await createTestUser(`${prefix}-a`);
    const locked = await createTestUser(`${prefix}-c`, "admin");
    await attemptSignIn({ username: signedIn.username, password: signedIn.password }, browserContext);
    await attemptSignIn({ username: failing.username, password: "wrong" }, browserContext);
    await attemptSignIn({ username: failing.username, password: "wrong" }, browserContext);
    await lockBySignIns(locked.username);
    await sealPending();

    const list = await listUsers({ q: ` ${prefix.toUpperCase()} ` });
    expect(list.total).toBe(3);
    expect(list.lockoutThreshold).toBe(5);
    expect(list.users.map((user) => user.username)).toEqual([failing.username, signedIn.username, locked.username]);
    const [a, b, c] = list.users;
    expect(a).toMatchObject({ role: "user", lockedAt: null, failedAttempts: 2, lastSignInAt: null });
    expect(b!.lastSignInAt).toBeInstanceOf(Date);
    expect(b!.lastSignInAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(c).toMatchObject({ role: "admin", failedAttempts: 6, lockedAt: expect.any(Date) });

    const capped = await listUsers({ q: prefix, limit: 2 });
    expect(capped.users).toHaveLength(2);
    expect(capped.total).toBe(3);
    // LIKE wildcards in the filter match themselves.
    expect((await listUsers({ q: "%" })).total).toBe(0);
  });
});
