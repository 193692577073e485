import { randomBytes } from "node:crypto";
import { desc, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { accountLogs, type AccountLogResult } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { logRowView } from "@/lib/account-log/row-view";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { ATTENTION_WINDOW_HOURS, BURST_MIN_FAILURES, findAttention, findRowFlags, SPRAYING_MIN_USERNAMES } from "@/lib/account-log/signals";
import { browserContext, createTestUser, logRowsFor } from "../support/accounts";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { sealPending } from "@/lib/audit/sealer";

const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString("hex")}`;

/** Rows written in one statement: one transaction time, so one clock hour in the counters. */
async function write(entries: { username: string; result: AccountLogResult; ip?: string | null }[]) {
  const db = await getDb();
  const written = await appendAccountLog(db, entries);
  await sealPending(db);
  return db
    .select()
    .from(accountLogs)
    .where(inArray(accountLogs.id, written.map((row) => row.id)))
    .orderBy(desc(accountLogs.id));
}

describe.each(DATABASE_KINDS)("the log table's row flags on %s", (kind) => {
  useFreshDatabase(kind);

  it("offers Unlock on the rows of an account locked now, and on no other account's", async () => {
    const locked = await createTestUser("flag-locked");
    const active = await createTestUser("flag-active");
    for (let i = 0; i < 6; i++) await attemptSignIn({ username: locked.username, password: "wrong" }, browserContext);
    await attemptSignIn({ username: active.username, password: active.password }, browserContext);
    const rows = [...(await logRowsFor(locked.username)), ...(await logRowsFor(active.username))];

    const flags = await findRowFlags(rows);
    expect(flags.lockedUserIds).toEqual(new Set([locked.id]));
    const views = rows.map((row) => logRowView(row, flags));
    expect(views.filter((view) => view.usernameNormalized === locked.username).every((view) => view.unlockUserId === locked.id)).toBe(true);
    expect(views.filter((view) => view.usernameNormalized === active.username).every((view) => view.unlockUserId === null)).toBe(true);
  });

  it("marks a spraying address on failure rows only, and usernames with a burst, as Needs attention finds them", async () => {
    const sprayer = "198.51.100.201";
    const quiet = "198.51.100.202";
    const names = Array.from({ length: SPRAYING_MIN_USERNAMES }, () => unique("flag-sprayed"));
    const [sprayed] = await write(names.map((username) => ({ username, result: "login_failed_unknown_user" as const, ip: sprayer })));
    // One username fewer from another address: not spraying.
    const [notSprayed] = await write(names.slice(1).map((username) => ({ username, result: "login_failed_unknown_user" as const, ip: quiet })));
    const [success] = await write([{ username: names[0]!, result: "login_successful", ip: sprayer }]);
    const burst = unique("flag-burst");
    const [bursting] = await write(Array.from({ length: BURST_MIN_FAILURES }, () => ({ username: burst, result: "login_failed_wrong_password" as const })));
    const calm = unique("flag-calm");
    const [calmRow] = await write(Array.from({ length: BURST_MIN_FAILURES - 1 }, () => ({ username: calm, result: "login_failed_wrong_password" as const })));
    const page = [calmRow!, bursting!, success!, notSprayed!, sprayed!];

    const flags = await findRowFlags(page);
    expect(flags.sprayingIps).toEqual(new Set([sprayer]));
    expect(flags.burstUsernames).toEqual(new Set([burst]));
    const marks = (row: (typeof page)[number]) => logRowView(row, flags);
    expect(marks(sprayed!).marks).toContain("Password spraying");
    expect(marks(success!).marks).not.toContain("Password spraying");
    expect(marks(notSprayed!).marks).not.toContain("Password spraying");
    expect(marks(bursting!).burst).toBe(true);
    expect(marks(calmRow!).burst).toBe(false);
    // A success from the address does not make the page read its counters.
    expect((await findRowFlags([success!])).sprayingIps.size).toBe(0);

    // The same definitions as the panel's.
    const attention = await findAttention();
    expect(attention.spraying.map((entry) => entry.ip)).toContain(sprayer);
    expect(attention.bursts.map((entry) => entry.username)).toContain(burst);
  });

  it("marks nothing for failures outside the attention window; a lock holds whatever the time", async () => {
    const sprayer = "198.51.100.203";
    const names = Array.from({ length: SPRAYING_MIN_USERNAMES }, () => unique("flag-old"));
    const [sprayed] = await write(names.map((username) => ({ username, result: "login_failed_unknown_user" as const, ip: sprayer })));
    const burst = unique("flag-old-burst");
    const [bursting] = await write(Array.from({ length: BURST_MIN_FAILURES }, () => ({ username: burst, result: "login_failed_wrong_password" as const })));
    const locked = await createTestUser("flag-old-locked");
    for (let i = 0; i < 6; i++) await attemptSignIn({ username: locked.username, password: "wrong" }, browserContext);
    const [lockedRow] = await logRowsFor(locked.username);
    const page = [sprayed!, bursting!, lockedRow!];

    const now = await findRowFlags(page);
    expect(now.sprayingIps).toEqual(new Set([sprayer]));
    expect(now.burstUsernames).toEqual(new Set([burst]));

    // Seen from a day and two hours later, those clock hours have left the window.
    const later = await findRowFlags(page, new Date(Date.now() + (ATTENTION_WINDOW_HOURS + 2) * 3_600_000));
    expect(later.sprayingIps.size).toBe(0);
    expect(later.burstUsernames.size).toBe(0);
    expect(later.lockedUserIds).toEqual(new Set([locked.id]));
  });

  it("reads nothing for an empty page", async () => {
    expect(await findRowFlags([])).toEqual({ lockedUserIds: new Set(), sprayingIps: new Set(), burstUsernames: new Set() });
  });
});
