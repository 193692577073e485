import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { getDb } from "@/db";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { runAdminAction, runUserAction, type ActionCall } from "@/lib/actions/run";
import { UNLOCK_FORM, unlockFromForm } from "@/lib/actions/unlock";
import { checkSessionRecord } from "@/lib/sessions/queries";
import { createUserAsAdmin } from "@/lib/users/admin";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { accountState, browserContext, countRows, createTestUser, logRowsFor } from "../support/accounts";

type TestUser = Awaited<ReturnType<typeof createTestUser>>;

/** The caller as a request presents it: signed in, then checked against the database as every request is. */
async function callerOf(user: TestUser) {
  const outcome = await attemptSignIn({ username: user.username, password: user.password }, browserContext);
  if (outcome.status !== "signed_in") throw new Error(`${user.username} could not sign in`);
  const claims = { userId: user.id, sessionVersion: outcome.user.sessionVersion, sessionKey: outcome.session.key };
  return { claims, caller: await checkSessionRecord(claims) };
}

function call(caller: ActionCall["caller"], fields: Record<string, string>): ActionCall & { revalidated: string[] } {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const revalidated: string[] = [];
  return { caller, context: browserContext, form, revalidate: (path) => revalidated.push(path), revalidated };
}

async function lockBySignIns(username: string) {
  for (let i = 0; i < 6; i++) await attemptSignIn({ username, password: "wrong" }, browserContext);
}

async function rowsOf(user: TestUser, result: string) {
  return (await logRowsFor(user.username.toLowerCase())).filter((row) => row.result === result);
}

describe.each(DATABASE_KINDS)("admin actions on %s", (kind) => {
  useFreshDatabase(kind);
  afterEach(() => vi.restoreAllMocks());

  it("a non-admin running the unlock action is refused with one access_denied row, and nothing is unlocked", async () => {
    const victim = await createTestUser("victim");
    await lockBySignIns(victim.username);
    const mallory = await createTestUser("mallory");
    const { caller } = await callerOf(mallory);
    const request = call(caller, { userId: String(victim.id), reason: "let me in" });

    expect(await runAdminAction(UNLOCK_FORM, unlockFromForm, request)).toEqual({
      status: "refused",
      reason: "not_admin",
      message: "Only administrators can unlock accounts.",
    });
    expect((await accountState(victim.id)).lockedAt).not.toBeNull();
    expect(await rowsOf(victim, "account_unlocked")).toHaveLength(0);
    const denied = await rowsOf(mallory, "access_denied");
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ userId: mallory.id, ip: browserContext.ip, metadata: { resource: "unlock action" } });
    expect(request.revalidated).toEqual([]);
  });

  it("takes the role from the database: an admin demoted after signing in is refused, the domain call never runs", async () => {
    const admin = await createTestUser("demoted", "admin");
    const { claims } = await callerOf(admin);
    const db = await getDb();
    // A change that leaves the session itself standing: only the role differs from sign-in.
    await db.execute(sql`update users set role = 'user' where id = ${admin.id}`);
    const run = vi.fn();
    const spec = { name: "create user action", refusal: "Only administrators can manage users.", schema: z.object({}), failure: "x", revalidate: [] };
    expect(await runAdminAction(spec, run, call(await checkSessionRecord(claims), {}))).toMatchObject({ status: "refused", reason: "not_admin" });
    expect(run).not.toHaveBeenCalled();
    expect((await rowsOf(admin, "access_denied")).map((row) => row.metadata.resource)).toEqual(["create user action"]);
  });

  it("an admin unlocks through it: one account_unlocked row with actor and reason, and the pages revalidated", async () => {
    const admin = await createTestUser("boss", "admin");
    const victim = await createTestUser("victim");
    await lockBySignIns(victim.username);
    const { caller } = await callerOf(admin);
    const request = call(caller, { userId: String(victim.id), reason: "  called the help desk " });

    expect(await runAdminAction(UNLOCK_FORM, unlockFromForm, request)).toEqual({ status: "done", message: `Unlocked ${victim.username}.` });
    const rows = await rowsOf(victim, "account_unlocked");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metadata).toMatchObject({ reason: "called the help desk", actor: { userId: admin.id, username: admin.username, via: "admin page" } });
    expect(request.revalidated).toEqual(["/admin/account-logs", "/admin/users"]);

    const again = call(caller, { userId: String(victim.id), reason: "twice" });
    expect(await runAdminAction(UNLOCK_FORM, unlockFromForm, again)).toEqual({ status: "done", message: `${victim.username} is not locked; nothing changed.` });
    expect(await rowsOf(victim, "account_unlocked")).toHaveLength(1);
  });

  it("refuses a bad form before the domain call: the field named, no row, nothing revalidated", async () => {
    const admin = await createTestUser("boss", "admin");
    const victim = await createTestUser("victim");
    await lockBySignIns(victim.username);
    const { caller } = await callerOf(admin);
    const before = await countRows();
    for (const [fields, expected] of [
      [{ userId: String(victim.id), reason: "  " }, { status: "error", message: "A reason is required.", field: "reason" }],
      [{ userId: String(victim.id), reason: "x".repeat(201) }, { status: "error", message: "The reason must be at most 200 characters.", field: "reason" }],
      [{ userId: "not-a-number", reason: "fine" }, { status: "error", message: "That is not a valid account." }],
    ] as const) {
      const request = call(caller, fields);
      expect(await runAdminAction(UNLOCK_FORM, unlockFromForm, request)).toEqual(expected);
      expect(request.revalidated).toEqual([]);
    }
    expect(await countRows()).toBe(before);
    expect((await accountState(victim.id)).lockedAt).not.toBeNull();
  });

  it("maps the domain's known errors to their messages, and logs an unexpected one with its cause without showing it", async () => {
    const admin = await createTestUser("boss", "admin");
    const taken = await createTestUser("taken");
    const { caller } = await callerOf(admin);
    const create = {
      name: "create user action",
      refusal: "Only administrators can manage users.",
      schema: z.object({ username: z.string(), password: z.string() }),
      fields: ["username", "password"] as const,
      keep: ["username"] as const,
      failure: "The user could not be created. Try again.",
      revalidate: ["/admin/users"],
    };
    const request = call(caller, { username: taken.username.toUpperCase(), password: "long-enough-password" });
    const state = await runAdminAction(create, (input, admin) => createUserAsAdmin({ ...admin, ...input, role: "user" }).then(() => ({ status: "done", message: "" }) as const), request);
    expect(state).toEqual({
      status: "error",
      message: `A user named "${taken.username.toUpperCase()}" already exists.`,
      field: "username",
      values: { username: taken.username.toUpperCase() },
    });
    expect(request.revalidated).toEqual([]);

    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const secret = "password=hunter2hunter2";
    const failing = () => Promise.reject(new Error("could not write", { cause: new Error(`connection reset (${secret})`) }));
    const failed = await runAdminAction(create, failing, call(caller, { username: "nora", password: "hunter2hunter2" }));
    expect(failed).toEqual({ status: "error", message: "The user could not be created. Try again.", values: { username: "nora" } });
    expect(JSON.stringify(failed)).not.toContain("hunter2");
    expect(logged).toHaveBeenCalledTimes(1);
    const line = JSON.parse(String(logged.mock.calls[0]![0]));
    expect(line).toMatchObject({ event: "create user action failed", actorId: admin.id });
    expect(line.error.map((error: { message: string }) => error.message)).toEqual(["could not write", `connection reset (${secret})`]);
  });

  it("a user's own action needs only a live session; an ended one is refused as signed out, with no row", async () => {
    const user = await createTestUser("own");
    const { claims, caller } = await callerOf(user);
    const spec = { name: "end own session action", schema: z.object({}), failure: "x", revalidate: ["/account/sessions"] };
    const run = vi.fn(async () => ({ status: "done", message: "ok" }) as const);
    const request = call(caller, {});
    expect(await runUserAction(spec, run, request)).toEqual({ status: "done", message: "ok" });
    expect(run).toHaveBeenCalledWith({}, { user: { id: user.id, username: user.username, role: "user" }, sessionId: caller!.sessionId, context: browserContext });
    expect(request.revalidated).toEqual(["/account/sessions"]);

    const db = await getDb();
    await db.execute(sql`update user_sessions set revoked_at = now() where id = ${caller!.sessionId}`);
    const ended = await checkSessionRecord(claims);
    expect(ended).toBeUndefined();
    expect(await runUserAction(spec, run, call(ended, {}))).toEqual({ status: "refused", reason: "signed_out", message: "Your session has ended. Sign in again." });
    expect(run).toHaveBeenCalledTimes(1);
    expect(await rowsOf(user, "access_denied")).toHaveLength(0);
  });
});
