import fs from "node:fs";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { closeDb, getDb, openAppDatabase, openDatabase, rowsOf } from "@/db";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { authorizeApiToken } from "@/lib/api/authorize";
import { createApiToken, revokeApiToken } from "@/lib/api/tokens";
import { appendAccountLog } from "@/lib/account-log/record";
import { sealBatch, sealPending } from "@/lib/audit/sealer";
import { verifyChain } from "@/lib/audit/verify";
import { deleteEndedSessions } from "@/lib/sessions/cleanup";
import { endOwnSessions } from "@/lib/sessions/end";
import { checkSessionRecord, touchSession } from "@/lib/sessions/queries";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";
import { browserContext, createTestUser, logRowsFor } from "../support/accounts";

function asRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = "app-role-password";
  return parsed.toString();
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: Error & { code?: string; cause?: { code?: string } }) => e,
  );
  return error?.code ?? error?.cause?.code ?? (error ? "no code" : undefined);
}

describe.runIf(DATABASE_KINDS.includes("postgres"))("the app on a role with only INSERT and SELECT on the log", () => {
  const database = useFreshDatabase("postgres");

  it("signs in, locks and logs, and cannot change the log, its counters or its chain", async () => {
    const owner = await getDb();
    await owner.execute(sql`do $$ begin create role account_logs_app login password 'app-role-password';
      exception when duplicate_object then null; end $$`);
    await owner.execute(sql.raw(fs.readFileSync("db/roles/app-role.sql", "utf8")));
    const user = await createTestUser("role-user");

    // The app as that role: it starts (no migration pending), signs in and locks.
    const ownerUrl = database.url()!;
    process.env.DATABASE_URL = asRole(ownerUrl, "account_logs_app");
    resetEnvCache();
    await closeDb();
    try {
      const db = await openAppDatabase();
      const [who] = await db.execute(sql`select current_user as name`).then((r) => [...(r as unknown as { name: string }[])]);
      expect(who!.name).toBe("account_logs_app");
      const signedIn = await attemptSignIn({ username: user.username, password: user.password }, browserContext);
      if (signedIn.status !== "signed_in") throw new Error("the role could not sign in");
      // Session records: checked, marked seen, ended and cleaned up as that role.
      const claims = { userId: user.id, sessionVersion: 1, sessionKey: signedIn.session.key };
      await db.execute(sql`update user_sessions set last_seen_at = now() - interval '2 minutes' where id = ${signedIn.session.id}`);
      expect(await checkSessionRecord(claims)).toBeDefined();
      expect(await touchSession(db, signedIn.session.id)).toBe(0);
      expect(await endOwnSessions({ user: { id: user.id, username: user.username }, context: browserContext, scope: { kind: "one", sessionId: signedIn.session.id } })).toMatchObject({ status: "ended" });
      expect(await deleteEndedSessions({ retentionHours: 0 })).toBe(1);
      for (let i = 0; i < 6; i++) await attemptSignIn({ username: user.username, password: "wrong" }, browserContext);
      expect(await attemptSignIn({ username: user.username, password: user.password }, browserContext)).toMatchObject({ status: "rejected", reason: "locked" });
      await appendAccountLog(db, [{ username: "role-check", result: "logout" }]);
      // API tokens as that role: made, checked, used and revoked; nothing else.
      const actor = { userId: null, username: "role-admin", via: "command line" as const };
      const { token, summary } = await createApiToken({ actor, context: browserContext, name: "role token", scopes: ["logs:read"] });
      expect(await authorizeApiToken(db, token, "logs:read", { ...browserContext, ip: "198.51.100.200" })).toMatchObject({ status: "allowed" });
      expect(await authorizeApiToken(db, `alog_${"q".repeat(43)}`, "logs:read", { ...browserContext, ip: "198.51.100.200" })).toEqual({ status: "refused" });
      expect(await revokeApiToken({ actor, context: browserContext, tokenId: summary.id })).toMatchObject({ status: "revoked" });

      for (const statement of [
        sql`update account_logs set result = 'login_successful'`,
        sql`delete from account_logs`,
        sql`truncate account_logs`,
        sql`alter table account_logs disable trigger account_logs_append_only`,
        sql`update account_log_usernames set row_count = 0`,
        sql`update account_log_totals set row_count = 0`,
        sql`set session_replication_role = replica`,
        sql`delete from account_log_verifications`,
        sql`create temporary table account_log_totals (shard smallint, row_count bigint)`,
        // A row with a huge ID would make every later insert collide on the next ID's row.
        sql`insert into account_logs (id, username, username_normalized, result) overriding system value
          values (9000000000000000, 'forged', 'forged', 'logout')`,
        sql`insert into account_logs (username, username_normalized, result, prev_hash, hash)
          values ('forged', 'forged', 'logout', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))`,
        sql`insert into account_logs (username, username_normalized, result, username_key) values ('forged', 'forged', 'logout', 1)`,
        // The inbox: only the app's columns, never an ID; nothing in it can be removed.
        sql`insert into account_log_inbox (id, username, username_normalized, result) overriding system value
          values (9000000000000000, 'forged', 'forged', 'logout')`,
        sql`delete from account_log_inbox`,
        // Seals, checkpoints and verification records are the owner's functions' to write.
        sql`update account_log_seal_state set seq = 0`,
        sql`select * from account_log_seal_state for update`,
        sql`select account_log_add_partitions(now() + interval '10 years')`,
        sql`insert into account_log_checkpoints (seq, head_hash, row_count, signed_at, key_id, signature)
          values (1, decode(repeat('00', 32), 'hex'), 1, now(), 'forged', decode('00', 'hex'))`,
        sql`insert into account_log_verifications (started_at, through_seq, head_hash, rows_verified, intact)
          values (now(), 1, 'forged', 1, true)`,
        // A token is never widened, re-keyed, un-revoked or removed, nor made with a chosen ID.
        sql`update api_tokens set scopes = array['logs:read', 'metrics:read']`,
        sql`update api_tokens set token_hash = decode(repeat('00', 32), 'hex')`,
        sql`update api_tokens set revoked_at = null`,
        sql`delete from api_tokens`,
        sql`insert into api_tokens (id, name, token_hash, hint, scopes) overriding system value values (999, 'x', decode(repeat('01', 32), 'hex'), 'alog_x', array['logs:read'])`,
      ]) {
        expect(await errorCode(db.execute(statement))).toBe("42501");
      }
      // The role seals through the owner's function, and may only checkpoint the real head.
      expect(await sealPending(db)).toBeGreaterThan(0);
      expect(await errorCode(db.execute(sql`select account_log_checkpoint(1, decode(repeat('00', 32), 'hex'), now(), 'forged', decode('00', 'hex'))`))).toBe("23514");
      expect((await verifyChain(db)).intact).toBe(true);
      // Sign-ins go on after the attempts.
      expect(await attemptSignIn({ username: "role-check-2", password: "x" }, browserContext)).toMatchObject({ status: "rejected" });
    } finally {
      await closeDb();
      process.env.DATABASE_URL = ownerUrl;
      resetEnvCache();
      await openAppDatabase();
    }
    const rows = await logRowsFor(user.username);
    expect(rows.map((r) => r.result)).toEqual([
      "login_successful",
      "session_revoked",
      ...Array(6).fill("login_failed_wrong_password"),
      "account_locked",
      "login_failed_account_locked",
    ]);
  });

  it("cannot stop sealing by holding the seal open, even with its own timeouts turned off", async () => {
    const owner = await getDb();
    // The role's timeouts are defaults it may change: this session turns them off.
    const holder = postgres(asRole(database.url()!, "account_logs_app"), {
      max: 1,
      onnotice: () => {},
      connection: { statement_timeout: 0, idle_in_transaction_session_timeout: 0, application_name: "seal holder" },
    });
    try {
      await appendAccountLog(owner, [
        { username: "held-1", result: "logout" },
        { username: "held-2", result: "logout" },
      ]);
      // Seals one row and keeps the state locked for as long as its statement runs.
      const held = holder`select account_log_seal(1) as sealed, pg_sleep(60)`.then(
        () => "finished",
        () => "ended",
      );
      const holding = async () => rowsOf<{ n: number | string }>(await owner.execute(sql`select count(*) as n from pg_stat_activity where application_name = 'seal holder' and state = 'active'`));
      await expect.poll(async () => Number((await holding())[0]!.n)).toBe(1);
      await expect.poll(() => sealBatch(owner)).toBe(-1);
      const startedAt = Date.now();
      // After 5 s the holder is ended; its batch is rolled back and both rows are sealed here.
      expect(await sealPending(owner, { timeoutMs: 15_000 })).toBe(2);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      expect(await held).toBe("ended");
      expect((await verifyChain(owner)).intact).toBe(true);
    } finally {
      await holder.end({ timeout: 1 }).catch(() => {});
    }
  }, 30_000);

  it("refuses to start with a pending migration it may not apply, and says what to do", async () => {
    const owner = await getDb();
    await owner.execute(sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`);
    const error = await openDatabase({ kind: "postgres", url: asRole(database.url()!, "account_logs_app") }).catch((e: Error) => e);
    expect(String((error as Error).message)).toMatch(/run `npm run db:migrate` with the owner's DATABASE_URL/);
  });
});
