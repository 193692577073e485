import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { accountLogs, accountSignInPlaces } from "@/db/schema";
import { listLockedAccounts } from "@/lib/account-log/queries";
import { appendAccountLog } from "@/lib/account-log/record";
import { findAttention, SPRAYING_MIN_USERNAMES, BURST_MIN_FAILURES } from "@/lib/account-log/signals";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { browserContext, createTestUser } from "../support/accounts";
import { sealPending } from "@/lib/audit/sealer";

const from = (ip: string, userAgent = browserContext.userAgent) => ({ ...browserContext, ip, userAgent });
const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString("hex")}`;

describe.each(DATABASE_KINDS)("investigation on %s", (kind) => {
  useFreshDatabase(kind);

  it("marks a sign-in from an address not used by the account in 90 days, in the row itself", async () => {
    const db = await getDb();
    const user = await createTestUser("places");
    const signIn = async (ip: string) => {
      const outcome = await attemptSignIn({ username: user.username, password: user.password }, from(ip));
      expect(outcome.status).toBe("signed_in");
      await sealPending(db);
      const [row] = await db.select().from(accountLogs).where(eq(accountLogs.id, outcome.logId));
      return row!.metadata.signals;
    };
    // The account's very first sign-in has no history to differ from: not news.
    expect(await signIn("198.51.100.10")).toBeUndefined();
    expect(await signIn("198.51.100.10")).toBeUndefined();
    expect(await signIn("198.51.100.11")).toEqual({ newIp: true });
    // Last seen 91 days ago: new again.
    await db.update(accountSignInPlaces).set({ lastSeenAt: sql`now() - interval '91 days'` }).where(eq(accountSignInPlaces.userId, user.id));
    expect(await signIn("198.51.100.10")).toEqual({ newIp: true });
    // Failures are not places the account signed in from.
    await attemptSignIn({ username: user.username, password: "wrong" }, from("198.51.100.12"));
    expect(await signIn("198.51.100.12")).toEqual({ newIp: true });

    await sealPending();
    const attention = await findAttention();
    const mine = attention.newPlaces.filter((place) => place.username === user.username);
    expect(mine.map((place) => place.ip)).toEqual(["198.51.100.12", "198.51.100.10", "198.51.100.11"]);
    expect(attention.newPlacesTotal).toBeGreaterThanOrEqual(3);
  });

  it("finds an address failing against many usernames in an hour, and accounts with bursts", async () => {
    const db = await getDb();
    const hourOf = () => Math.floor(Date.now() / 3_600_000);
    const startHour = hourOf();
    const sprayer = "203.0.113.99";
    const quiet = "203.0.113.98";
    const names = Array.from({ length: SPRAYING_MIN_USERNAMES }, () => unique("sprayed"));
    await appendAccountLog(db, names.map((username) => ({ username, result: "login_failed_unknown_user" as const, ip: sprayer })));
    // One fewer username from another address: not spraying.
    await appendAccountLog(db, names.slice(1).map((username) => ({ username, result: "login_failed_unknown_user" as const, ip: quiet })));
    const burst = unique("burst");
    await appendAccountLog(db, Array.from({ length: BURST_MIN_FAILURES }, () => ({ username: burst, result: "login_failed_unknown_user" as const, ip: "203.0.113.97" })));
    const calm = unique("calm");
    await appendAccountLog(db, Array.from({ length: BURST_MIN_FAILURES - 1 }, () => ({ username: calm, result: "login_failed_unknown_user" as const })));

    const hourTurned = hourOf() !== startHour;
    await sealPending();
    const attention = await findAttention();
    expect(attention.spraying.some((entry) => entry.ip === quiet)).toBe(false);
    expect(attention.bursts.some((entry) => entry.username === calm)).toBe(false);
    // Counted per clock hour: if the hour turned while writing, the rows may be split over two.
    if (!hourTurned) {
      expect(attention.spraying.find((entry) => entry.ip === sprayer)).toMatchObject({ usernames: SPRAYING_MIN_USERNAMES, failures: SPRAYING_MIN_USERNAMES });
      expect(attention.bursts.find((entry) => entry.username === burst)).toMatchObject({ failures: BURST_MIN_FAILURES });
    }
  });

  it("shows why an account locked: the failures, from where and with what, beside its recent sign-ins", async () => {
    const user = await createTestUser("why");
    const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    await attemptSignIn({ username: user.username, password: user.password }, from("198.51.100.20"));
    for (let i = 0; i < 3; i++) await attemptSignIn({ username: user.username, password: "typo" }, from("198.51.100.20"));
    for (let i = 0; i < 3; i++) await attemptSignIn({ username: user.username, password: "guess" }, from("192.0.2.66", firefox));

    await sealPending();
    const locked = (await listLockedAccounts()).accounts.find((account) => account.id === user.id)!;
    expect(locked.failedAttempts).toBe(6);
    expect(locked.failures).toHaveLength(6);
    expect(locked.failures.map((failure) => failure.ip)).toEqual([...Array(3).fill("192.0.2.66"), ...Array(3).fill("198.51.100.20")]);
    expect(locked.failures[0]!.browser).toMatch(/^Firefox 133/);
    expect(locked.failureIps.sort()).toEqual(["192.0.2.66", "198.51.100.20"]);
    expect(locked.recentSuccesses.map((success) => success.ip)).toEqual(["198.51.100.20"]);
    expect(locked.recentSuccesses[0]!.browser).toBe(locked.failures[5]!.browser);
    expect(locked.lock).toMatchObject({ actor: null, reason: null });
  });
});
