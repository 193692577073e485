import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { findAccountLogs, listLockedAccounts } from "@/lib/account-log/queries";
import { appendAccountLog } from "@/lib/account-log/record";
import { parseAccountLogQuery } from "@/lib/account-log/search-params";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { unlockAccount } from "@/lib/account-log/unlock";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { accountState, browserContext, createTestUser, logRowsFor } from "../support/accounts";
import { sealPending } from "@/lib/audit/sealer";

const query = (params: Record<string, string>) => parseAccountLogQuery(params).query;

async function search(params: Record<string, string>) {
  await sealPending();
  const { numberOfLogs, page } = await findAccountLogs(query(params));
  return { count: numberOfLogs, page, usernames: page.rows.map((r) => r.username) };
}

async function listAccountLogs(q: ReturnType<typeof query>) {
  await sealPending();
  return (await findAccountLogs(q)).page;
}

describe.each(DATABASE_KINDS)("account log queries on %s", (kind) => {
  useFreshDatabase(kind);

  it("searches usernames by substring, case-insensitively, with %, _ and \\ literal", async () => {
    const db = await getDb();
    const names = ["alice", "Malice", "ＡＬＩＣＥ2", "bob", "%", "_", "\\", "a%_\\", "a_c", "abc", "a%c"];
    await appendAccountLog(db, names.map((username) => ({ username, result: "login_failed_unknown_user" as const })));

    expect((await search({ q: "ALIC" })).count).toBe(3);
    expect(new Set((await search({ q: "alic" })).usernames)).toEqual(new Set(["alice", "Malice", "ＡＬＩＣＥ2"]));
    expect((await search({ q: "ａｌｉｃｅ" })).count).toBe(3);
    expect((await search({ q: "%" })).usernames.sort()).toEqual(["%", "a%_\\", "a%c"].sort());
    expect((await search({ q: "_" })).usernames.sort()).toEqual(["_", "a%_\\", "a_c"].sort());
    expect((await search({ q: "\\" })).usernames.sort()).toEqual(["\\", "a%_\\"].sort());
    expect((await search({ q: "a%_\\" })).usernames).toEqual(["a%_\\"]);
    expect((await search({ q: "a_c" })).usernames).toEqual(["a_c"]);
    expect(await search({ q: "zzz-nothing" })).toMatchObject({ count: 0, usernames: [] });
    expect((await search({})).count).toBe(names.length);
  });

  it("pages by keyset: older and newer cursors cover every row once, in order", async () => {
    const db = await getDb();
    const user = await createTestUser("pager");
    await appendAccountLog(
      db,
      Array.from({ length: 23 }, () => ({ username: user.username, result: "login_failed_wrong_password" as const })),
    );
    const seen: number[] = [];
    let page = await listAccountLogs(query({ q: user.username, size: "5" }));
    expect(page.newerCursor).toBeUndefined();
    for (;;) {
      seen.push(...page.rows.map((r) => r.id));
      if (page.olderCursor === undefined) break;
      page = await listAccountLogs(query({ q: user.username, size: "5", before: String(page.olderCursor) }));
    }
    expect(seen).toHaveLength(23);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    // Going back up from the last page returns the previous page exactly.
    const last = await listAccountLogs(query({ q: user.username, size: "5", before: String(seen[19]! + 1) }));
    expect(last.rows.map((r) => r.id)).toEqual(seen.slice(19, 23));
    const previous = await listAccountLogs(query({ q: user.username, size: "5", after: String(last.newerCursor!) }));
    expect(previous.rows.map((r) => r.id)).toEqual(seen.slice(14, 19));
    expect(previous.olderCursor).toBe(seen[18]);
    // Rows arriving meanwhile don't shift an older page.
    await appendAccountLog(db, [{ username: user.username, result: "logout" }]);
    const again = await listAccountLogs(query({ q: user.username, size: "5", before: String(seen[4]) }));
    expect(again.rows.map((r) => r.id)).toEqual(seen.slice(5, 10));
  });

  it("pages the whole log and a many-username search the same way", async () => {
    const db = await getDb();
    await appendAccountLog(
      db,
      Array.from({ length: 250 }, (_, i) => ({ username: `spray-${i}`, result: "login_failed_unknown_user" as const })),
    );
    const all = await listAccountLogs(query({ size: "200" }));
    expect(all.rows).toHaveLength(200);
    expect(all.olderCursor).toBe(all.rows.at(-1)!.id);
    // Newer rows that don't match sit between the search's matches and the top of the log.
    await appendAccountLog(
      db,
      Array.from({ length: 300 }, (_, i) => ({ username: `noise-${i}`, result: "login_failed_unknown_user" as const })),
    );
    await appendAccountLog(db, [{ username: "spray-7", result: "login_failed_unknown_user" }]);
    const sprayed = await search({ q: "spray-", size: "200" });
    expect(sprayed.count).toBe(251);
    expect(sprayed.page.rows).toHaveLength(200);
    expect(sprayed.page.rows.every((r) => r.username.startsWith("spray-"))).toBe(true);
    expect(sprayed.usernames.slice(0, 3)).toEqual(["spray-7", "spray-249", "spray-248"]);
    const rest = await listAccountLogs(query({ q: "spray-", size: "200", before: String(sprayed.page.olderCursor) }));
    expect(rest.rows).toHaveLength(51);
    expect(rest.olderCursor).toBeUndefined();
  });

  it("lists locked accounts with the failures' addresses, and unlock is idempotent and logged", async () => {
    const user = await createTestUser("locked");
    for (let i = 0; i < 6; i++) await attemptSignIn({ username: user.username, password: "wrong" }, browserContext);
    await sealPending();
    const locked = (await listLockedAccounts()).accounts.find((a) => a.id === user.id);
    expect(locked).toMatchObject({ username: user.username, failedAttempts: 6, failureIps: ["203.0.113.5"] });

    const admin = { id: 999, username: "the-admin" };
    expect(await unlockAccount({ userId: user.id, admin, reason: "owner confirmed", context: browserContext })).toMatchObject({ status: "unlocked" });
    expect(await unlockAccount({ userId: user.id, admin, reason: "owner confirmed", context: browserContext })).toMatchObject({ status: "not_locked" });
    expect(await unlockAccount({ userId: 2 ** 31 - 1, admin, reason: "owner confirmed", context: browserContext })).toEqual({ status: "not_found" });
    expect((await listLockedAccounts()).accounts.some((a) => a.id === user.id)).toBe(false);
    expect(await accountState(user.id)).toMatchObject({ lockedAt: null, failedAttempts: 0 });
    const unlockRows = (await logRowsFor(user.username)).filter((r) => r.result === "account_unlocked");
    expect(unlockRows).toHaveLength(1);
    expect(unlockRows[0]!.metadata.actor).toEqual({ userId: 999, username: "the-admin", via: "admin page" });
    expect((await attemptSignIn({ username: user.username, password: user.password }, browserContext)).status).toBe("signed_in");
  });
});
