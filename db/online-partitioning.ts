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
/** Held by a preparation from start to end: one at a time. */
const PREPARE_LOCK = 726_531_007;
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

type Progress = { seq: string; indexed: boolean; ready: boolean };

async function readProgress(client: Sql | TransactionSql): Promise<Progress> {
  const [progress] = await client.unsafe<Progress[]>(`select seq::text, indexed, ready from ${STAGING}.progress`);
  if (!progress) throw new PreparationError(`The prepared copy in schema ${STAGING} has no progress row: drop the schema and prepare again.`);
  return progress;
}

/**
 * Copies up to `limit` rows that follow the prepared copy's newest, in ID order (the order the
 * log chained them in), numbering them from its `seq` and sealing each at the newest time seen so
 * far, as 0014 does. Each row must link to the one before: a log that does not chain is not copied.
 */
async function copyBatch(tx: TransactionSql, source: string, limit: number): Promise<number> {
  // Seal times never go back (a month must stay a range of seq): not before the last batch's,
  // whatever the clock or the order in which copiers took the lock.
  const [row] = await tx.unsafe<{ rows: number; linked: boolean; first_id: string | null }[]>(
    `with state as (select * from ${STAGING}.progress),
    batch as (
      select l.*, s.seq + row_number() over (order by l.id) as new_seq,
        greatest(s.newest_occurred_at, max(l.occurred_at) over (order by l.id)) as newest,
        coalesce(lag(l.hash) over (order by l.id), s.head_hash) as expected_prev, s.sealed_at as sealed_before
      from state s, lateral (select * from public.${source} c where c.id > s.last_id order by c.id limit $1) l
    ),
    sealed as (select *, greatest(sealed_before, least(newest, statement_timestamp())) as seal_time from batch),
    copied as (
      insert into ${STAGING}.account_logs (id, occurred_at, username, username_truncated, username_normalized, username_key, user_id,
        result, ip, metadata, seq, sealed_at, prev_hash, hash)
      select id, occurred_at, username, username_truncated, username_normalized, username_key, user_id, result, ip, metadata,
        new_seq, seal_time, prev_hash, hash
      from sealed order by id
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
      update ${STAGING}.progress p set last_id = b.id, seq = b.new_seq, head_hash = b.hash, newest_occurred_at = b.newest, sealed_at = b.seal_time
      from (select * from sealed order by id desc limit 1) b
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

/**
 * Copies in batches, each in its own transaction, until fewer than a batch are left behind (or
 * `signal` aborts). -1 when the migration has switched to the copy meanwhile.
 */
async function catchUp(client: Sql, batchRows: number, progress: (copied: number) => void, signal?: AbortSignal): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    // A new month's partition in a short transaction of its own: its locks are not held for a batch.
    const switched = await client.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${COPY_LOCK})`;
      if (!(await stagingExists(tx))) return true;
      await addMonths(tx);
      return false;
    });
    if (switched) return -1;
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
  return total;
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

  // A connection of its own holds the preparation's lock while the work runs on the others.
  const holder = await client.reserve();
  try {
    const [{ locked }] = (await holder`select pg_try_advisory_lock(${PREPARE_LOCK}) as locked`) as unknown as [{ locked: boolean }];
    if (!locked) throw new PreparationError("Another preparation is running on this database.");
    return await prepare(client, target, batchRows, follow, signal, log);
  } finally {
    await holder`select pg_advisory_unlock(${PREPARE_LOCK})`.catch(() => {});
    holder.release();
  }
}

async function prepare(
  client: Sql,
  target: Migration,
  batchRows: number,
  follow: boolean,
  signal: AbortSignal | undefined,
  log: (message: string) => void,
): Promise<Preparation> {
  const started = Date.now();
  const elapsed = (since = started) => (Date.now() - since) / 1000;
  const seconds = () => `${elapsed().toFixed(1)} s`;
  const stopped = (): Preparation => {
    log("Stopped: run it again to go on from here.");
    return { rows: 0, copySeconds: 0, indexSeconds: 0, seconds: elapsed() };
  };
  let copySeconds = 0;
  let indexSeconds = 0;
  const prepared = await stagingExists(client);
  if (prepared && !(await stagingIsOwners(client))) throw notOwners();
  if (!prepared) {
    // Read before the table is made: its foreign keys lock the users and the usernames against
    // the earlier release's writes until this transaction ends, which must be at once.
    const [{ oldest }] = (await client`
      select date_trunc('month', least(coalesce((select min(occurred_at) from public.account_logs), now()), now()), 'UTC') as oldest`) as unknown as [
      { oldest: Date },
    ];
    await client.begin(async (tx) => {
      await lockReferencedTables(tx);
      await tx.unsafe(`create schema ${STAGING}`);
      await tx.unsafe(`set local search_path = ${STAGING}, public`);
      // 0014's own table, made here: its constraints and their names are the migration's.
      await tx.unsafe(target.statements.find((statement) => isLogTable(statementText(statement)))!);
      await tx.unsafe(`create table ${STAGING}.progress (
        singleton boolean primary key default true check (singleton),
        last_id bigint not null default 0, seq bigint not null default 0,
        head_hash bytea not null default decode(repeat('00', 32), 'hex'),
        newest_occurred_at timestamptz not null default '-infinity', sealed_at timestamptz not null default '-infinity',
        oldest_month timestamptz not null, partitions_until timestamptz, indexed boolean not null default false, ready boolean not null default false)`);
      await tx.unsafe(`create table ${STAGING}.months (month timestamptz primary key, min_id bigint not null, max_id bigint not null,
        min_seq bigint not null, max_seq bigint not null, row_count bigint not null)`);
      await tx.unsafe(`insert into ${STAGING}.progress (oldest_month) values ($1)`, [oldest]);
      await addMonths(tx);
    });
    log(`Prepared the partitioned log beside the log, in schema ${STAGING}.`);
  }

  let state = await readProgress(client);
  if (!state.indexed) {
    const copyStarted = Date.now();
    const copied = await catchUp(
      client,
      batchRows,
      (total) => {
        if (total % (batchRows * 20) === 0) log(`copied ${total.toLocaleString("en-US")} rows (${seconds()})`);
      },
      signal,
    );
    if (signal?.aborted) return stopped();
    copySeconds = elapsed(copyStarted);
    log(`Copied ${copied.toLocaleString("en-US")} rows in chain order (${seconds()}).`);
    const indexStarted = Date.now();
    await client.begin(async (tx) => {
      await tx.unsafe(`set local search_path = ${STAGING}, public`);
      await tx.unsafe(`set local maintenance_work_mem = '256MB'`);
      for (const statement of target.statements.filter((s) => isLogIndex(statementText(s)))) await tx.unsafe(statement);
      // 0014's statistics, in the same transaction: a preparation resumed later finds both or neither.
      await tx.unsafe(`analyze ${STAGING}.account_logs`);
      await tx.unsafe(`update ${STAGING}.progress set indexed = true`);
    });
    indexSeconds = elapsed(indexStarted);
    log(`Indexed and analysed the copy (${seconds()}).`);
  }
  if ((await catchUp(client, batchRows, () => {}, signal)) < 0) {
    log("The migration has switched to the copy.");
    return { rows: 0, copySeconds, indexSeconds, seconds: elapsed() };
  }
  if (signal?.aborted) return stopped();
  await client.unsafe(`update ${STAGING}.progress set ready = true`);
  state = await readProgress(client);
  const preparation = { rows: Number(state.seq), copySeconds, indexSeconds, seconds: elapsed() };
  log(`Ready at seq ${state.seq} (${seconds()}): the migration at the next start, or \`npm run db:migrate\`, switches to the copy.`);
  while (follow && !signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if ((await catchUp(client, batchRows, () => {}, signal)) < 0) {
      log("The migration has switched to the copy.");
      break;
    }
  }
  return preparation;
}

/**
 * The partitions 0014's account_log_add_partitions makes, as far as it would make them now:
 * everything before the oldest row's month, then each month through three months after this one.
 */
async function addMonths(tx: TransactionSql): Promise<void> {
  // Months of UTC, as the migration's function keeps them, whatever the session's time zone.
  const [{ zone }] = (await tx`select current_setting('TimeZone') as zone`) as unknown as [{ zone: string }];
  await tx`select set_config('TimeZone', 'UTC', true)`;
  const months = await tx.unsafe<{ suffix: string; from: string; to: string; first: boolean }[]>(`
    select to_char(m, 'YYYY_MM') as suffix, m::text as from, (m + interval '1 month')::text as to,
      p.partitions_until is null and m = p.oldest_month as first
    from ${STAGING}.progress p,
      generate_series(coalesce(p.partitions_until, p.oldest_month), date_trunc('month', now()) + interval '3 months', interval '1 month') m
    order by m`);
  if (months.length > 0) await lockReferencedTables(tx);
  for (const month of months) {
    if (month.first) await addPartition(tx, `account_logs_before_${month.suffix}`, `FROM (MINVALUE) TO ('${month.from}')`);
    await addPartition(tx, `account_logs_${month.suffix}`, `FROM ('${month.from}') TO ('${month.to}')`);
  }
  if (months.length > 0) await tx.unsafe(`update ${STAGING}.progress set partitions_until = $1`, [months.at(-1)!.to]);
  await tx`select set_config('TimeZone', ${zone}, true)`;
}

/**
 * The log's foreign keys, made on the new table and on each partition attached, lock the users and
 * the usernames against writes until the transaction ends. The earlier release's sign-ins write
 * both, in their own order: taken together and without waiting (tried again every 50 ms, for up
 * to a minute), the locks never join a deadlock with a sign-in, and sign-ins wait for them only
 * while this transaction makes its tables.
 */
async function lockReferencedTables(tx: TransactionSql): Promise<void> {
  try {
    await tx.unsafe(`do $$
      begin
        for attempt in 1 .. 1200 loop
          begin
            lock table public.users, public.account_log_usernames in share row exclusive mode nowait;
            return;
          exception when lock_not_available then
            perform pg_sleep(0.05);
          end;
        end loop;
        raise exception 'the users were never free to lock' using errcode = 'lock_not_available';
      end $$`);
  } catch (error) {
    if ((error as { code?: string }).code !== "55P03") throw error;
    throw new PreparationError("Sign-ins kept the users table busy for a minute: run this again at a quieter time.");
  }
}

async function addPartition(tx: TransactionSql, name: string, bounds: string): Promise<void> {
  await tx.unsafe(`create table ${STAGING}.${name} (like ${STAGING}.account_logs including defaults including constraints)`);
  await tx.unsafe(`alter table ${STAGING}.account_logs attach partition ${STAGING}.${name} for values ${bounds}`);
  await tx.unsafe(`create trigger "account_logs_no_truncate" before truncate on ${STAGING}.${name} for each statement execute function public."account_logs_refuse_change"()`);
}

/**
 * Whether the schema and everything in it belong to the log's owner, as a preparation makes them:
 * one of that name made by another role is neither used nor dropped (its objects would run as the owner).
 */
async function stagingIsOwners(client: Sql): Promise<boolean> {
  const [trusted] = await client<{ owned: boolean }[]>`
    select n.nspowner = l.relowner
      and not exists (select from pg_class t where t.relnamespace = n.oid and t.relowner <> l.relowner)
      and not exists (select from pg_proc f where f.pronamespace = n.oid and f.proowner <> l.relowner) as owned
    from pg_namespace n, pg_class l
    where n.nspname = ${STAGING} and l.oid = 'public.account_logs'::regclass`;
  return trusted?.owned === true;
}

const notOwners = () => new PreparationError(`Schema ${STAGING} was not made by the log's owner: drop it (it is not used), then run this again.`);

/**
 * Whether the preparation in the schema is waiting for 0014: called by the migrator, when the
 * schema exists, before it applies pending migrations. An unfinished one stops the migration, which would otherwise convert the log offline.
 */
async function preparedCopy(client: Sql, target: Migration): Promise<boolean> {
  const owners = await stagingIsOwners(client);
  if ((await lastApplied(client)) >= target.when) {
    // Left behind by a preparation the migration did not use; another role's is not ours to drop.
    if (owners) await client.unsafe(`drop schema ${STAGING} cascade`);
    return false;
  }
  if (!owners) throw notOwners();
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
  if (!(await stagingExists(client))) return false;
  const migration = migrationNamed(migrationsFolder, PARTITIONING_MIGRATION);
  if (!(await preparedCopy(client, migration))) return false;
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
        await addMonths(tx);
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
        // The copy ends where the log does and holds as many rows as the log's counter (kept by
        // its insert trigger, so a row slipped in below the copy's position is seen), or the
        // switch does not happen.
        const [check] = await tx.unsafe<{ complete: boolean }[]>(`
          select coalesce(p.last_id = l.id and p.head_hash = l.hash, p.last_id = 0)
            and p.seq = (select coalesce(sum(row_count), 0) from account_log_totals) as complete
          from ${STAGING}.progress p left join (select id, hash from account_logs_chained order by id desc limit 1) l on true`);
        if (!check?.complete) {
          throw new PreparationError(
            `The prepared copy does not end where the log does, or holds another number of rows: run \`npm run audit:verify\`, then drop schema ${STAGING} and prepare again.`,
          );
        }
        // As 0014 sets them: an empty log's seal time is now.
        await tx.unsafe(`update account_log_seal_state s set (seq, head_hash, sealed_at) = (
          select p.seq, p.head_hash, case when p.seq = 0 then now() else p.sealed_at end from ${STAGING}.progress p)`);
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
