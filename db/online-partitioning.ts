import fs from "node:fs";
import path from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { Sql, TransactionSql } from "postgres";

/**
 * Migration 0014 partitions the log in one transaction that holds it while every row is copied
 * and indexed: minutes at 10 M rows, with sign-ins waiting. On PostgreSQL its long part can run
 * first, while the app serves (`npm run db:migrate -- --prepare`): the rows are copied in
 * batches, in chain order, into the partitioned table built beside the log in a schema of its
 * own, indexed and analysed there, and followed as new rows arrive. The migration then runs as
 * a short switch: it copies the rows written since, moves the prepared table in, and runs the
 * rest of 0014 as written. The result is the migration's own (tests/integration/
 * online-partitioning.test.ts compares the two catalogs), recorded as 0014 applied.
 */

export const PARTITIONING_MIGRATION = "0014_sealed_ledger";
const PREVIOUS_MIGRATION = "0013_country_filter";
const STAGING = "account_log_upgrade";
/** Held by whoever copies rows into the prepared table: the preparation's batches, the switch. */
const COPY_LOCK = 726_531_006;
const DEFAULT_BATCH_ROWS = 50_000;

export class PreparationError extends Error {
  override name = "PreparationError";
}

type Migration = { tag: string; when: number; hash: string; statements: string[] };

function migrations(folder: string): Migration[] {
  const journal = JSON.parse(fs.readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const files = readMigrationFiles({ migrationsFolder: folder });
  return files.map((file, index) => ({ tag: journal.entries[index]!.tag, when: file.folderMillis, hash: file.hash, statements: file.sql }));
}

function migrationNamed(folder: string, tag: string): Migration {
  const found = migrations(folder).find((migration) => migration.tag === tag);
  if (!found) throw new Error(`Migration ${tag} is missing from ${folder}.`);
  return found;
}

/** A statement's SQL without the comment lines before it. */
function statementText(statement: string): string {
  return statement.replace(/^(\s*--[^\n]*\n)*\s*/, "");
}

/** The statements of 0014 that the preparation runs in its own schema instead. */
const isLogTable = (text: string) => text.startsWith('CREATE TABLE "account_logs" (');
const isLogIndex = (text: string) => text.startsWith('CREATE INDEX "account_logs_');

async function lastApplied(client: Sql | TransactionSql): Promise<number> {
  const [row] = await client<{ applied: string | null }[]>`select max(created_at)::text as applied from drizzle.__drizzle_migrations`;
  return Number(row?.applied ?? 0);
}

async function stagingExists(client: Sql | TransactionSql): Promise<boolean> {
  const [row] = await client<{ exists: boolean }[]>`select exists (select from pg_namespace where nspname = ${STAGING}) as exists`;
  return row!.exists;
}

type Progress = {
  last_id: string;
  seq: string;
  head_hash: Buffer;
  partitions_until: Date;
  indexed: boolean;
  ready: boolean;
};

async function readProgress(client: Sql | TransactionSql): Promise<Progress> {
  const [progress] = await client.unsafe<Progress[]>(
    `select last_id::text, seq::text, head_hash, partitions_until, indexed, ready from ${STAGING}.progress`,
  );
  if (!progress) throw new PreparationError(`The prepared copy in schema ${STAGING} has no progress row: drop the schema and prepare again.`);
  return progress;
}

/**
 * Copies up to `limit` rows that follow the prepared copy's newest, in ID order (the order the
 * log chained them in), numbering them from its `seq` and sealing each at the newest time seen so
 * far, as 0014 does. Each row must link to the one before: a log that does not chain is not copied.
 */
async function copyBatch(tx: TransactionSql, source: string, limit: number): Promise<number> {
  const [row] = await tx.unsafe<{ rows: number; linked: boolean; first_id: string | null }[]>(
    `with state as (select * from ${STAGING}.progress),
    batch as (
      select l.*, s.seq + row_number() over (order by l.id) as new_seq,
        greatest(s.newest_occurred_at, max(l.occurred_at) over (order by l.id)) as newest,
        coalesce(lag(l.hash) over (order by l.id), s.head_hash) as expected_prev
      from state s, lateral (select * from public.${source} c where c.id > s.last_id order by c.id limit $1) l
    ),
    copied as (
      insert into ${STAGING}.account_logs (id, occurred_at, username, username_truncated, username_normalized, username_key, user_id,
        result, ip, metadata, seq, sealed_at, prev_hash, hash)
      select id, occurred_at, username, username_truncated, username_normalized, username_key, user_id, result, ip, metadata,
        new_seq, least(newest, now()), prev_hash, hash
      from batch order by id
      returning id, seq, sealed_at
    ),
    months as (
      insert into ${STAGING}.months as t (month, min_id, max_id, min_seq, max_seq, row_count)
      select date_trunc('month', sealed_at, 'UTC'), min(id), max(id), min(seq), max(seq), count(*) from copied group by 1
      on conflict (month) do update
        set min_id = least(t.min_id, excluded.min_id), max_id = greatest(t.max_id, excluded.max_id),
          min_seq = least(t.min_seq, excluded.min_seq), max_seq = greatest(t.max_seq, excluded.max_seq),
          row_count = t.row_count + excluded.row_count
    ),
    moved as (
      update ${STAGING}.progress p set last_id = b.id, seq = b.new_seq, head_hash = b.hash, newest_occurred_at = b.newest
      from (select * from batch order by id desc limit 1) b
    )
    select (select count(*) from copied)::int as rows, coalesce((select bool_and(prev_hash = expected_prev) from batch), true) as linked,
      (select min(id)::text from batch where prev_hash <> expected_prev) as first_id`,
    [limit],
  );
  if (!row!.linked) {
    throw new PreparationError(`The log's chain breaks at ID ${row!.first_id}: run \`npm run audit:verify\`; the log is not copied.`);
  }
  return row!.rows;
}

/** Copies in batches, each in its own transaction, until fewer than a batch are left behind. */
async function catchUp(client: Sql, batchRows: number, progress: (copied: number) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const copied = await client.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${COPY_LOCK})`;
      if (!(await stagingExists(tx))) return -1;
      return copyBatch(tx, "account_logs", batchRows);
    });
    if (copied < 0) return -1;
    total += copied;
    if (copied > 0) progress(total);
    if (copied < batchRows) return total;
  }
}

export type PrepareOptions = {
  migrationsFolder: string;
  batchRows?: number;
  /** Keep copying new rows, once a second, until the migration switches to the copy or `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  log?: (message: string) => void;
};

/**
 * Prepares migration 0014 while the app serves (see above). Resumable: an interrupted
 * preparation goes on from its last batch. Needs the log's owner, and the database at 0013.
 */
export type Preparation = { rows: number; copySeconds: number; indexSeconds: number; seconds: number };

export async function prepareLogPartitioning(client: Sql, options: PrepareOptions): Promise<Preparation> {
  const { migrationsFolder, batchRows = DEFAULT_BATCH_ROWS, follow = false, signal, log = () => {} } = options;
  const target = migrationNamed(migrationsFolder, PARTITIONING_MIGRATION);
  const previous = migrationNamed(migrationsFolder, PREVIOUS_MIGRATION);
  const applied = await lastApplied(client).catch(() => 0);
  if (applied >= target.when) {
    log("The log is already partitioned: there is nothing to prepare.");
    return { rows: 0, copySeconds: 0, indexSeconds: 0, seconds: 0 };
  }
  if (applied !== previous.when) {
    throw new PreparationError(`Preparing needs the database at migration ${PREVIOUS_MIGRATION}: run \`npm run db:migrate\`, which converts the log offline.`);
  }
  const [owner] = await client<{ owns: boolean }[]>`
    select pg_get_userbyid(relowner) = current_user as owns from pg_class where oid = 'public.account_logs'::regclass`;
  if (!owner?.owns) throw new PreparationError("Preparing needs the role that owns the log (the one that runs migrations).");

  const started = Date.now();
  const elapsed = (since = started) => (Date.now() - since) / 1000;
  const seconds = () => `${elapsed().toFixed(1)} s`;
  let copySeconds = 0;
  let indexSeconds = 0;
  if (!(await stagingExists(client))) {
    await client.begin(async (tx) => {
      await tx.unsafe(`create schema ${STAGING}`);
      await tx.unsafe(`set local search_path = ${STAGING}, public`);
      // 0014's own table, made here: its constraints and their names are the migration's.
      await tx.unsafe(target.statements.find((statement) => isLogTable(statementText(statement)))!);
      await tx.unsafe(`create table ${STAGING}.progress (
        singleton boolean primary key default true check (singleton),
        last_id bigint not null default 0, seq bigint not null default 0,
        head_hash bytea not null default decode(repeat('00', 32), 'hex'),
        newest_occurred_at timestamptz not null default '-infinity',
        partitions_until timestamptz not null, indexed boolean not null default false, ready boolean not null default false)`);
      await tx.unsafe(`create table ${STAGING}.months (month timestamptz primary key, min_id bigint not null, max_id bigint not null,
        min_seq bigint not null, max_seq bigint not null, row_count bigint not null)`);
      // The partitions 0014's account_log_add_partitions makes: everything before the oldest
      // row's month, then each month through three months after this one.
      const months = await tx<{ suffix: string; from: string; to: string; first: boolean }[]>`
        with bounds as (
          select date_trunc('month', least(coalesce((select min(occurred_at) from public.account_logs), now()), now()), 'UTC') as oldest,
            date_trunc('month', now(), 'UTC') + interval '4 months' as until)
        select to_char(m at time zone 'UTC', 'YYYY_MM') as suffix, m::text as from, (m + interval '1 month')::text as to, m = oldest as first
        from bounds, generate_series(oldest, until - interval '1 month', interval '1 month') m order by m`;
      for (const month of months) {
        if (month.first) await addPartition(tx, `account_logs_before_${month.suffix}`, `FROM (MINVALUE) TO ('${month.from}')`);
        await addPartition(tx, `account_logs_${month.suffix}`, `FROM ('${month.from}') TO ('${month.to}')`);
      }
      await tx.unsafe(`insert into ${STAGING}.progress (partitions_until) values ($1)`, [months.at(-1)!.to]);
    });
    log(`Prepared the partitioned log beside the log, in schema ${STAGING}.`);
  }

  let state = await readProgress(client);
  if (!state.indexed) {
    const copyStarted = Date.now();
    const copied = await catchUp(client, batchRows, (total) => {
      if (total % (batchRows * 20) === 0) log(`copied ${total.toLocaleString("en-US")} rows (${seconds()})`);
    });
    copySeconds = elapsed(copyStarted);
    log(`Copied ${copied.toLocaleString("en-US")} rows in chain order (${seconds()}).`);
    const indexStarted = Date.now();
    await client.begin(async (tx) => {
      await tx.unsafe(`set local search_path = ${STAGING}, public`);
      await tx.unsafe(`set local maintenance_work_mem = '256MB'`);
      for (const statement of target.statements.filter((s) => isLogIndex(statementText(s)))) await tx.unsafe(statement);
      await tx.unsafe(`update ${STAGING}.progress set indexed = true`);
    });
    await client.unsafe(`analyze ${STAGING}.account_logs`);
    indexSeconds = elapsed(indexStarted);
    log(`Indexed and analysed the copy (${seconds()}).`);
  }
  await catchUp(client, batchRows, () => {});
  await client.unsafe(`update ${STAGING}.progress set ready = true`);
  state = await readProgress(client);
  const preparation = { rows: Number(state.seq), copySeconds, indexSeconds, seconds: elapsed() };
  log(`Ready at seq ${state.seq} (${seconds()}): the migration at the next start, or \`npm run db:migrate\`, switches to the copy.`);
  while (follow && !signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if ((await catchUp(client, batchRows, () => {})) < 0) {
      log("The migration has switched to the copy.");
      break;
    }
  }
  return preparation;
}

async function addPartition(tx: TransactionSql, name: string, bounds: string): Promise<void> {
  await tx.unsafe(`create table ${STAGING}.${name} (like ${STAGING}.account_logs including defaults including constraints)`);
  await tx.unsafe(`alter table ${STAGING}.account_logs attach partition ${STAGING}.${name} for values ${bounds}`);
  await tx.unsafe(`create trigger "account_logs_no_truncate" before truncate on ${STAGING}.${name} for each statement execute function public."account_logs_refuse_change"()`);
}

/**
 * Whether a preparation is waiting for 0014: called by the migrator before it applies pending
 * migrations. An unfinished one stops the migration, which would otherwise convert the log offline.
 */
async function preparedCopy(client: Sql, migrationsFolder: string): Promise<boolean> {
  if (!(await stagingExists(client))) return false;
  const target = migrationNamed(migrationsFolder, PARTITIONING_MIGRATION);
  if ((await lastApplied(client)) >= target.when) {
    // Left behind by a preparation the migration did not use.
    await client.unsafe(`drop schema ${STAGING} cascade`);
    return false;
  }
  const { ready } = await readProgress(client);
  if (!ready) {
    throw new PreparationError(
      `A preparation of migration ${PARTITIONING_MIGRATION} is unfinished: run \`npm run db:migrate -- --prepare\` to finish it, ` +
        `or drop schema ${STAGING} to convert the log offline.`,
    );
  }
  return true;
}

/**
 * Applies 0014 on a prepared copy, in one transaction: the statements of 0014 as written, except
 * the copy, the indexes and the counts the preparation did. Returns false when nothing is prepared.
 */
export async function switchToPreparedLog(client: Sql, migrationsFolder: string): Promise<boolean> {
  if (!(await preparedCopy(client, migrationsFolder))) return false;
  const migration = migrationNamed(migrationsFolder, PARTITIONING_MIGRATION);
  await client.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${COPY_LOCK})`;
    const handled = new Set<string>();
    const once = (name: string) => {
      if (handled.has(name)) throw new Error(`Migration ${migration.tag} has a second statement of kind ${name}: the switch does not know it.`);
      handled.add(name);
    };
    for (const statement of migration.statements) {
      const text = statementText(statement);
      if (isLogTable(text)) {
        once("table");
        // The log is renamed and locked by now: the rows written since the last batch, then the copy moves in.
        await copyBatch(tx, "account_logs_chained", 1_000_000_000);
        const partitions = await tx<{ name: string }[]>`
          select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = ${`${STAGING}.account_logs`}::regclass`;
        await tx.unsafe(`alter table ${STAGING}.account_logs set schema public`);
        for (const { name } of partitions) await tx.unsafe(`alter table ${STAGING}.${name} set schema public`);
      } else if (text.startsWith('SELECT "account_log_add_partitions"(least(')) {
        once("partitions");
        await tx.unsafe(`update account_log_seal_state set partitions_until = (select partitions_until from ${STAGING}.progress)`);
      } else if (text.startsWith('INSERT INTO "account_logs" (')) {
        once("copy");
      } else if (text.startsWith('INSERT INTO "account_log_months"')) {
        once("months");
        await tx.unsafe(`insert into account_log_months (month, min_id, max_id, min_seq, max_seq, row_count)
          select month, min_id, max_id, min_seq, max_seq, row_count from ${STAGING}.months`);
      } else if (text.startsWith('UPDATE "account_log_seal_state" SET ("seq", "head_hash", "sealed_at")')) {
        once("head");
        // The copy ends where the log does, or the switch does not happen.
        const [check] = await tx.unsafe<{ complete: boolean }[]>(`
          select coalesce(p.last_id = l.id and p.head_hash = l.hash, p.last_id = 0) as complete
          from ${STAGING}.progress p left join (select id, hash from account_logs_chained order by id desc limit 1) l on true`);
        if (!check?.complete) throw new PreparationError("The prepared copy does not end where the log does: drop schema account_log_upgrade and prepare again.");
        await tx.unsafe(`update account_log_seal_state s set (seq, head_hash, sealed_at) = (
          select p.seq, p.head_hash, coalesce(least(p.newest_occurred_at, now()), '-infinity') from ${STAGING}.progress p)`);
      } else if (isLogIndex(text)) {
        // Built by the preparation.
      } else if (text.startsWith('ANALYZE "account_logs"')) {
        once("analyze");
      } else {
        await tx.unsafe(statement);
      }
    }
    const expected = ["table", "partitions", "copy", "months", "head", "analyze"];
    const missing = expected.filter((name) => !handled.has(name));
    if (missing.length > 0) throw new Error(`Migration ${migration.tag} lacks the statements the switch expects: ${missing.join(", ")}.`);
    await tx.unsafe(`drop schema ${STAGING} cascade`);
    await tx`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.when})`;
  });
  return true;
}
