import "server-only";
import { sql, type SQL } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import {
  ACCOUNT_LOG_RESULTS,
  accountLogCountryHours,
  accountLogHours,
  accountLogTotals,
  accountLogUsernameResults,
  accountLogUsernames,
  type AccountLogResult,
} from "@/db/schema";
import { keyArray, sqlIn, type AccountLogFilters, type FilterDimension } from "./filters";
import type { Span } from "./plan";
import { addressPairSource, addressRowsTotal, idSpanOf, lookUpAddressPairs, resolveUsernameKeys, resultIn, rowConditions, usernamesWhere } from "./selection";

export type ActivityBucket = { start: Date; end: Date; successes: number; failures: number };
export type Activity = {
  buckets: ActivityBucket[];
  bucketLabel: string;
  from: Date;
  to: Date;
  /** Why the chart covers less than asked, or nothing: the rows it would have to read. */
  note?: string;
};

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;
/**
 * Fixed lengths, so `date_bin` can cut them from one origin: calendar months and years vary in
 * length. The largest puts the whole range a URL can name (1970 to 9999) in 17 buckets.
 */
export const BUCKET_SIZES = [
  { ms: HOUR_MS, label: "hour" },
  { ms: 3 * HOUR_MS, label: "3 hours" },
  { ms: 6 * HOUR_MS, label: "6 hours" },
  { ms: 12 * HOUR_MS, label: "12 hours" },
  { ms: 24 * HOUR_MS, label: "day" },
  { ms: WEEK_MS, label: "week" },
  { ms: 4 * WEEK_MS, label: "4 weeks" },
  { ms: 13 * WEEK_MS, label: "13 weeks" },
  { ms: 52 * WEEK_MS, label: "52 weeks" },
  { ms: 260 * WEEK_MS, label: "260 weeks" },
  { ms: 1_300 * WEEK_MS, label: "1,300 weeks" },
  { ms: 26_000 * WEEK_MS, label: "26,000 weeks" },
] as const;
export const MAX_BUCKETS = 60;
/** Whatever the range, the chart never draws more than this: a last guard on the page's size. */
export const BUCKET_CEILING = 500;
/** Without a time filter the chart shows the last week, or the last day when a week is too much to read. */
export const DEFAULT_ACTIVITY_MS = 7 * 24 * HOUR_MS;
const SHORT_ACTIVITY_MS = 24 * HOUR_MS;
/**
 * A search's or an address filter's chart reads its rows (about 1.5 µs each at 10 M rows); above
 * about this many it shows a shorter range or asks for a narrower one, so the chart costs the
 * page at most ~8 ms, within the page's 50 ms.
 */
export const ACTIVITY_ROW_BUDGET = 5_000;

const SUCCESS: AccountLogResult = "login_successful";
const isFailure = (result: SQL) => sql`${result} like 'login_failed%'`;

/**
 * Sign-ins over time for a search and its filters: successes and failures per bucket, at most
 * 60 buckets of whole UTC hours (or days, weeks), over the filter's time range (within the
 * log's extent) or the last week. Without a username or address filter it reads the hourly
 * counters only.
 */
export async function findActivity(
  executor: Executor,
  filters: AccountLogFilters,
  now: Date,
  { rowBudget = ACTIVITY_ROW_BUDGET }: { rowBudget?: number } = {},
): Promise<Activity> {
  // Only an explicit bound is pulled in to the log's extent: the default range stays the last week.
  const extent = filters.from || filters.to ? await findLogExtent(executor) : undefined;
  const range = chartRange(filters, now, DEFAULT_ACTIVITY_MS, extent);
  if (!range) {
    const at = filters.from ?? now;
    return { buckets: [], bucketLabel: BUCKET_SIZES[0].label, from: at, to: at, note: "Not charted: the log has no entries in this time range." };
  }
  let chart = range;
  const interval = (range: ChartRange) => sql`${`${range.size.ms / 1000} seconds`}::interval`;
  const origin = sql`timestamptz '1970-01-01 00:00:00+00'`;
  let statement: SQL;
  let note: string | undefined;
  if (!filters.q && !filters.ip) {
    statement = chartFromCounters(filters, chart, interval(chart), origin);
  } else {
    const spanOf = (range: ChartRange) => idSpanOf(executor, { ...filters, from: range.from, to: range.end });
    // Only the keys: the chart replaces the results with the sign-in results among them.
    const keysOf = () => resolveUsernameKeys(executor, { ...filters, results: [] });
    // A search or an address filter reads its rows in the range: estimated from the counters
    // (the filter's share of the log times the rows in the range) before reading any, so even
    // every address (0.0.0.0/0) from 1970 to 9999 reads at most the budget. The range's IDs and the search's
    // usernames are looked up meanwhile.
    const [estimate, keyed, firstSpan] = await Promise.all([estimateRows(executor, filters, chart), keysOf(), spanOf(chart)]);
    let rows = estimate;
    let span = firstSpan;
    if (rows > rowBudget && !filters.from && !filters.to) {
      note = `Showing the last 24 hours: a week of this search holds about ${rows.toLocaleString("en-US")} rows.`;
      chart = chartRange(filters, now, SHORT_ACTIVITY_MS)!;
      [rows, span] = await Promise.all([estimateRows(executor, filters, chart), spanOf(chart)]);
    }
    if (rows > rowBudget) {
      return {
        buckets: [],
        bucketLabel: chart.size.label,
        from: chart.from,
        to: chart.end,
        note: `Not charted: this range holds about ${rows.toLocaleString("en-US")} rows of this search. Narrow the time range or the search to chart it.`,
      };
    }
    if (span === null) return { buckets: emptyBuckets(chart.from, chart.end, chart.size.ms), bucketLabel: chart.size.label, from: chart.from, to: chart.end, note };
    const signIns = filters.results.length ? filters.results.filter(isSignIn) : SIGN_IN_RESULTS;
    const charted: AccountLogFilters = { ...keyed, from: chart.from, to: chart.end, results: signIns };
    statement = sql`
      select date_bin(${interval(chart)}, l.occurred_at, ${origin}) as bucket,
        count(*) filter (where l.result = ${SUCCESS}) as successes,
        count(*) filter (where ${isFailure(sql`l.result`)}) as failures
      from ${await chartedRows(executor, charted, span)}
      group by 1`;
  }
  const { size, from, end } = chart;
  const counts = new Map(
    rowsOf<{ bucket: string | Date; successes: string | number; failures: string | number }>(await executor.execute(statement)).map((row) => [
      new Date(row.bucket).getTime(),
      { successes: Number(row.successes), failures: Number(row.failures) },
    ]),
  );
  const buckets = emptyBuckets(from, end, size.ms).map((bucket) => ({ ...bucket, ...counts.get(bucket.start.getTime()) }));
  return { buckets, bucketLabel: size.label, from: buckets[0]?.start ?? from, to: end, note };
}

const SIGN_IN_RESULTS = ACCOUNT_LOG_RESULTS.filter((result) => result === SUCCESS || result.startsWith("login_failed"));
const isSignIn = (result: AccountLogResult) => SIGN_IN_RESULTS.includes(result);

/**
 * Sign-ins per bucket from the hourly counters alone: per hour and result, or for countries per
 * country, hour and result (an exclusion: every row less the excluded countries').
 */
function chartFromCounters(filters: AccountLogFilters, { from, end }: ChartRange, interval: SQL, origin: SQL): SQL {
  const inRange = (hour: SQL) => sql`${hour} >= ${from.toISOString()}::timestamptz and ${hour} < ${end.toISOString()}::timestamptz`;
  const perBucket = (table: typeof accountLogHours | typeof accountLogCountryHours, conditions: SQL[], sign: 1 | -1) => sql`
    select date_bin(${interval}, ${table.hour}, ${origin}) as bucket,
      ${sign} * coalesce(sum(${table.rowCount}) filter (where ${table.result} = ${SUCCESS}), 0) as successes,
      ${sign} * coalesce(sum(${table.rowCount}) filter (where ${isFailure(sql`${table.result}`)}), 0) as failures
    from ${table}
    where ${sql.join([inRange(sql`${table.hour}`), ...(filters.results.length ? [resultIn(sql`${table.result}`, filters.results)] : []), ...conditions], sql` and `)}
    group by 1`;
  if (!filters.country) return perBucket(accountLogHours, [], 1);
  const { exclude, codes } = filters.country;
  const ofCodes = sqlIn(sql`${accountLogCountryHours.country}`, codes);
  if (!exclude) return perBucket(accountLogCountryHours, [ofCodes], 1);
  return sql`select bucket, sum(successes) as successes, sum(failures) as failures from (
    ${perBucket(accountLogHours, [], 1)} union all ${perBucket(accountLogCountryHours, [ofCodes], -1)}) parts group by bucket`;
}

/**
 * The charted rows (alias `l`) of a search or an address: one index scan per username, or per
 * address and result, within the range's IDs, when there are few of them; else one scan.
 */
async function chartedRows(executor: Executor, filters: AccountLogFilters, span: Span | undefined): Promise<SQL> {
  if (filters.results.length === 0) return sql`(select null::timestamptz as occurred_at, null::text as result where false) l`;
  const conditions = (covered: FilterDimension[]) => sql.join(rowConditions(filters, span, covered), sql` and `);
  if (filters.ip && !filters.q) {
    const pairs = await lookUpAddressPairs(executor, filters);
    if (pairs && pairs !== "many") {
      return sql`${addressPairSource(pairs)} as k(ip, result) cross join lateral (
        select l.occurred_at, l.result from account_logs l
        where l.ip = k.ip and l.result = k.result and ${conditions(["ip", "result"])}) l`;
    }
  } else if (filters.usernameKeys && !filters.ip) {
    // Per username and each sign-in result it has had: with the time in that index, the scan
    // never visits the table.
    return sql`(select r.username_key as key, r.result from ${accountLogUsernameResults} r
        where r.username_key = any(${keyArray(filters.usernameKeys)}) and ${resultIn(sql`r.result`, filters.results)}) k
      cross join lateral (
        select l.occurred_at, l.result from account_logs l
        where l.username_key = k.key and l.result = k.result and ${conditions(["search", "result"])}) l`;
  }
  return sql`(select l.occurred_at, l.result from account_logs l where ${conditions([])}) l`;
}

export type ChartRange = { size: (typeof BUCKET_SIZES)[number]; from: Date; end: Date };
/** The hours of the log's oldest and newest rows (start of each hour, UTC). */
export type LogExtent = { firstHour: Date; lastHour: Date };

/**
 * The chart's buckets for a time filter (or the default range ending now): the smallest size
 * that covers the range in at most 60 buckets, starting on a whole multiple of its size (UTC) and
 * ending at the first whole hour at or after the range's end. An explicit bound beyond the log
 * is pulled in to the log's own extent (and a far-future end to now), so the buckets show where
 * the rows are, not 1970 or 9999. Undefined when nothing of the range is left to chart.
 */
export function chartRange(
  filters: Pick<AccountLogFilters, "from" | "to">,
  now: Date,
  defaultMs: number,
  extent?: LogExtent,
): ChartRange | undefined {
  let to = (filters.to ?? now).getTime();
  if (filters.to) to = Math.min(to, Math.max(ceilHour(now.getTime()), extent ? extent.lastHour.getTime() + HOUR_MS : 0));
  // Without a start, the default range ends where the chart does: `to=9999-12-31` alone is the last week.
  let from = filters.from?.getTime() ?? to - defaultMs;
  if (filters.from && extent) from = Math.max(from, extent.firstHour.getTime());
  const end = ceilHour(to);
  if (!(from < end)) return undefined;
  const bucketsOf = (ms: number) => Math.ceil((end - Math.floor(from / ms) * ms) / ms);
  const size = BUCKET_SIZES.find((candidate) => bucketsOf(candidate.ms) <= MAX_BUCKETS) ?? BUCKET_SIZES.at(-1)!;
  return { size, from: new Date(Math.floor(from / size.ms) * size.ms), end: new Date(end) };
}

const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/** The log's extent from the hourly counters: two probes of their primary key; undefined for an empty log. */
export async function findLogExtent(executor: Executor): Promise<LogExtent | undefined> {
  const [row] = rowsOf<{ first: string | Date | null; last: string | Date | null }>(
    await executor.execute(sql`select min(${accountLogHours.hour}) as first, max(${accountLogHours.hour}) as last from ${accountLogHours}`),
  );
  if (!row?.first || !row.last) return undefined;
  return { firstHour: new Date(row.first), lastHour: new Date(row.last) };
}

/**
 * The rows a search or an address filter has in a range, estimated from the counters: the
 * filter's share of the log (the smaller of the two, with both) times the rows in the range.
 */
async function estimateRows(executor: Executor, filters: AccountLogFilters, { from, end }: ChartRange): Promise<number> {
  const searchRows = filters.q ? sql`(select sum(${accountLogUsernames.rowCount}) from ${accountLogUsernames} where ${usernamesWhere(filters)})` : sql`null`;
  const networkRows = filters.ip ? addressRowsTotal(filters) : sql`null`;
  const [row] = rowsOf<{ search: string | number | null; total: string | number | null; in_range: string | number | null }>(
    await executor.execute(sql`
      select least(${searchRows}, ${networkRows}) as search,
        (select sum(${accountLogTotals.rowCount}) from ${accountLogTotals}) as total,
        (select sum(${accountLogHours.rowCount}) from ${accountLogHours}
          where ${accountLogHours.hour} >= ${from.toISOString()}::timestamptz and ${accountLogHours.hour} < ${end.toISOString()}::timestamptz) as in_range`),
  );
  const total = Number(row?.total ?? 0);
  return total === 0 ? 0 : Math.round((Number(row?.search ?? 0) / total) * Number(row?.in_range ?? 0));
}

/**
 * The buckets of a range, empty. A range is chosen to need at most 60; should one ever need
 * more, only the newest `BUCKET_CEILING` are kept, so no range can make the page grow past that.
 */
export function emptyBuckets(from: Date, end: Date, sizeMs: number): ActivityBucket[] {
  const buckets: ActivityBucket[] = [];
  const first = Math.max(from.getTime(), from.getTime() + (Math.ceil((end.getTime() - from.getTime()) / sizeMs) - BUCKET_CEILING) * sizeMs);
  for (let start = first; start < end.getTime(); start += sizeMs) {
    buckets.push({ start: new Date(start), end: new Date(Math.min(start + sizeMs, end.getTime())), successes: 0, failures: 0 });
  }
  return buckets;
}
