import ipaddr from "ipaddr.js";
import { sql, type SQL } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb, rowsOf } from "@/db";
import { sealPending } from "@/lib/audit/sealer";
import { ACCOUNT_LOG_RESULTS, accountLogInbox, type AccountLogResult } from "@/db/schema";
import { findActivity } from "@/lib/account-log/activity";
import { findAccountLogs } from "@/lib/account-log/queries";
import { parseAccountLogQuery, type AccountLogQuery } from "@/lib/account-log/search-params";
import { chooseCountPlan, chooseRowPlan } from "@/lib/account-log/plan";
import { countLogs, idSpanOf, lookUpFacts, resolveUsernameKeys, resultBit, rowIdsStatement, selectionSpanOf } from "@/lib/account-log/selection";
import { FAILED_SIGN_IN_RESULTS } from "@/lib/account-log/signals";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const START = Date.parse("2026-03-01T00:00:00Z");
const HOUR = 3_600_000;
const NAMES = ["alice", "Malice", "bob", "bobby", "carol", "dave", "user1", "user12", "user2", "%_\\"];
const RESULTS: AccountLogResult[] = ["login_successful", "login_successful", "login_successful", "logout", "login_failed_wrong_password", "login_failed_unknown_user", "account_locked", "account_unlocked"];
const IPS = ["203.0.113.7", "203.0.113.200", "198.51.100.1", "10.0.0.5", "2001:db8::1", "2001:db8::ff", "2001:db8:1::1", null];

/** `""`, written by hand or by another tool, is no country, as null is. */
const COUNTRIES = ["DE", "FR", "US", null, ""];
/** Countries of the bulk rows: enough that excluding one leaves more country-result pairs than are probed each. */
const MANY_COUNTRIES = ["AR", "AT", "AU", "BE", "BR", "CA", "CH", "CL", "CN", "CZ", "DK", "EG", "ES", "FI", "GB", "GR", "HU", "IE", "IL", "IN",
  "IT", "JP", "KE", "KR", "MX", "NG", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SG", "TR", "UA", "VN", "ZA", "DE", "US"];

type Row = { id: number; username_normalized: string; result: string; occurred_at: string | Date; ip: string | null; country: string | null };

/** What the filters select, computed over every row in plain code. */
function expected(rows: Row[], query: AccountLogQuery): number[] {
  return rows
    .filter((row) => {
      const at = new Date(row.occurred_at).getTime();
      if (query.q && (query.exact ? row.username_normalized !== query.q : !row.username_normalized.includes(query.q))) return false;
      if (query.results.length && !query.results.includes(row.result as AccountLogResult)) return false;
      if (query.from && at < query.from.getTime()) return false;
      if (query.to && at >= query.to.getTime()) return false;
      if (query.ip) {
        if (!row.ip) return false;
        const address = ipaddr.process(row.ip);
        if (query.ip.includes("/")) {
          const [network, prefix] = ipaddr.parseCIDR(query.ip);
          if (address.kind() !== network.kind() || !address.match(network, prefix)) return false;
        } else if (address.toString() !== ipaddr.process(query.ip).toString()) {
          return false;
        }
      }
      if (query.country) {
        const listed = Boolean(row.country) && query.country.codes.includes(row.country!);
        if (query.country.exclude === listed) return false;
      }
      return true;
    })
    .map((row) => Number(row.id))
    .sort((a, b) => b - a);
}

const iso = (ms: number) => new Date(ms).toISOString();
const QS = ["", "bob", '"bob"', "user1", "bulk", "bulk-00", "%", '"%_\\"', "nobody"];
const RESULT_SETS = [[], ["login_successful"], ["login_failed_wrong_password", "login_failed_unknown_user"], ["account_unlocked", "account_locked"]];
const TIMES: Record<string, string>[] = [
  {},
  { from: iso(START + 30 * HOUR + 17 * 60_000) },
  { to: iso(START + 50 * HOUR + 45 * 60_000) },
  { from: iso(START + 40 * HOUR + 10 * 60_000), to: iso(START + 40 * HOUR + 50 * 60_000) },
  { from: iso(START + 20 * HOUR + 30 * 60_000), to: iso(START + 21 * HOUR + 30 * 60_000) },
  { from: iso(START + 24 * HOUR), to: iso(START + 72 * HOUR) },
  { from: iso(START + 5 * HOUR + 59 * 60_000), to: iso(START + 90 * HOUR + 1) },
  { from: iso(START - 100 * HOUR), to: iso(START - 50 * HOUR) },
  // Around every row, but ending in the past: a span holding most of the log.
  { from: iso(START - HOUR), to: iso(START + 200 * HOUR) },
  // Around the whole log: selected by the counters, as without a range.
  { from: "1970-01-01T00:00:00Z", to: "9999-12-31T00:00:00Z" },
];
const IP_FILTERS = ["", "203.0.113.7", "203.0.113.0/24", "2001:db8::/64", "10.0.0.0/8", "192.0.2.1"];
const COUNTRY_FILTERS: (string | string[])[] = ["", "DE", ["de", "FR"], "!US", ["!DE", "!FR"], "US !FR", "JP", "!JP", "BR DE IT"];

describe.each(DATABASE_KINDS)("account log filters on %s", (kind) => {
  useFreshDatabase(kind);
  let rows: Row[] = [];

  beforeAll(async () => {
    const db = await getDb();
    const next = random(kind === "pglite" ? 7 : 11);
    const pick = <T,>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    // The country comes from the time, not the generator, so the rest of the data set stays as it was.
    const make = (username: string, at: number, ip = pick(IPS), country = COUNTRIES[at % COUNTRIES.length]!) => ({
      username,
      usernameNormalized: username.toLowerCase(),
      result: pick(RESULTS),
      ip,
      occurredAt: new Date(at),
      metadata: country === null ? {} : { location: { country } },
    });
    // Mostly in time order, as the app writes; then rows with earlier times written late (a
    // clock set back, a backfill), which the time filters must still place exactly.
    const inOrder = Array.from({ length: 700 }, (_, i) => make(pick(NAMES), START + i * 8 * 60_000 + Math.floor(next() * 60_000)));
    const late = Array.from({ length: 60 }, () => make(pick(NAMES), START + Math.floor(next() * 90 * HOUR)));
    // Enough usernames (and addresses in 10.0.0.0/8) that a search or network matching all of
    // them walks an index instead of probing each.
    const bulk = Array.from({ length: 230 }, (_, i) =>
      make(`bulk-${String(i).padStart(3, "0")}`, START + Math.floor(next() * 90 * HOUR), `10.1.${i >> 4}.${i & 15}`, MANY_COUNTRIES[i % MANY_COUNTRIES.length]),
    );
    for (const batch of [inOrder, bulk, late]) {
      for (let i = 0; i < batch.length; i += 100) await db.insert(accountLogInbox).values(batch.slice(i, i + 100));
    }
    await sealPending(db);
    rows = rowsOf<Row>(await db.execute(sql`select id, username_normalized, result, occurred_at, host(ip) as ip, metadata->'location'->>'country' as country from account_logs`));
  });

  it("keeps the hourly, per-username and per-address counters equal to the log", async () => {
    const db = await getDb();
    const mismatches = (statement: ReturnType<typeof sql>) => db.execute(statement).then((result) => rowsOf(result));
    expect(
      await mismatches(sql`
        (select date_trunc('hour', occurred_at, 'UTC') as hour, result, count(*)::bigint as n, min(id) as lo, max(id) as hi
           from account_logs group by 1, 2
         except select hour, result, row_count, min_id, max_id from account_log_hours)
        union all
        (select hour, result, row_count, min_id, max_id from account_log_hours
         except select date_trunc('hour', occurred_at, 'UTC'), result, count(*)::bigint, min(id), max(id) from account_logs group by 1, 2)`),
    ).toEqual([]);
    expect(
      await mismatches(sql`
        (select username_key, result, count(*)::bigint as n, max(id) as last from account_logs group by 1, 2
         except select username_key, result, row_count, last_id from account_log_username_results)
        union all
        (select username_key, result, row_count, last_id from account_log_username_results
         except select username_key, result, count(*)::bigint, max(id) from account_logs group by 1, 2)`),
    ).toEqual([]);
    expect(
      await mismatches(sql`
        (select ip, result, count(*)::bigint as n, max(id) as last from account_logs where ip is not null group by 1, 2
         except select ip, result, row_count, last_id from account_log_address_results)
        union all
        (select ip, result, row_count, last_id from account_log_address_results
         except select ip, result, count(*)::bigint, max(id) from account_logs where ip is not null group by 1, 2)`),
    ).toEqual([]);
    expect(
      await mismatches(sql`
        (select nullif(metadata->'location'->>'country', '') as country, result, date_trunc('hour', occurred_at, 'UTC') as hour, count(*)::bigint as n
           from account_logs where nullif(metadata->'location'->>'country', '') is not null group by 1, 2, 3
         except select country, result, hour, row_count from account_log_country_hours)
        union all
        (select country, result, hour, row_count from account_log_country_hours
         except select nullif(metadata->'location'->>'country', ''), result, date_trunc('hour', occurred_at, 'UTC'), count(*)::bigint
           from account_logs where nullif(metadata->'location'->>'country', '') is not null group by 1, 2, 3)`),
    ).toEqual([]);
    expect(
      await mismatches(sql`
        (select coalesce(nullif(metadata->'location'->>'country', ''), '') as country, result, count(*)::bigint as n, max(id) as last
           from account_logs group by 1, 2
         except select country, result, row_count, last_id from account_log_country_results)
        union all
        (select country, result, row_count, last_id from account_log_country_results
         except select coalesce(nullif(metadata->'location'->>'country', ''), ''), result, count(*)::bigint, max(id) from account_logs group by 1, 2)`),
    ).toEqual([]);
    const failed = sql.join(FAILED_SIGN_IN_RESULTS.map((result) => sql`${result}`), sql`, `);
    expect(
      await mismatches(sql`
        (select date_trunc('hour', occurred_at, 'UTC') as hour, username_key, ip, count(*)::bigint as n from account_logs
           where result in (${failed}) group by 1, 2, 3
         except select hour, username_key, ip, failures from account_log_failure_hours)
        union all
        (select hour, username_key, ip, failures from account_log_failure_hours
         except select date_trunc('hour', occurred_at, 'UTC'), username_key, ip, count(*)::bigint from account_logs
           where result in (${failed}) group by 1, 2, 3)`),
    ).toEqual([]);
    // Each username's results, one bit each, in the app's order of results.
    const bits = rowsOf<{ result: string; bit: number }>(
      await db.execute(sql`select r as result, account_log_result_bit(r) as bit from unnest(${sql.raw(`array[${ACCOUNT_LOG_RESULTS.map((r) => `'${r}'`).join(", ")}]`)}) r`),
    );
    expect(bits.map(({ result, bit }) => [result, Number(bit)])).toEqual(ACCOUNT_LOG_RESULTS.map((result) => [result, resultBit(result)]));
    const seen = rowsOf<{ username_normalized: string; results_seen: number }>(
      await db.execute(sql`select username_normalized, results_seen from account_log_usernames`),
    );
    expect(seen.length).toBe(new Set(rows.map((row) => row.username_normalized)).size);
    for (const { username_normalized: name, results_seen: resultsSeen } of seen) {
      const had = new Set(rows.filter((row) => row.username_normalized === name).map((row) => row.result as AccountLogResult));
      expect(Number(resultsSeen), name).toBe([...had].reduce((bitsOf, result) => bitsOf | resultBit(result), 0));
    }
  });

  it("keeps every hour's ceiling and floor right, with rows written out of time order", async () => {
    const db = await getDb();
    // For every hour from before the first row to after the last: the newest ID at or before
    // it and the oldest at or after it, from the log and from the bounds' nearest entries.
    const disagreements = rowsOf(
      await db.execute(sql`
        with hours as (
          select generate_series(${iso(START - 2 * HOUR)}::timestamptz, ${iso(START + 120 * HOUR)}::timestamptz, interval '1 hour') as hour)
        select h.hour,
          (select max(id) from account_logs where date_trunc('hour', occurred_at, 'UTC') <= h.hour) as newest_through,
          (select last_id from account_log_hour_ceilings c where c.hour <= h.hour order by c.hour desc limit 1) as ceiling,
          (select min(id) from account_logs where date_trunc('hour', occurred_at, 'UTC') >= h.hour) as oldest_from,
          (select first_id from account_log_hour_floors f where f.hour >= h.hour order by f.hour limit 1) as floor
        from hours h`),
    ).filter((row) => {
      const { newest_through: newest, ceiling, oldest_from: oldest, floor } = row as Record<string, unknown>;
      return String(newest) !== String(ceiling) || String(oldest) !== String(floor);
    });
    expect(disagreements).toEqual([]);
    // The late rows make some hours lose their place as a ceiling: the bounds are not just one
    // entry per hour.
    const [counts] = rowsOf<{ hours: number; ceilings: number }>(
      await db.execute(sql`select (select count(distinct hour)::int from account_log_hours) as hours,
        (select count(*)::int from account_log_hour_ceilings) as ceilings`),
    );
    expect(counts!.ceilings).toBeLessThan(counts!.hours);
  });

  it("counts exactly and returns the first page for every combination of filters", async () => {
    let checked = 0;
    let nonEmpty = 0;
    for (const q of QS) {
      for (const results of RESULT_SETS) {
        for (const times of TIMES) {
          for (const ip of IP_FILTERS) {
            const { query, problems } = parseAccountLogQuery({ q, result: results, ...times, ip, size: "7" });
            expect(problems).toEqual([]);
            const want = expected(rows, query);
            const { numberOfLogs, page } = await findAccountLogs(query);
            const label = JSON.stringify({ q, results, times, ip });
            expect(numberOfLogs, label).toBe(want.length);
            expect(page.rows.map((row) => row.id), label).toEqual(want.slice(0, 7));
            expect(page.olderCursor !== undefined, label).toBe(want.length > 7);
            checked += 1;
            if (want.length) nonEmpty += 1;
          }
        }
      }
    }
    expect(checked).toBe(QS.length * RESULT_SETS.length * TIMES.length * IP_FILTERS.length);
    // The data set must exercise the filters, not only their empty answers.
    expect(nonEmpty).toBeGreaterThan(checked / 3);
  });

  it("answers random combinations of every filter as the fallback plan does, whichever plan is chosen", async () => {
    const db = await getDb();
    const next = random(kind === "pglite" ? 3 : 5);
    const pick = <T,>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const usedResults = [...new Set(RESULTS)];
    const ids = async (statement: SQL | undefined) =>
      statement ? rowsOf<{ id: number | string }>(await db.execute(statement)).map((row) => Number(row.id)) : [];
    const countPlans = new Set<string>();
    const rowPlans = new Set<string>();
    for (let draw = 0; draw < 400; draw++) {
      // Each filter is left out half the time, so combinations of two or three are common.
      const params: Record<string, string | string[]> = {
        ...(next() < 0.5 ? { q: pick(QS) } : {}),
        ...(next() < 0.4 ? { result: usedResults.filter(() => next() < 0.3) } : {}),
        ...(next() < 0.5 ? pick(TIMES) : {}),
        ...(next() < 0.4 ? { ip: pick(IP_FILTERS) } : {}),
        ...(next() < 0.5 ? { country: pick(COUNTRY_FILTERS) } : {}),
      };
      const { query, problems } = parseAccountLogQuery(params);
      const label = JSON.stringify(params);
      expect(problems, label).toEqual([]);
      const [span, filters] = await Promise.all([selectionSpanOf(db, query), resolveUsernameKeys(db, query)]);
      const want = expected(rows, query);

      const plan = chooseCountPlan(filters, span);
      countPlans.add(plan.kind);
      const count = await countLogs(db, filters, span, plan);
      expect(count, `${label} by ${plan.kind}`).toBe(await countLogs(db, query, span, { kind: "fallback" }));
      expect(count, label).toBe(want.length);

      const someId = want.length ? want[Math.floor(next() * want.length)]! : Number(pick(rows).id);
      for (const cursor of [{}, { before: someId }, { after: someId }]) {
        const facts = await lookUpFacts(db, filters, span, cursor);
        const rowPlan = chooseRowPlan(filters, facts, cursor);
        rowPlans.add(rowPlan.kind);
        const page = { ...cursor, limit: 7 };
        const chosen = await ids(rowIdsStatement(rowPlan, filters, span, page));
        expect(chosen, `${label} ${JSON.stringify(cursor)} by ${rowPlan.kind}`).toEqual(await ids(rowIdsStatement({ kind: "fallback" }, query, span, page)));
      }
    }
    // Every plan was drawn, so each was checked.
    expect([...countPlans].sort()).toEqual(
      ["address counters", "address pairs in span", "counters", "counters less edges", "country counters", "country hours", "fallback", "hours", "nothing", "span"].sort(),
    );
    expect([...rowPlans].sort()).toEqual(["address pairs", "country pairs", "fallback", "id walk", "nothing", "result streams", "username streams"].sort());
  });

  it("pages through every filtered selection by keyset, both ways, covering each row once", async () => {
    const shapes: Record<string, string | string[]>[] = [
      { q: "bulk", ...TIMES[5] },
      { q: "bulk-00", result: ["login_successful", "logout"] },
      { q: "bob", result: ["login_successful"], ...TIMES[6] },
      { q: '"user1"', ...TIMES[1] },
      { result: ["login_failed_wrong_password", "account_locked"], ...TIMES[1] },
      { ip: "2001:db8::/64", ...TIMES[2] },
      { ip: "203.0.113.7", result: ["login_successful", "logout"] },
      { ip: "10.0.0.0/8", ...TIMES[5] },
      { ip: "10.0.0.0/8", result: ["login_successful"] },
      { q: "user1", ip: "203.0.113.0/24" },
      { ...TIMES[4] },
      { country: "DE" },
      { country: ["!US", "!DE"], ...TIMES[5] },
      { country: "!JP", result: ["login_successful", "logout"] },
      { country: "fr", q: "bob" },
    ];
    for (const shape of shapes) {
      const { query } = parseAccountLogQuery({ ...shape, size: "9" });
      const want = expected(rows, query);
      const seen: number[] = [];
      let older: number | undefined;
      let newest: number | undefined;
      do {
        const { page } = await findAccountLogs({ ...query, before: older });
        seen.push(...page.rows.map((row) => row.id));
        older = page.olderCursor;
        newest = page.rows.at(-1)?.id;
      } while (older !== undefined);
      expect(seen, JSON.stringify(shape)).toEqual(want);
      // And back up from the oldest page.
      const back: number[] = [];
      let newer = newest === undefined ? undefined : newest;
      if (newer !== undefined) back.push(newer);
      while (newer !== undefined) {
        const { page } = await findAccountLogs({ ...query, after: newer });
        back.unshift(...page.rows.map((row) => row.id));
        newer = page.newerCursor === undefined ? undefined : page.rows[0]?.id;
      }
      expect(back, JSON.stringify(shape)).toEqual(want);
    }
  });

  it("reads a range around the whole log, ending in the future, as no range; any other range as a span", async () => {
    const db = await getDb();
    const span = (shape: Record<string, string>) => idSpanOf(db, parseAccountLogQuery(shape).query);
    expect(await span({ from: "1970-01-01", to: "9999-12-31" })).toMatchObject({ holdsWholeLog: true });
    expect(await span({ to: "9999-12-31" })).toMatchObject({ holdsWholeLog: true });
    expect(await selectionSpanOf(db, parseAccountLogQuery({ from: "1970-01-01", to: "9999-12-31" }).query)).toBeUndefined();
    // Rows written later could fall after a `to` in the past, and a `from` inside the log leaves rows out.
    expect(await span({ from: "1970-01-01", to: iso(Date.now() - HOUR) })).toMatchObject({ holdsWholeLog: false });
    expect(await span({ from: iso(START + 30 * HOUR), to: "9999-12-31" })).toMatchObject({ holdsWholeLog: false });
  });

  it("charts successes and failures per bucket, exactly, for the filters' time range", async () => {
    const db = await getDb();
    const shapes: Record<string, string | string[]>[] = [
      { ...TIMES[5] },
      { q: "bob", ...TIMES[6] },
      { ip: "203.0.113.0/24", ...TIMES[5] },
      { result: ["login_successful", "login_failed_wrong_password"], ...TIMES[4] },
      { q: '"user1"', from: TIMES[1]!.from! },
      // The widest range a URL can name: pulled in to the log's extent.
      { from: "1970-01-01", to: "9999-12-31" },
      { q: "bob", from: "1970-01-01", to: "9999-12-31" },
      { ip: "203.0.113.0/24", from: "1970-01-01T00:00:00Z", to: "9999-12-31T23:59:59Z" },
      { country: ["DE", "FR"], ...TIMES[5] },
      { country: "!US", result: ["login_successful", "login_failed_wrong_password"], ...TIMES[6] },
      { country: "!DE", q: "bob", ...TIMES[5] },
      // An address with no rows: no pair to read, an empty chart.
      { ip: "192.0.2.1", ...TIMES[5] },
      { ip: "::/0", from: "1970-01-01", to: "9999-12-31" },
    ];
    for (const shape of shapes) {
      const { query } = parseAccountLogQuery(shape);
      const activity = await findActivity(db, query, new Date(START + 100 * HOUR));
      expect(activity.buckets.length, JSON.stringify(shape)).toBeLessThanOrEqual(60);
      expect(activity.buckets[0]!.start).toEqual(activity.from);
      if (shape.from === "1970-01-01" || shape.from === "1970-01-01T00:00:00Z") {
        const oldest = Math.min(...rows.map((row) => new Date(row.occurred_at).getTime()));
        expect(activity.from.getTime()).toBeLessThanOrEqual(oldest);
        expect(activity.from.getTime()).toBeGreaterThan(oldest - activity.buckets[0]!.end.getTime() + activity.buckets[0]!.start.getTime() - HOUR);
        expect(activity.to).toEqual(new Date(START + 100 * HOUR));
      }
      // The chart's range is the filter's, widened to whole buckets: count the same rows.
      const inChart = expected(rows, { ...query, from: activity.from, to: activity.to });
      const byId = new Map(rows.map((row) => [Number(row.id), row]));
      for (const bucket of activity.buckets) {
        const inBucket = inChart
          .map((id) => byId.get(id)!)
          .filter((row) => {
            const at = new Date(row.occurred_at).getTime();
            return at >= bucket.start.getTime() && at < bucket.end.getTime();
          });
        const label = `${JSON.stringify(shape)} ${bucket.start.toISOString()}`;
        expect(bucket.successes, label).toBe(inBucket.filter((row) => row.result === "login_successful").length);
        expect(bucket.failures, label).toBe(inBucket.filter((row) => row.result.startsWith("login_failed")).length);
      }
    }
  });

  it("charts a search too big to read quickly over a shorter range, or asks for a narrower one", async () => {
    const db = await getDb();
    const now = new Date(START + 80 * HOUR);
    const week = await findActivity(db, parseAccountLogQuery({ q: "bob" }).query, now, { rowBudget: 40 });
    expect(week.note).toMatch(/^Showing the last 24 hours: a week of this search holds about \d+ rows\.$/);
    expect(week.to.getTime() - week.from.getTime()).toBe(24 * HOUR);
    expect(week.buckets.length).toBe(24);
    const explicit = await findActivity(db, parseAccountLogQuery({ q: "bob", ...TIMES[5] }).query, now, { rowBudget: 10 });
    expect(explicit.note).toMatch(/^Not charted: this range holds about \d+ rows of this search\./);
    expect(explicit.buckets).toEqual([]);
    expect((await findActivity(db, parseAccountLogQuery({ q: "bob" }).query, now)).note).toBeUndefined();
    // An address filter is estimated too: every address over every year reads no more than the budget.
    const everyAddress = await findActivity(db, parseAccountLogQuery({ ip: "0.0.0.0/0", from: "1970-01-01", to: "9999-12-31" }).query, now, { rowBudget: 10 });
    expect(everyAddress.note).toMatch(/^Not charted: this range holds about \d+ rows of this search\./);
    expect(everyAddress.buckets).toEqual([]);
    const networkWeek = await findActivity(db, parseAccountLogQuery({ ip: "203.0.113.0/24" }).query, now, { rowBudget: 40 });
    // A week of it is over the budget: the last 24 hours, or nothing when those are too.
    expect(networkWeek.note).toMatch(/^(Showing the last 24 hours: a week|Not charted: this range)/);
    expect(networkWeek.to.getTime() - networkWeek.from.getTime()).toBe(24 * HOUR);
  });
});
