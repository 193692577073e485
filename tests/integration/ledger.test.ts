import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { copyOutOf, getDb, rowsOf, type Database } from "@/db";
import { appendAccountLog } from "@/lib/account-log/record";
import { sealPending, startSealer } from "@/lib/audit/sealer";
import { chainStatus, verifyChain } from "@/lib/audit/verify";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";

/** The log's invariants after sealing: positions 1..N without gaps, counters equal to the rows, an intact chain. */
async function expectSealedLog(db: Database) {
  const [positions] = rowsOf<{ n: number | string; lo: number | string | null; hi: number | string | null; distinct_seq: number | string }>(
    await db.execute(sql`select count(*) as n, min(seq) as lo, max(seq) as hi, count(distinct seq) as distinct_seq from account_logs`),
  );
  const n = Number(positions!.n);
  expect(Number(positions!.lo)).toBe(1);
  expect(Number(positions!.hi)).toBe(n);
  expect(Number(positions!.distinct_seq)).toBe(n);
  const [counted] = rowsOf<{ total: number | string; usernames_off: number | string; hours_off: number | string }>(
    await db.execute(sql`select
      (select sum(row_count) from account_log_totals) as total,
      (select count(*) from account_log_usernames u where u.row_count <> (select count(*) from account_logs l where l.username_key = u.id)) as usernames_off,
      (select count(*) from ((select date_trunc('hour', occurred_at, 'UTC'), result, count(*)::bigint from account_logs group by 1, 2)
        except (select hour, result, row_count from account_log_hours)) d) as hours_off`),
  );
  expect(Number(counted!.total)).toBe(n);
  expect(Number(counted!.usernames_off)).toBe(0);
  expect(Number(counted!.hours_off)).toBe(0);
  const verified = await verifyChain(db, undefined, { copy: copyOutOf() });
  expect(verified).toMatchObject({ intact: true, rowsVerified: n });
  return n;
}

const rowsTagged = async (db: Database, tag: string) =>
  Number(
    rowsOf<{ n: number | string }>(await db.execute(sql`select count(*) as n from account_logs where username like ${`${tag}-%`}`))[0]!.n,
  );

describe.each(DATABASE_KINDS)("sealing on %s", (kind) => {
  useFreshDatabase(kind);

  it("seals a 200-way burst while it is written: every row once, in one gapless chain, counted exactly", async () => {
    const db = await getDb();
    const sealer = startSealer();
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from({ length: 200 }, (_, i) => appendAccountLog(db, [{ username: `burst-${i % 7}`, result: "login_failed_unknown_user", ip: `198.51.100.${i % 50}` }])),
        );
      }
      // The loop seals what was written within moments, without being asked again.
      const deadline = Date.now() + 5_000;
      while ((await chainStatus(db)).unsealed.rows > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await chainStatus(db)).unsealed.rows).toBe(0);
    } finally {
      await sealer.stop();
    }
    expect(await rowsTagged(db, "burst")).toBe(600);
    await expectSealedLog(db);
  });

  it("numbers rows in the order they were sealed: a row that commits late gets a later seq than newer IDs", async () => {
    const db = await getDb();
    await sealPending(db);
    let lateId = 0;
    await db.transaction(async (tx) => {
      const [late] = await appendAccountLog(tx, [{ username: "late", result: "logout" }]);
      lateId = late!.id;
      // Rows written and sealed while this transaction is open; PGlite has one connection, so
      // there the open transaction holds everything and the order is the IDs'.
      if (kind === "postgres") {
        const other = await appendAccountLog(db, [{ username: "early", result: "logout" }]);
        expect(other[0]!.id).toBeGreaterThan(lateId);
        await sealPending(db);
      }
    });
    await sealPending(db);
    const rows = rowsOf<{ username: string; id: number | string; seq: number | string }>(
      await db.execute(sql`select username, id, seq from account_logs where username in ('late', 'early') order by seq`),
    );
    expect(rows.map((row) => row.username)).toEqual(kind === "postgres" ? ["early", "late"] : ["late"]);
    await expectSealedLog(db);
  });
});

function startWorker(url: string, tag: string, seconds: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/integration/fixtures/ledger-worker.ts", tag, String(seconds)], {
    env: { ...process.env, DATABASE_URL: url },
  });
  const state = { lastSealedAt: 0, seals: 0, wrote: undefined as number | undefined, stderr: "" };
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("sealed ")) {
        state.seals += 1;
        state.lastSealedAt = Date.now();
      } else if (line.startsWith("wrote ")) state.wrote = Number(line.slice(6));
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (state.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, state, exited };
}

const until = async (condition: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return condition();
};

describe.runIf(DATABASE_KINDS.includes("postgres"))("sealing across two app processes on one PostgreSQL", () => {
  const database = useFreshDatabase("postgres");

  it("keeps sealing through 200-way bursts and a kill -9 of the sealing process: the other takes over within seconds", async () => {
    const db = await getDb();
    const tag = `two-${randomBytes(3).toString("hex")}`;
    const a = startWorker(database.url()!, `${tag}-a`, 12);
    const b = startWorker(database.url()!, `${tag}-b`, 12);
    let killed: ChildProcess | undefined;
    try {
      // Both write; whichever seals at a moment is killed right after it reported a batch.
      expect(await until(() => a.state.seals + b.state.seals >= 5, 20_000)).toBe(true);
      const [victim, survivor] = a.state.lastSealedAt >= b.state.lastSealedAt ? [a, b] : [b, a];
      victim.child.kill("SIGKILL");
      killed = victim.child;
      const killedAt = Date.now();
      const sealsBefore = survivor.state.seals;
      // The survivor seals again (takes over) within seconds.
      expect(await until(() => survivor.state.seals > sealsBefore, 5_000)).toBe(true);
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(await survivor.exited).toBe(0);
      expect(survivor.state.wrote).toBeGreaterThan(0);
      // Every row either process committed is sealed once: the survivor's, and the killed one's
      // up to its last commit.
      await sealPending(db);
      const inbox = rowsOf<{ n: number | string }>(await db.execute(sql`select count(*) as n from account_log_inbox`))[0]!;
      expect(Number(inbox.n)).toBe(0);
      const survivorTag = survivor === a ? `${tag}-a` : `${tag}-b`;
      expect(await rowsTagged(db, survivorTag)).toBe(survivor.state.wrote);
      expect(await rowsTagged(db, victim === a ? `${tag}-a` : `${tag}-b`)).toBeGreaterThan(0);
      await expectSealedLog(db);
    } finally {
      for (const worker of [a, b]) if (worker.child.exitCode === null && worker.child !== killed) worker.child.kill("SIGKILL");
    }
  }, 60_000);
});
