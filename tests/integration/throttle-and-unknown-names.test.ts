import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { accountLogInbox } from "@/db/schema";
import { sealPending } from "@/lib/audit/sealer";
import { attemptSignIn, attemptThrottledSignIn, USERNAME_NOT_STORED, type SignInOutcome } from "@/lib/account-log/sign-in";
import { lastResetPoint, resetScheduleKey } from "@/lib/account-log/unknown-username";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";
import { accountState, browserContext, createTestUser, logRowsFor } from "../support/accounts";

const HOUR = 3_600_000;

function useSettings(settings: Record<string, string>) {
  const previous: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(settings)) {
      previous[name] = process.env[name];
      process.env[name] = value;
    }
    resetEnvCache();
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetEnvCache();
  });
}

const from = (ip: string) => ({ ...browserContext, ip });
const reason = (outcome: SignInOutcome) => (outcome.status === "rejected" ? outcome.reason : outcome.status);

describe.each(DATABASE_KINDS)("per-address throttle on %s", (kind) => {
  useSettings({ SIGN_IN_RATE_LIMIT_FAILURES: "5", SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: "2", UNKNOWN_USERNAME_RESET_HOURS: "1" });
  useFreshDatabase(kind);

  it("refuses an address after the configured failures, before any password is checked", async () => {
    const user = await createTestUser("throttled");
    const attacker = from("192.0.2.10");
    for (let i = 0; i < 3; i++) expect(reason(await attemptThrottledSignIn({ username: user.username, password: `no-${i}` }, attacker))).toBe("invalid_credentials");
    for (let i = 0; i < 2; i++) expect(reason(await attemptThrottledSignIn({ username: `ghost-${i}`, password: "no" }, attacker))).toBe("invalid_credentials");
    // The sixth attempt from that address is refused, even with the right password, and the
    // account's own count does not move.
    expect(reason(await attemptThrottledSignIn({ username: user.username, password: user.password }, attacker))).toBe("rate_limited");
    expect(reason(await attemptThrottledSignIn({ username: user.username, password: "no" }, attacker))).toBe("rate_limited");
    expect(await accountState(user.id)).toMatchObject({ failedAttempts: 3, lockedAt: null });
    const limited = (await logRowsFor(user.username)).filter((row) => row.result === "login_failed_rate_limited");
    expect(limited).toHaveLength(2);
    expect(limited.every((row) => row.userId === null && row.ip === "192.0.2.10")).toBe(true);

    // Another address is not affected.
    expect((await attemptThrottledSignIn({ username: user.username, password: user.password }, from("192.0.2.11"))).status).toBe("signed_in");
  });

  it("keeps no username sent without a password, throttled or not", async () => {
    const attacker = from("192.0.2.12");
    for (let i = 0; i < 6; i++) await attemptThrottledSignIn({ username: "pasted-secret-123", password: "" }, attacker);
    expect(await logRowsFor("pasted-secret-123")).toHaveLength(0);
    const db = await getDb();
    await sealPending(db);
    const rows = await db.query.accountLogs.findMany({ orderBy: (t, { desc }) => desc(t.id), limit: 6 });
    expect(rows.map((row) => row.result)).toEqual([
      "login_failed_rate_limited",
      ...Array(5).fill("login_failed_invalid_request"),
    ]);
    expect(rows.every((row) => row.username === USERNAME_NOT_STORED)).toBe(true);
  });

  it("lets the address in again once a whole window passes without failures", async () => {
    const user = await createTestUser("window");
    const client = from("192.0.2.13");
    for (let i = 0; i < 5; i++) await attemptThrottledSignIn({ username: user.username, password: `no-${i}` }, client);
    expect(reason(await attemptThrottledSignIn({ username: user.username, password: user.password }, client))).toBe("rate_limited");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await attemptThrottledSignIn({ username: user.username, password: user.password }, client)).status).toBe("signed_in");
  });

  it("answers a burst on an unknown name exactly like a burst on an account: threshold invalid, the rest locked", async () => {
    const user = await createTestUser("burst");
    const name = `nobody-${randomBytes(4).toString("hex")}`;
    const burst = (username: string) =>
      Promise.all(Array.from({ length: 30 }, (_, i) => attemptSignIn({ username, password: `guess-${i}` }, browserContext)));
    const count = (outcomes: SignInOutcome[]) => ({
      invalid: outcomes.filter((o) => reason(o) === "invalid_credentials").length,
      locked: outcomes.filter((o) => reason(o) === "locked").length,
    });
    expect(count(await burst(user.username))).toEqual({ invalid: 5, locked: 25 });
    expect(count(await burst(name))).toEqual({ invalid: 5, locked: 25 });
  });

  it("starts an unknown name's count over at its reset point, as an owner's sign-in or an unlock would", async () => {
    const db = await getDb();
    const failuresAt = (username: string, occurredAt: Date, n: number) =>
      db.insert(accountLogInbox).values(
        Array.from({ length: n }, () => ({ username, usernameNormalized: username, result: "login_failed_unknown_user" as const, occurredAt })),
      );
    const point = (name: string) => lastResetPoint({ name, at: Date.now(), periodMs: HOUR, key: resetScheduleKey() });

    // Six failures before the name's last reset point: forgotten, so the next one is the first.
    const forgotten = `reset-${randomBytes(4).toString("hex")}`;
    await failuresAt(forgotten, new Date(point(forgotten) - 60_000), 6);
    expect(reason(await attemptSignIn({ username: forgotten, password: "no" }, browserContext))).toBe("invalid_credentials");

    // Five since it: the next one is the sixth, and locks.
    const counted = `reset-${randomBytes(4).toString("hex")}`;
    await failuresAt(counted, new Date(point(counted)), 5);
    expect(reason(await attemptSignIn({ username: counted, password: "no" }, browserContext))).toBe("locked");
  });
});
