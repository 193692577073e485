import { sql } from "drizzle-orm";
import type { Database } from "@/db";
import { rowsOf } from "@/db";
import { hashPassword } from "@/lib/auth/password";
import { FAILED_SIGN_IN_RESULTS } from "@/lib/account-log/signals";

export const BENCH_PASSWORD = "bench-password-1";
/** The admin the benchmark's servers are started with, and sign in as. */
export const BENCH_ADMIN = { username: "bench-admin", password: "bench-admin-password" } as const;
export const REAL_ACCOUNTS = 10_000;
const UNKNOWN_NAMES = 5_000;
const VICTIMS = [5000, 6000, 7000];
const BATCH = 250_000;

export const accountName = (index: number) => `user${String(index).padStart(5, "0")}`;

const USER_AGENTS: [string, string][] = [
  ["Chrome 131 · Windows 11", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"],
  ["Edge 131 · Windows 10", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"],
  ["Safari 17 · macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"],
  ["Firefox 133 · Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"],
  ["Mobile Safari 17 · iOS 17.5 · iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"],
  ["Chrome 131 · Android · mobile", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"],
];

const FIRST_TIME = "2025-11-26 00:00:00+00";

/**
 * Monthly partitions from `from` up to the ones the sealer made, in place of the partition that
 * the first migration made for everything before this month (empty on a new database).
 */
async function monthlyPartitionsFrom(db: Database, from: string): Promise<void> {
  await db.execute(sql.raw(`do $$
    declare
      before_partition text := (select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'account_logs'::regclass and c.relname like 'account_logs_before_%');
      first_month timestamptz := date_trunc('month', timestamptz '${from}', 'UTC');
      month_start timestamptz := first_month;
      month_end timestamptz;
      sealer_start timestamptz := to_timestamp(substr(before_partition, 21), 'YYYY_MM') at time zone 'UTC';
    begin
      execute format('drop table %I', before_partition);
      execute format('create table %I partition of account_logs for values from (minvalue) to (%L)',
        'account_logs_before_' || to_char(first_month at time zone 'UTC', 'YYYY_MM'), first_month);
      execute format('create trigger account_logs_no_truncate before truncate on %I for each statement execute function account_logs_refuse_change()',
        'account_logs_before_' || to_char(first_month at time zone 'UTC', 'YYYY_MM'));
      while month_start < sealer_start loop
        month_end := (month_start at time zone 'UTC' + interval '1 month') at time zone 'UTC';
        execute format('create table %I partition of account_logs for values from (%L) to (%L)',
          'account_logs_' || to_char(month_start at time zone 'UTC', 'YYYY_MM'), month_start, month_end);
        execute format('create trigger account_logs_no_truncate before truncate on %I for each statement execute function account_logs_refuse_change()',
          'account_logs_' || to_char(month_start at time zone 'UTC', 'YYYY_MM'));
        month_start := month_end;
      end loop;
    end $$`));
}

/**
 * Chains the inbox rows with IDs \`lo\`..\`hi\` onto the sealer's head, as \`account_log_seal\` does,
 * each sealed at the time it was written (the fill's rows are in time order).
 */
function chainInboxStatement(lo: number, hi: number): string {
  return `do $$
    declare
      r account_log_inbox;
      state account_log_seal_state;
      head bytea;
      next_seq bigint;
      ids bigint[] := '{}';
      seqs bigint[] := '{}';
      prevs bytea[] := '{}';
      hashes bytea[] := '{}';
    begin
      select * into state from account_log_seal_state for update;
      head := state.head_hash;
      next_seq := state.seq;
      for r in select * from account_log_inbox where id between ${Math.trunc(lo)} and ${Math.trunc(hi)} order by id loop
        next_seq := next_seq + 1;
        ids := ids || r.id;
        seqs := seqs || next_seq;
        prevs := prevs || head;
        head := sha256(head || convert_to(account_log_canonical(r.id, r.occurred_at, r.username, r.username_truncated,
          r.username_normalized, r.user_id, r.result, r.ip, r.metadata), 'UTF8'));
        hashes := hashes || head;
      end loop;
      insert into account_logs (id, occurred_at, username, username_truncated, username_normalized, username_key, user_id,
        result, ip, metadata, seq, sealed_at, prev_hash, hash)
      select i.id, i.occurred_at, i.username, i.username_truncated, i.username_normalized, u.id, i.user_id,
        i.result, i.ip, i.metadata, b.seq, i.occurred_at, b.prev_hash, b.hash
      from unnest(ids, seqs, prevs, hashes) as b(id, seq, prev_hash, hash)
      join account_log_inbox i on i.id = b.id
      join account_log_usernames u on u.username_normalized = i.username_normalized
      order by b.seq;
      update account_log_seal_state set seq = next_seq, head_hash = head,
        sealed_at = greatest(state.sealed_at, (select max(occurred_at) from account_log_inbox where id between ${Math.trunc(lo)} and ${Math.trunc(hi)}));
    end $$`;
}

async function existingRows(db: Database): Promise<number | undefined> {
  const result = rowsOf<{ rows: string }>(
    await db.execute(sql`select rows::text from bench_meta limit 1`).catch(() => ({ rows: [] })),
  );
  return result[0] ? Number(result[0].rows) : undefined;
}

/**
 * A year of realistic log in set-based SQL: 10,000 accounts with Zipf-like activity, ~5%
 * failures, attempts on 5,000 unknown names, three attack bursts that locked their victims,
 * IPv4 and IPv6 addresses, six common browsers. Reused when already there.
 */
export async function fillLog(db: Database, rows: number, progress: (message: string) => void): Promise<boolean> {
  const existing = await existingRows(db);
  if (existing === rows) {
    // A data set filled before rows had countries cannot measure the country filter.
    const [countries] = rowsOf<{ any: boolean }>(await db.execute(sql`select exists(select from account_log_country_results) as any`));
    if (!countries?.any) throw new Error("The bench database was filled before rows had countries: start from an empty one (remove its cluster folder under .data/bench).");
    return false;
  }
  if (existing !== undefined) throw new Error(`The bench database holds ${existing} rows, not ${rows}: start from an empty one (remove its cluster folder under .data/bench).`);
  const started = Date.now();
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const agents = sql.raw(`array[${USER_AGENTS.map(([s]) => `'${s}'`).join(",")}]`);
  const uas = sql.raw(`array[${USER_AGENTS.map(([, ua]) => `'${ua}'`).join(",")}]`);

  await db.execute(sql`create table bench_names (idx int primary key, name text not null, key int, user_id int)`);
  await db.execute(sql`
    insert into users (username, username_normalized, password_hash, role)
    select name, name, ${passwordHash}, 'user' from (select 'user' || lpad(i::text, 5, '0') as name from generate_series(1, ${REAL_ACCOUNTS}) i) n`);
  await db.execute(sql`
    insert into bench_names (idx, name)
    select i, case when i <= ${REAL_ACCOUNTS} then 'user' || lpad(i::text, 5, '0') else 'ghost-' || md5(i::text) end
    from generate_series(1, ${REAL_ACCOUNTS + UNKNOWN_NAMES}) i`);
  await db.execute(sql`insert into account_log_usernames (username_normalized, row_count) select name, 0 from bench_names`);
  await db.execute(sql`
    update bench_names b set key = u.id, user_id = usr.id
    from account_log_usernames u left join users usr on usr.username_normalized = u.username_normalized
    where u.username_normalized = b.name`);

  const bursts = VICTIMS.map((victim, i) => {
    const from = Math.floor(rows * (0.3 + 0.3 * i));
    return { victim, from, to: from + Math.floor(rows / 500) };
  });
  const burstCase = sql.join(
    bursts.map((b) => sql`when g between ${b.from} and ${b.to} then ${b.victim}`),
    sql` `,
  );
  // A year sealed month by month, as a log that has run for a year is partitioned: the fill
  // replaces the partition that holds everything before this month with monthly ones.
  await monthlyPartitionsFrom(db, FIRST_TIME);
  // Rows are generated into the inbox, then chained in ID order exactly as the sealer chains them
  // (same canonical encoding), but sealed at the time they were written, so each lands in its
  // month; the counters are rebuilt set-based afterwards.
  for (let lo = 1; lo <= rows; lo += BATCH) {
    const hi = Math.min(rows, lo + BATCH - 1);
    await db.transaction(async (tx) => {
      await tx.execute(sql`
      with picks as (
        select g, random() as r,
          case ${burstCase}
               when random() < 0.02 then ${REAL_ACCOUNTS + 1} + floor(random() * ${UNKNOWN_NAMES})::int
               else least(${REAL_ACCOUNTS}, floor(power(${REAL_ACCOUNTS + 1}::float8, random()))::int)
          end as k,
          ${sql.join(bursts.map((b) => sql`(g between ${b.from} and ${b.to})`), sql` or `)} as burst
        from generate_series(${lo}::bigint, ${hi}::bigint) g
      )
      insert into account_log_inbox (id, occurred_at, username, username_normalized, user_id, result, ip, metadata)
      overriding system value
      select p.g,
        timestamptz '2025-11-26 00:00:00+00' + (p.g::float8 / ${rows}) * interval '365 days',
        n.name, n.name, n.user_id,
        case when p.burst then 'login_failed_wrong_password'
             when n.user_id is null then 'login_failed_unknown_user'
             when p.r < 0.90 then 'login_successful'
             when p.r < 0.955 then 'logout'
             when p.r < 0.995 then 'login_failed_wrong_password'
             else 'login_failed_invalid_request' end,
        case when p.burst then '45.155.205.99'::inet
             when p.k % 10 = 0 then '2001:db8::'::inet + (p.k::bigint * 7919 + (p.r * 4)::int)
             else '1.0.0.0'::inet + ((p.k::bigint * 2654435761) % 3000000000 + (p.r * 4)::int) end,
        jsonb_build_object('summary', (${agents})[1 + p.k % 6],
          'userAgent', jsonb_build_object('value', (${uas})[1 + p.k % 6], 'length', length((${uas})[1 + p.k % 6]), 'truncated', false))
        -- The country stored at sign-in: most accounts at home in a few countries, 1% of
        -- sign-ins from travel, the attacker elsewhere; documentation-range IPv6 has none.
        || case when p.burst then '{"location": {"country": "RU"}}'::jsonb
                when p.k % 10 = 0 then '{}'::jsonb
                else jsonb_build_object('location', jsonb_build_object('country',
                  case when p.r > 0.99 then 'CN'
                       else (array['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'NL', 'CA', 'SG'])[
                         1 + width_bucket((p.k * 37) % 100, array[50, 65, 75, 83, 88, 92, 95, 97, 99])] end)) end
      from picks p join bench_names n on n.idx = p.k
      order by p.g`);
      await tx.execute(sql.raw(chainInboxStatement(lo, hi)));
      await tx.execute(sql`delete from account_log_inbox where id between ${lo} and ${hi}`);
    });
    progress(`filled ${hi.toLocaleString("en-US")} / ${rows.toLocaleString("en-US")} rows (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  progress("rebuilding exact counts and statistics…");
  await db.execute(sql`select setval(pg_get_serial_sequence('account_log_inbox', 'id'), ${rows})`);
  await db.execute(sql`
    update account_log_usernames u set row_count = c.n
    from (select username_key, count(*) as n from account_logs group by username_key) c where u.id = c.username_key`);
  await db.execute(sql`update account_log_totals set row_count = case when shard = 0 then ${rows} else 0 end`);
  await db.execute(sql`
    insert into account_log_username_results (username_key, result, row_count, last_id)
    select username_key, result, count(*), max(id) from account_logs group by 1, 2`);
  await db.execute(sql`
    update account_log_usernames u set results_seen = s.bits
    from (select username_key, bit_or(account_log_result_bit(result)) as bits from account_log_username_results group by 1) s
    where u.id = s.username_key`);
  await db.execute(sql`
    insert into account_log_hours (hour, result, row_count, min_id, max_id)
    select date_trunc('hour', occurred_at, 'UTC'), result, count(*), min(id), max(id) from account_logs group by 1, 2`);
  await db.execute(sql`
    insert into account_log_country_hours (country, result, hour, row_count)
    select metadata->'location'->>'country', result, date_trunc('hour', occurred_at, 'UTC'), count(*) from account_logs
    where metadata->'location'->>'country' is not null group by 1, 2, 3`);
  await db.execute(sql`
    insert into account_log_country_results (country, result, row_count, last_id)
    select coalesce(metadata->'location'->>'country', ''), result, count(*), max(id) from account_logs group by 1, 2`);
  await db.execute(sql`
    insert into account_log_failure_hours (hour, username_key, ip, failures)
    select date_trunc('hour', occurred_at, 'UTC'), username_key, ip, count(*) from account_logs
    where result in (${sql.join(FAILED_SIGN_IN_RESULTS.map((result) => sql`${result}`), sql`, `)}) group by 1, 2, 3`);
  await db.execute(sql`
    insert into account_log_address_results (ip, result, row_count, last_id)
    select ip, result, count(*), max(id) from account_logs where ip is not null group by 1, 2`);
  // The same bounds as migration 0010 builds: ceilings beat every earlier hour, floors every later one.
  await db.execute(sql`
    insert into account_log_hour_ceilings (hour, last_id)
    select hour, last_id from (
      select hour, max(max_id) as last_id,
        max(max(max_id)) over (order by hour rows between unbounded preceding and 1 preceding) as earlier
      from account_log_hours group by hour) h
    where earlier is null or last_id > earlier`);
  await db.execute(sql`
    insert into account_log_hour_floors (hour, first_id)
    select hour, first_id from (
      select hour, min(min_id) as first_id,
        min(min(min_id)) over (order by hour desc rows between unbounded preceding and 1 preceding) as later
      from account_log_hours group by hour) h
    where later is null or first_id < later`);
  await db.execute(sql`
    insert into account_log_months (month, min_id, max_id, min_seq, max_seq, row_count)
    select date_trunc('month', sealed_at, 'UTC'), min(id), max(id), min(seq), max(seq), count(*) from account_logs group by 1`);
  await db.execute(sql`
    update users set locked_at = now(), failed_attempts = 6
    where username_normalized in (${sql.join(VICTIMS.map((v) => sql`${accountName(v)}`), sql`, `)})`);
  await db.execute(sql`drop table bench_names`);
  // Every table, counters included, as autovacuum keeps a running database: index-only scans and
  // fresh statistics.
  await db.execute(sql`vacuum analyze`);
  await db.execute(sql`create table bench_meta (rows bigint not null)`);
  await db.execute(sql`insert into bench_meta values (${rows})`);
  progress(`filled ${rows.toLocaleString("en-US")} rows in ${Math.round((Date.now() - started) / 1000)} s`);
  return true;
}
