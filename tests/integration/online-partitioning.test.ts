import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres, { type Sql } from "postgres";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { drizzle } from "drizzle-orm/postgres-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { closeDb, MIGRATIONS_FOLDER, openAppDatabase, openDatabase } from "@/db";
import { prepareLogPartitioning } from "@/db/online-partitioning";
import { appendAccountLog } from "@/lib/account-log/record";
import { sealPending } from "@/lib/audit/sealer";
import { verifyChain } from "@/lib/audit/verify";
import { resetEnvCache } from "../support/databases";
import { createDatabase, findPostgresBin } from "../support/postgres-cluster";

/** The migrations up to and including `tag`: a database as the release before the ledger left it. */
function migrationsThrough(tag: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-migrations-"));
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const last = journal.entries.findIndex((entry) => entry.tag === tag);
  const entries = journal.entries.slice(0, last + 1);
  fs.mkdirSync(path.join(folder, "meta"));
  fs.writeFileSync(path.join(folder, "meta", "_journal.json"), JSON.stringify({ ...journal, entries }));
  for (const entry of entries) fs.copyFileSync(path.join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), path.join(folder, `${entry.tag}.sql`));
  return folder;
}

/** Made by the PostgreSQL tests' setup, removed after them. */
let legacyFolder: string;

async function legacyDatabase(): Promise<{ url: string; client: Sql }> {
  const url = await createDatabase(inject("postgresUrl")!, `legacy_${randomBytes(6).toString("hex")}`);
  const client = postgres(url, { max: 4, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  await migrate(drizzle(client), { migrationsFolder: legacyFolder });
  return { url, client };
}

/**
 * Rows as the release before the ledger wrote them: one INSERT each, chained and counted by its
 * triggers. Times run over four months, a few of them out of order (a slow writer's clock).
 */
async function writeLegacyRows(client: Sql, count: number, { from = 0 } = {}): Promise<void> {
  await client`
    insert into account_logs (occurred_at, username, username_normalized, result, ip, metadata)
    select timestamptz '2026-05-03 10:00:00+00' + ((g + ${from}) * interval '1 hour') - (case when g % 97 = 0 then interval '3 days' else interval '0' end),
      'user' || (g % 37), 'user' || (g % 37),
      case when g % 11 = 0 then 'login_failed_wrong_password' else 'login_successful' end,
      ('10.0.' || (g % 7) || '.1')::inet, jsonb_build_object('summary', 'Chrome 131 · Windows 11')
    from generate_series(1, ${count}) g`;
}

function schemaOf(url: string): string {
  const dump = spawnSync(path.join(findPostgresBin()!, "pg_dump"), ["--schema-only", "--no-comments", url], { encoding: "utf8" });
  if (dump.status !== 0) throw new Error(dump.stderr);
  return dump.stdout.replace(/^(--|\\(un)?restrict ).*$/gm, "").replace(/\n{2,}/g, "\n");
}

function migrateCommand(args: string[], env: Record<string, string>) {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!env.DATABASE_URL) delete environment.DATABASE_URL;
  return spawnSync(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts", ...args], { env: environment, encoding: "utf8", timeout: 90_000 });
}

describe("npm run db:migrate -- --prepare, given what it cannot do", () => {
  it("says that the embedded database has nothing to prepare, and that --follow needs --prepare", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-pglite-"));
    try {
      const embedded = migrateCommand(["--prepare"], { PGLITE_DIR: path.join(folder, "db") });
      expect(embedded.status).toBe(1);
      expect(embedded.stderr).toContain("--prepare is for PostgreSQL. The embedded database has one connection");
      const follow = migrateCommand(["--follow"], { PGLITE_DIR: path.join(folder, "db") });
      expect(follow.status).toBe(1);
      expect(follow.stderr).toContain("--follow goes with --prepare.");
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.runIf(inject("postgresUrl"))("partitioning a log online (migration 0014 prepared while the app serves)", () => {
  let offline: { url: string; client: Sql };
  let online: { url: string; client: Sql };
  const acknowledged: number[] = [];

  beforeAll(async () => {
    await closeDb();
    legacyFolder = migrationsThrough("0013_country_filter");
    [offline, online] = await Promise.all([legacyDatabase(), legacyDatabase()]);
    await Promise.all([writeLegacyRows(offline.client, 3000), writeLegacyRows(online.client, 3000)]);
    // A verification the release recorded, by ID: 0014 turns it into a position.
    for (const { client } of [offline, online]) {
      await client`insert into account_log_verifications (through_id, head_hash, rows_verified, intact, started_at)
        select id, encode(hash, 'hex'), 2000, true, now() from account_logs order by id offset 1999 limit 1`;
    }
  }, 120_000);

  afterAll(async () => {
    if (legacyFolder) fs.rmSync(legacyFolder, { recursive: true, force: true });
    await closeDb();
    await offline?.client.end();
    await online?.client.end();
    delete process.env.DATABASE_URL;
    resetEnvCache();
  });

  it("refuses to prepare a database that is not at the release before the ledger", async () => {
    const url = await createDatabase(inject("postgresUrl")!, `empty_${randomBytes(6).toString("hex")}`);
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await expect(prepareLogPartitioning(client, { migrationsFolder: MIGRATIONS_FOLDER })).rejects.toThrow(/needs the database at migration 0013/);
    } finally {
      await client.end();
    }
  });

  it("copies while the old release writes, switches in one short transaction, and ends where 0014 ends", async () => {
    // The old release goes on writing, one sign-in at a time, through the preparation, until it stops for the deploy.
    let writing = true;
    let refused = 0;
    const [user] = await online.client<{ id: number }[]>`
      insert into users (username, username_normalized, password_hash, role) values ('writer', 'writer', 'not-a-hash', 'user') returning id`;
    const oldReleaseSignIn = (i: number) =>
      // As its sign-in: the account's row and the log's in one transaction, in either order, so
      // the users and the usernames counters are locked in both orders.
      online.client.begin(async (tx) => {
        if (i % 2 === 0) await tx`update users set failed_attempts = 0 where id = ${user!.id}`;
        const [row] = await tx<{ id: string }[]>`
          insert into account_logs (username, username_normalized, user_id, result, ip, metadata)
          values ('writer', 'writer', ${user!.id}, 'login_successful', '192.0.2.7', '{"summary":"Firefox 133 · Linux"}')
          returning id::text`;
        if (i % 2 === 1) await tx`update users set failed_attempts = 0 where id = ${user!.id}`;
        return Number(row!.id);
      });
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          acknowledged.push(await oldReleaseSignIn(i));
        } catch {
          refused++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    })();
    const follower = new AbortController();
    const log: string[] = [];
    const preparation = prepareLogPartitioning(online.client, {
      migrationsFolder: MIGRATIONS_FOLDER,
      batchRows: 400,
      follow: true,
      signal: follower.signal,
      log: (message) => log.push(message),
    });
    let db;
    try {
      await expect.poll(() => log.some((line) => line.startsWith("Ready at seq")), { timeout: 60_000 }).toBe(true);
      const ready = acknowledged.length;
      await expect.poll(() => acknowledged.length, { timeout: 10_000 }).toBeGreaterThan(ready + 10);
      // The deploy: the old release stops (docs/operations.md: required before the switch)…
      writing = false;
      await writer;
      // …and the next one starts: its migration switches to the copy, then applies the later ones.
      process.env.DATABASE_URL = online.url;
      resetEnvCache();
      db = await openAppDatabase();
      await preparation;
      expect(log).toContain("The migration has switched to the copy.");
    } finally {
      writing = false;
      follower.abort();
      await writer;
      await preparation.catch(() => {});
    }
    // Not one of the old release's writes failed while the log was being prepared and followed.
    expect(refused).toBe(0);
    // An old release left running is refused from now on (fail closed), and nothing of it is logged.
    await expect(oldReleaseSignIn(0)).rejects.toThrow();

    // Every row the old release was told was written is in the partitioned log, in chain order.
    const [counts] = await online.client<{ rows: number; first: string; last: string; partitions: number; ids: string[] }[]>`
      select count(*)::int as rows, min(seq)::text as first, max(seq)::text as last,
        (select count(*)::int from pg_inherits where inhparent = 'account_logs'::regclass) as partitions,
        array_agg(id::text order by seq) as ids
      from account_logs`;
    expect(counts!.rows).toBe(3000 + acknowledged.length);
    expect([counts!.first, counts!.last]).toEqual(["1", String(counts!.rows)]);
    // The release's rows (IDs 1 to 3000) and every acknowledged write, in ID order: the chain's.
    expect(counts!.ids.map(Number)).toEqual([...Array.from({ length: 3000 }, (_, i) => i + 1), ...acknowledged]);
    expect(counts!.partitions).toBeGreaterThan(4);
    expect(await online.client`select from pg_namespace where nspname = 'account_log_upgrade'`).toHaveLength(0);

    // The months, the head and the verification's position are 0014's.
    const [months] = await online.client<{ same: boolean }[]>`
      select (select jsonb_agg(m order by month) from account_log_months m)
        = (select jsonb_agg(t order by month) from (select date_trunc('month', sealed_at, 'UTC') as month, min(id) as min_id, max(id) as max_id,
             min(seq) as min_seq, max(seq) as max_seq, count(*) as row_count from account_logs group by 1) t) as same`;
    expect(months!.same).toBe(true);
    const [head] = await online.client<{ same: boolean; through: string }[]>`
      select s.seq = l.seq and s.head_hash = l.hash and s.sealed_at = l.sealed_at as same,
        (select through_seq::text from account_log_verifications) as through
      from account_log_seal_state s, (select * from account_logs order by seq desc limit 1) l`;
    expect(head).toEqual({ same: true, through: "2000" });

    // The new release writes, seals and verifies on it.
    await appendAccountLog(db!, [{ username: "after-switch", result: "login_successful", ip: "192.0.2.8" }]);
    await sealPending(db!);
    const outcome = await verifyChain(db!);
    expect(outcome).toMatchObject({ intact: true, rowsVerified: counts!.rows + 1 });
  }, 180_000);

  it("leaves the same schema as the migration run offline, and the same chain", async () => {
    await closeDb();
    const handle = await openDatabase({ kind: "postgres", url: offline.url });
    await handle.close();
    expect(schemaOf(online.url)).toBe(schemaOf(offline.url));
    // The partitions made ahead, which the schema shows, and the seal state's record of them, which it does not.
    const until = (client: Sql) => client<{ until: Date }[]>`select partitions_until as until from account_log_seal_state`;
    expect(await until(online.client)).toEqual(await until(offline.client));
    const chain = (client: Sql) => client<{ seq: string; id: string; hash: Buffer; sealed_at: Date }[]>`
      select seq::text, id::text, hash, sealed_at from account_logs where seq <= 3000 order by seq`;
    const [a, b] = await Promise.all([chain(offline.client), chain(online.client)]);
    expect(b).toEqual(a);
  }, 120_000);

  it("will not switch when a row was slipped in below the copy's position", async () => {
    const legacy = await legacyDatabase();
    try {
      await writeLegacyRows(legacy.client, 500);
      // Prepared by the command an operator runs.
      const prepared = migrateCommand(["--prepare"], { DATABASE_URL: legacy.url });
      expect(prepared.status, prepared.stderr).toBe(0);
      expect(prepared.stdout).toMatch(/Copied 500 rows in chain order[\s\S]*Ready at seq 500/);
      // An ID the copy has passed: its triggers chain and count it, the copy never reads it.
      await legacy.client`
        insert into account_logs (id, username, username_normalized, result, ip, metadata) overriding system value
        values (0, 'slipped-in', 'slipped-in', 'login_successful', '192.0.2.9', '{}')`;
      const error = await openDatabase({ kind: "postgres", url: legacy.url }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/prepared copy does not end where the log does, or holds another number of rows/);
      const [table] = await legacy.client<{ kind: string }[]>`select relkind as kind from pg_class where oid = 'public.account_logs'::regclass`;
      expect(table!.kind).toBe("r");
    } finally {
      await legacy.client.end();
    }
  }, 120_000);

  it("will not switch to an unfinished copy, nor copy a log whose chain breaks", async () => {
    const legacy = await legacyDatabase();
    try {
      await writeLegacyRows(legacy.client, 500);
      await legacy.client.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update account_logs set hash = sha256('forged') where id = 321`;
      });
      await expect(prepareLogPartitioning(legacy.client, { migrationsFolder: MIGRATIONS_FOLDER, batchRows: 100 })).rejects.toThrow(
        /chain breaks at ID 322/,
      );
      const error = await openDatabase({ kind: "postgres", url: legacy.url }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/preparation of migration 0014_sealed_ledger is unfinished/);
      // Nothing changed: the log is still the release's.
      const [table] = await legacy.client<{ kind: string }[]>`select relkind as kind from pg_class where oid = 'public.account_logs'::regclass`;
      expect(table!.kind).toBe("r");
    } finally {
      await legacy.client.end();
    }
  }, 120_000);
});
