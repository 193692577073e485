import { spawn } from "node:child_process";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { accountLogs } from "@/db/schema";
import { attemptSignIn, type SignInOutcome } from "@/lib/account-log/sign-in";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";
import { verifyChain } from "@/lib/audit/verify";
import { sealPending } from "@/lib/audit/sealer";
import { accountState, browserContext, countRows, createTestUser, logRowsFor } from "../support/accounts";

function summarize(outcomes: SignInOutcome[]) {
  return {
    signedIn: outcomes.filter((o) => o.status === "signed_in").map((o) => o.logId),
    invalid: outcomes.filter((o) => o.status === "rejected" && o.reason === "invalid_credentials").length,
    locked: outcomes.filter((o) => o.status === "rejected" && o.reason === "locked").length,
  };
}

async function lockRowIds(userId: number) {
  const db = await getDb();
  await sealPending(db);
  const rows = await db
    .select({ id: accountLogs.id })
    .from(accountLogs)
    .where(and(eq(accountLogs.userId, userId), eq(accountLogs.result, "account_locked")));
  return rows.map((r) => r.id);
}

describe.each(DATABASE_KINDS)("concurrent attempts on %s", (kind) => {
  useFreshDatabase(kind);

  for (const n of [50, 200]) {
    it(`${n} parallel wrong passwords: ${n} rows, one lock, five counted failures`, async () => {
      const user = await createTestUser(`race${n}`);
      const outcomes = await Promise.all(
        Array.from({ length: n }, (_, i) => attemptSignIn({ username: user.username, password: `guess-${i}` }, browserContext)),
      );
      const summary = summarize(outcomes);
      expect(summary).toEqual({ signedIn: [], invalid: 5, locked: n - 5 });
      const rows = await logRowsFor(user.username);
      expect(rows.filter((r) => r.result !== "account_locked")).toHaveLength(n);
      expect(await lockRowIds(user.id)).toHaveLength(1);
      expect((await accountState(user.id)).failedAttempts).toBe(6);
    });
  }

  it("49 wrong and 1 right in parallel, repeated: one lock each time, no session after it", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await createTestUser(`mixed${round}`);
      const passwords = Array.from({ length: 49 }, (_, i) => `guess-${i}`);
      passwords.splice(Math.floor(Math.random() * 50), 0, user.password);
      const outcomes = await Promise.all(passwords.map((password) => attemptSignIn({ username: user.username, password }, browserContext)));
      const summary = summarize(outcomes);
      const locks = await lockRowIds(user.id);
      expect(locks).toHaveLength(1);
      expect(summary.signedIn.length).toBeLessThanOrEqual(1);
      for (const sessionLogId of summary.signedIn) expect(sessionLogId).toBeLessThan(locks[0]!);
      expect(await logRowsFor(user.username)).toHaveLength(51);
    }
  });
});

function runWorker(url: string, args: string[]): Promise<{ signedIn: number[]; invalid: number; locked: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "tests/integration/fixtures/race-worker.ts", ...args], {
      env: { ...process.env, DATABASE_URL: url },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!)) : reject(new Error(err))));
  });
}

describe.runIf(DATABASE_KINDS.includes("postgres"))("two app processes on one PostgreSQL", () => {
  const database = useFreshDatabase("postgres");

  it("keep the rule across processes: 2 × 100 wrong, then 2 × 25 wrong + 1 right, repeated", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await createTestUser(`two-proc${round}`);
      const startAt = String(Date.now() + 2500);
      const [a, b] = await Promise.all([
        runWorker(database.url()!, [user.username, "100", "", startAt]),
        runWorker(database.url()!, [user.username, "100", "", startAt]),
      ]);
      expect(a.signedIn.length + b.signedIn.length).toBe(0);
      expect(a.invalid + b.invalid).toBe(5);
      expect(a.locked + b.locked).toBe(195);
      expect(await logRowsFor(user.username)).toHaveLength(201);
      expect(await lockRowIds(user.id)).toHaveLength(1);

      const mixed = await createTestUser(`two-proc-mixed${round}`);
      const mixedStart = String(Date.now() + 2500);
      const [c, d] = await Promise.all([
        runWorker(database.url()!, [mixed.username, "25", mixed.password, mixedStart]),
        runWorker(database.url()!, [mixed.username, "25", "", mixedStart]),
      ]);
      const locks = await lockRowIds(mixed.id);
      expect(locks).toHaveLength(1);
      expect(c.signedIn.length + d.signedIn.length).toBeLessThanOrEqual(1);
      for (const id of [...c.signedIn, ...d.signedIn]) expect(id).toBeLessThan(locks[0]!);
      expect(await logRowsFor(mixed.username)).toHaveLength(52);
    }
    // Every row from both processes is on one linear chain, in ID order.
    const verified = await verifyChain(await getDb());
    expect(verified.intact).toBe(true);
    expect(verified.rowsVerified).toBe(await countRows());
  });
});
