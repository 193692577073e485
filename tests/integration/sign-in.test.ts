import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { users } from "@/db/schema";
import { hashPassword, passwordWorkDone, workOf } from "@/lib/auth/password";
import { attemptSignIn, SignInUnavailableError, USERNAME_NOT_STORED } from "@/lib/account-log/sign-in";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { accountState, browserContext, countRows, createTestUser, logRowsFor } from "../support/accounts";
import { sealPending } from "@/lib/audit/sealer";

const wrong = (username: string) => attemptSignIn({ username, password: "not-the-password" }, browserContext);

describe.each(DATABASE_KINDS)("sign-in and lockout on %s", (kind) => {
  useFreshDatabase(kind);

  it("logs a success with the client IP and parsed metadata, and never the password", async () => {
    const user = await createTestUser("alice");
    const outcome = await attemptSignIn({ username: ` ${user.username.toUpperCase()}`, password: user.password }, browserContext);
    expect(outcome.status).toBe("signed_in");
    const [row] = await logRowsFor(user.username);
    expect(row).toMatchObject({
      result: "login_successful",
      userId: user.id,
      username: ` ${user.username.toUpperCase()}`,
      usernameNormalized: user.username,
      ip: "203.0.113.5",
    });
    expect(row!.metadata.summary).toBe("Chrome 131 · Windows 11");
    expect(JSON.stringify(row)).not.toContain(user.password);
    expect(row!.occurredAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("allows five wrong passwords, locks on the sixth, and says so on that attempt", async () => {
    const user = await createTestUser("bob");
    for (let i = 1; i <= 5; i++) {
      expect(await wrong(user.username)).toMatchObject({ status: "rejected", reason: "invalid_credentials" });
    }
    expect((await accountState(user.id)).failedAttempts).toBe(5);
    expect(await wrong(user.username)).toMatchObject({ status: "rejected", reason: "locked" });
    const state = await accountState(user.id);
    expect(state.lockedAt).not.toBeNull();
    expect(state.sessionVersion).toBe(2);
    // Locked: the right password is refused too, and further attempts don't count.
    expect(await attemptSignIn({ username: user.username, password: user.password }, browserContext)).toMatchObject({
      status: "rejected",
      reason: "locked",
    });
    expect((await accountState(user.id)).failedAttempts).toBe(6);
    const results = (await logRowsFor(user.username)).map((row) => row.result);
    expect(results).toEqual([
      ...Array(6).fill("login_failed_wrong_password"),
      "account_locked",
      "login_failed_account_locked",
    ]);
    const lockRow = (await logRowsFor(user.username)).find((row) => row.result === "account_locked");
    expect(lockRow!.metadata.failedAttempts).toBe(6);
  });

  it("spends the current cost on every kind of refusal, and upgrades a cheap hash only after a success", async () => {
    const db = await getDb();
    const cheap = await createTestUser("cheap");
    const cheapHash = await hashPassword(cheap.password, { N: 2 ** 12, r: 8, p: 1 });
    await db.update(users).set({ passwordHash: cheapHash }).where(eq(users.id, cheap.id));
    const current = await createTestUser("current");
    const locked = await createTestUser("locked-cheap");
    const lockedHash = await hashPassword(locked.password, { N: 2 ** 12, r: 8, p: 1 });
    await db.update(users).set({ passwordHash: lockedHash, lockedAt: new Date() }).where(eq(users.id, locked.id));
    const work = async (username: string, password: string) => {
      const before = passwordWorkDone();
      const outcome = await attemptSignIn({ username, password }, browserContext);
      return { work: passwordWorkDone() - before, outcome };
    };
    // Tests run at 2^14: one check at that cost, whatever the account or its hash.
    const oneCheck = workOf({ N: 2 ** 14, r: 8, p: 1 });
    for (const [label, username, password] of [
      ["unknown", "nobody-costs-the-same", "guess"],
      ["wrong, current hash", current.username, "guess"],
      ["wrong, cheap hash", cheap.username, "guess"],
      ["locked, wrong", locked.username, "guess"],
      ["locked, right, cheap hash", locked.username, locked.password],
    ]) {
      const { work: spent, outcome } = await work(username!, password!);
      expect(outcome.status, label).toBe("rejected");
      expect(spent, label).toBe(oneCheck);
    }
    // A locked account's cheap hash is never upgraded: no rehash hides behind a refusal.
    expect((await accountState(locked.id)).passwordHash).toBe(lockedHash);

    // The right password on the cheap hash: signed in, then the hash is upgraded (a second derive).
    const { work: spent, outcome } = await work(cheap.username, cheap.password);
    expect(outcome.status).toBe("signed_in");
    expect(spent).toBe(2 * oneCheck);
    const upgraded = (await accountState(cheap.id)).passwordHash;
    expect(upgraded).toMatch(/^scrypt\$N=16384,r=8,p=1\$/);
    expect((await work(cheap.username, cheap.password)).outcome.status).toBe("signed_in");
  });

  it("resets the count on success", async () => {
    const user = await createTestUser("carol");
    for (let i = 0; i < 5; i++) await wrong(user.username);
    expect((await attemptSignIn({ username: user.username, password: user.password }, browserContext)).status).toBe("signed_in");
    expect((await accountState(user.id)).failedAttempts).toBe(0);
    for (let i = 0; i < 5; i++) expect((await wrong(user.username)).status).toBe("rejected");
    expect((await accountState(user.id)).lockedAt).toBeNull();
  });

  it("treats unknown usernames like real ones: same outcomes, locked message after the threshold", async () => {
    const outcomes = [];
    for (let i = 0; i < 7; i++) outcomes.push(await wrong("nobody-here"));
    expect(outcomes.map((o) => o.status === "rejected" && o.reason)).toEqual([
      ...Array(5).fill("invalid_credentials"),
      "locked",
      "locked",
    ]);
    const rows = await logRowsFor("nobody-here");
    expect(rows.map((r) => r.result)).toEqual(Array(7).fill("login_failed_unknown_user"));
    expect(rows.every((r) => r.userId === null)).toBe(true);
  });

  it("writes exactly one bounded row for each hostile or malformed attempt", async () => {
    const before = await countRows();
    const hostile = [
      undefined,
      "",
      "   ",
      "%",
      "_",
      "\\",
      "a%_\\",
      "<script>alert(1)</script>",
      '"><img src=x onerror=alert(1)>',
      "admin\r\n2026-01-01 login_successful admin",
      "\u202Eadmin",
      "nul\u0000byte",
      "bad\uD800surrogate",
      "x".repeat(1000),
      "y".repeat(1024 * 1024),
    ];
    for (const username of hostile) {
      const outcome = await attemptSignIn({ username, password: "whatever" }, { ...browserContext, userAgent: "z".repeat(10_240) });
      expect(outcome.status).toBe("rejected");
    }
    await attemptSignIn({ username: "someone", password: "" }, browserContext);
    await attemptSignIn({ username: "someone", password: "p".repeat(5000) }, browserContext);
    await attemptSignIn({ username: ["array"], password: { object: true } }, browserContext);
    expect(await countRows()).toBe(before + hostile.length + 3);
    const db = await getDb();
    const rows = await db.query.accountLogs.findMany({ orderBy: (t, { desc }) => desc(t.id), limit: hostile.length + 3 });
    for (const row of rows) {
      expect(row.username.length).toBeLessThanOrEqual(512);
      expect(row.metadata.userAgent?.value.length).toBeLessThanOrEqual(512);
    }
    const byResult = (name: string) => rows.find((r) => r.username.startsWith(name));
    expect(byResult("nul")!.username).toBe("nul\u2400byte");
    expect(byResult("y")).toMatchObject({ usernameTruncated: true, result: "login_failed_invalid_request" });
    expect(byResult("<script>")!.result).toBe("login_failed_unknown_user");
    expect(byResult("x")!.metadata.userAgent).toMatchObject({ length: 10_240, truncated: true });
    // The attempt without a password keeps no username: it may be a password typed in the wrong field.
    expect(rows.filter((r) => r.username === "someone").map((r) => r.result)).toEqual(["login_failed_invalid_request"]);
    expect(rows.filter((r) => r.username === USERNAME_NOT_STORED).map((r) => r.result)).toEqual([
      "login_failed_invalid_request",
      "login_failed_invalid_request",
    ]);
  });

  it("refuses a name padded past what the log keeps, so the row and the account never disagree", async () => {
    const user = await createTestUser("padded");
    const padded = `${" ".repeat(300)}${user.username}`;
    for (let i = 0; i < 8; i++) {
      expect(await attemptSignIn({ username: padded, password: "wrong" }, browserContext)).toMatchObject({
        status: "rejected",
        reason: "invalid_credentials",
      });
    }
    expect(await attemptSignIn({ username: padded, password: user.password }, browserContext)).toMatchObject({ status: "rejected" });
    expect(await accountState(user.id)).toMatchObject({ failedAttempts: 0, lockedAt: null });
    const db = await getDb();
    await sealPending(db);
    const rows = await db.query.accountLogs.findMany({ orderBy: (t, { desc }) => desc(t.id), limit: 9 });
    expect(rows.every((r) => r.result === "login_failed_invalid_request" && r.usernameTruncated)).toBe(true);
  });

  it("fails closed: if the log row cannot be written, the right password signs nobody in and nothing changes", async () => {
    const user = await createTestUser("dave");
    const db = await getDb();
    await db.execute(sql.raw(`create function refuse_log_insert() returns trigger language plpgsql as $$
      begin raise exception 'log storage unavailable'; end $$`));
    await db.execute(sql.raw(`create trigger refuse_log_insert before insert on account_log_inbox
      for each row execute function refuse_log_insert()`));
    try {
      const before = await countRows();
      await expect(attemptSignIn({ username: user.username, password: user.password }, browserContext)).rejects.toBeInstanceOf(
        SignInUnavailableError,
      );
      await expect(wrong(user.username)).rejects.toBeInstanceOf(SignInUnavailableError);
      expect(await countRows()).toBe(before);
      expect((await accountState(user.id)).failedAttempts).toBe(0);
    } finally {
      await db.execute(sql.raw(`drop trigger refuse_log_insert on account_log_inbox`));
      await db.execute(sql.raw(`drop function refuse_log_insert()`));
    }
  });
});
