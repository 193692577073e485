import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { accountLogs } from "@/db/schema";
import { AccessDenialLog, flushAccessDenials, recordAccessDenied, startAccessDenialFlush } from "@/lib/account-log/access-denied";
import { refusalsOf } from "@/lib/account-log/denial-window";
import { appendAccountLog, type AccountLogEntry } from "@/lib/account-log/record";
import { requestMetadata } from "@/lib/client/request-context";
import { browserContext, createTestUser } from "../support/accounts";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";
import { sealPending } from "@/lib/audit/sealer";

const T0 = Date.parse("2026-11-26T09:00:00Z");
const limits = () => ({ limit: 10, windowMs: 60_000 });

async function deniedRows(userId: number) {
  const db = await getDb();
  await sealPending(db);
  return db
    .select({ id: accountLogs.id, metadata: accountLogs.metadata, ip: accountLogs.ip })
    .from(accountLogs)
    .where(and(eq(accountLogs.userId, userId), eq(accountLogs.result, "access_denied")))
    .orderBy(accountLogs.id);
}

const refusalsIn = (rows: Awaited<ReturnType<typeof deniedRows>>) => rows.reduce((sum, row) => sum + refusalsOf(row.metadata), 0);
const write = async (entries: AccountLogEntry[]) => appendAccountLog(await getDb(), entries);
const denial = (at: number, resource = "admin pages") => ({ at, resource, ip: browserContext.ip!, metadata: requestMetadata(browserContext) });

describe.each(DATABASE_KINDS)("access_denied rows on %s", (kind) => {
  useFreshDatabase(kind);
  afterEach(() => {
    delete process.env.ACCESS_DENIED_ROW_LIMIT;
    delete process.env.ACCESS_DENIED_WINDOW_SECONDS;
    delete (globalThis as { __accountLogsAccessDenials?: unknown }).__accountLogsAccessDenials;
    resetEnvCache();
  });

  it("writes 10 rows a window per user and one row counting the rest once the window closes; counts add up", async () => {
    const [mallory, trudy] = [await createTestUser("mallory"), await createTestUser("trudy")];
    const log = new AccessDenialLog(limits, write);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.record(i % 4 ? mallory : trudy, denial(T0 + i * 50, i % 3 ? "admin pages" : "account log export"))),
    );
    expect(await deniedRows(mallory.id)).toHaveLength(10);
    expect(await deniedRows(trudy.id)).toHaveLength(10);
    expect(log.pendingRefusals()).toBe(180);

    // Not yet: the windows are open.
    expect(await log.flush({ now: T0 + 59_000 })).toBe(0);
    expect(await log.flush({ now: T0 + 61_000 })).toBe(180);
    expect(log.pendingRefusals()).toBe(0);
    const rows = await deniedRows(mallory.id);
    expect(rows).toHaveLength(11);
    expect(refusalsIn(rows)).toBe(150);
    expect(refusalsIn(await deniedRows(trudy.id))).toBe(50);
    expect(rows.at(-1)!.metadata).toMatchObject({ count: 140, from: new Date(T0 + 14 * 50).toISOString(), resources: { "admin pages": expect.any(Number), "account log export": expect.any(Number) } });
    expect(rows.at(-1)!.ip).toBe(browserContext.ip);
  });

  it("writes a closed window's aggregate with the next refusal, and keeps an aggregate that could not be written", async () => {
    const eve = await createTestUser("eve");
    let failing = false;
    const log = new AccessDenialLog(limits, async (entries) => {
      if (failing) throw new Error("database unavailable");
      return write(entries);
    });
    for (let i = 0; i < 25; i++) await log.record(eve, denial(T0 + i));
    failing = true;
    await expect(log.record(eve, denial(T0 + 60_000))).rejects.toThrow("database unavailable");
    await expect(log.flush({ now: T0 + 60_001 })).rejects.toThrow("database unavailable");
    failing = false;
    // The failed refusal's own row is what a database outage costs today; the held-back 15 are kept.
    expect(log.pendingRefusals()).toBe(15);
    expect(await log.flush({ now: T0 + 60_002 })).toBe(15);
    await log.record(eve, denial(T0 + 60_003));
    const rows = await deniedRows(eve.id);
    expect(rows.map((row) => refusalsOf(row.metadata))).toEqual([...Array(10).fill(1), 15, 1]);
  });

  it("recordAccessDenied follows ACCESS_DENIED_ROW_LIMIT, and flushAccessDenials({ all: true }) writes what is held at shutdown", async () => {
    process.env.ACCESS_DENIED_ROW_LIMIT = "3";
    resetEnvCache();
    const oscar = await createTestUser("oscar");
    await Promise.all(Array.from({ length: 25 }, () => recordAccessDenied({ user: oscar, resource: "unlock action", context: browserContext })));
    expect(await deniedRows(oscar.id)).toHaveLength(3);
    expect(await flushAccessDenials()).toBe(0);
    expect(await flushAccessDenials({ all: true })).toBe(22);
    const rows = await deniedRows(oscar.id);
    expect(rows).toHaveLength(4);
    expect(refusalsIn(rows)).toBe(25);
    expect(rows.at(-1)!.metadata).toMatchObject({ count: 22, resource: "unlock action", resources: { "unlock action": 22 } });
  });

  it("startAccessDenialFlush writes a closed window without waiting for another refusal, and its stop writes the rest", async () => {
    process.env.ACCESS_DENIED_ROW_LIMIT = "1";
    process.env.ACCESS_DENIED_WINDOW_SECONDS = "1";
    resetEnvCache();
    const [early, late] = [await createTestUser("early"), await createTestUser("late")];
    const stop = startAccessDenialFlush({ intervalMs: 100 });
    try {
      for (let i = 0; i < 4; i++) await recordAccessDenied({ user: early, resource: "admin pages", context: browserContext });
      await expect.poll(async () => (await deniedRows(early.id)).length, { timeout: 10_000, interval: 200 }).toBe(2);
      expect(refusalsIn(await deniedRows(early.id))).toBe(4);
      for (let i = 0; i < 3; i++) await recordAccessDenied({ user: late, resource: "admin pages", context: browserContext });
    } finally {
      await stop();
    }
    // Stopped inside the late user's window: the stop wrote its held-back refusals anyway.
    expect(refusalsIn(await deniedRows(late.id))).toBe(3);
  });
});
