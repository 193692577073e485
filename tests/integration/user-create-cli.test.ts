import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ensureFirstAdmin, shellOperator } from "@/lib/users/queries";
import { DATABASE_KINDS, useFreshDatabase, withDatabaseReleased } from "../support/databases";
import { logRowsFor } from "../support/accounts";

function runCreate(username: string, password: string, ...extra: string[]) {
  return withDatabaseReleased(() =>
    spawnSync(process.execPath, ["--import", "tsx", "scripts/user-create.ts", "--username", username, "--password-stdin", ...extra], {
      env: process.env,
      input: `${password}\n`,
      encoding: "utf8",
    }),
  );
}

describe.each(DATABASE_KINDS)("accounts made outside the admin page are logged on %s", (kind) => {
  useFreshDatabase(kind);

  it("user:create writes user_created naming the operating-system account, and no password", async () => {
    const result = await runCreate("shell-made", "shell-made-password");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`logged as user_created by ${shellOperator()}, command line`);
    const rows = await logRowsFor("shell-made");
    expect(rows.map((row) => row.result)).toEqual(["user_created"]);
    expect(rows[0]!.metadata).toMatchObject({ actor: { userId: null, username: shellOperator(), via: "command line" }, role: { to: "user" } });
    expect(JSON.stringify(rows[0])).not.toContain("shell-made-password");
  });

  it("a refused user:create writes nothing", async () => {
    const result = await runCreate("short-password", "short");
    expect(result.status).toBe(1);
    expect(await logRowsFor("short-password")).toEqual([]);
  });

  it("the first admin made at start-up is logged as made by the start-up", async () => {
    const created = await ensureFirstAdmin({ username: "first-admin", password: "first-admin-password" });
    expect(created).toMatchObject({ username: "first-admin" });
    const rows = await logRowsFor("first-admin");
    expect(rows.map((row) => row.result)).toEqual(["user_created"]);
    expect(rows[0]!.metadata.actor).toMatchObject({ userId: null, via: "start-up" });
    expect(await ensureFirstAdmin({ username: "second-admin", password: "second-admin-password" })).toBeUndefined();
  });
});
