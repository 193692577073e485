import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { DATABASE_KINDS, useFreshDatabase, withDatabaseReleased } from "../support/databases";
import { accountState, browserContext, createTestUser, logRowsFor } from "../support/accounts";

function runUnlock(username: string, ...extra: string[]) {
  return withDatabaseReleased(() =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/user-unlock.ts", "--username", username, ...extra], {
      env: process.env,
      encoding: "utf8",
    }),
  );
}

describe.each(DATABASE_KINDS)("break-glass unlock from the command line on %s", (kind) => {
  useFreshDatabase(kind);

  it("unlocks a locked account, logs who did it, and is a no-op the second time", async () => {
    const user = await createTestUser("glass");
    for (let i = 0; i < 6; i++) await attemptSignIn({ username: user.username, password: "wrong" }, browserContext);
    expect((await accountState(user.id)).lockedAt).not.toBeNull();

    const first = await runUnlock(user.username.toUpperCase());
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`Unlocked "${user.username}"`);
    expect(await accountState(user.id)).toMatchObject({ lockedAt: null, failedAttempts: 0 });
    const unlocked = (await logRowsFor(user.username)).filter((row) => row.result === "account_unlocked");
    expect(unlocked).toHaveLength(1);
    expect(unlocked[0]!.metadata.actor).toMatchObject({ userId: null, via: "command line" });
    expect(unlocked[0]!.metadata.reason).toBe("break-glass unlock from the command line");

    const second = await runUnlock(user.username);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("is not locked; nothing changed");
    expect((await logRowsFor(user.username)).filter((row) => row.result === "account_unlocked")).toHaveLength(1);
  });

  it("records the reason given with --reason, and refuses one that is too long", async () => {
    const user = await createTestUser("glass-reason");
    for (let i = 0; i < 6; i++) await attemptSignIn({ username: user.username, password: "wrong" }, browserContext);
    const tooLong = await runUnlock(user.username, "--reason", "x".repeat(201));
    expect(tooLong.status).toBe(1);
    expect(tooLong.stderr).toContain("The reason must be at most 200 characters.");
    expect((await accountState(user.id)).lockedAt).not.toBeNull();

    expect((await runUnlock(user.username, "--reason", "every admin locked out during the incident")).status).toBe(0);
    const [row] = (await logRowsFor(user.username)).filter((entry) => entry.result === "account_unlocked");
    expect(row!.metadata.reason).toBe("every admin locked out during the incident");
  });

  it("says so when there is no such user", async () => {
    const result = await runUnlock("nobody-at-all");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('No user named "nobody-at-all"');
  });
});
