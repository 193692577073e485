import { sql, type SQL } from "drizzle-orm";
import { PLAN_EACH_RUN, rowsOf, type Executor } from "@/db";
import {
  accountLogAddressResults,
  accountLogCountryHours,
  accountLogCountryResults,
  accountLogHourCeilings,
  accountLogHourFloors,
  accountLogMonths,
  accountLogHours,
  accountLogTotals,
  accountLogUsernameResults,
  accountLogUsernames,
  ACCOUNT_LOG_RESULTS,
  type AccountLogResult,
} from "@/db/schema";
import {
  addressIn,
  conditionOf,
  countryIn,
  filterConditions,
  iso,
  keyArray,
  keyOfSearch,
  ROW_COUNTRY,
  sqlIn,
  usernameMatches,
  type AccountLogFilters,
  type FilterDimension,
} from "./filters";
import {
  chooseCountPlan,
  chooseRowPlan,
  PER_STREAM_PROBE_LIMIT,
  streamsToLookUp,
  type AddressPair,
  type CountPlan,
  type CountryPair,
  type Cursor,
  type IdSpan,
  type RowPlan,
  type SelectionFacts,
  type Span,
  type Streams,
  type UsernameStream,
} from "./plan";

/**
 * How the log is read for a set of filters, exactly and without scanning it: the facts a plan
 * needs, and one SQL emitter per plan of `plan.ts`.
 * - Counts come from counters the sealer keeps (per username, per username and result,
 *   per address and result, per hour and result, per country, hour and result), plus at most
 *   two partial hours counted row by row.
 * - Rows come newest first from ordered index scans (one per username, username and result,
 *   address and result, country and result, or result) merged, or from one walk of an index,
 *   always by keyset on the ID.
 * - A time range becomes a span of IDs, found in the hour ceilings and floors, so old ranges
 *   cost no more than new ones.
 */


const HOUR_MS = 3_600_000;

/** A result's bit in `account_log_usernames.results_seen`: its place in the list of results. */
export const resultBit = (result: AccountLogResult) => 1 << ACCOUNT_LOG_RESULTS.indexOf(result);

/**
 * What a search selects, looked up once per page: its username keys when there are few, so the
 * statements that follow compare keys instead of repeating the substring search; and, with
 * results, only the results its usernames have ever had, so a result that only other usernames
 * have (an attack on unknown names, say) is not walked row by row.
 */
export async function resolveUsernameKeys(executor: Executor, filters: AccountLogFilters): Promise<AccountLogFilters> {
  if (!filters.q || filters.usernameKeys) return filters;
  const matches = usernameMatches(filters);
  const [row] = rowsOf<{ keys: (number | string)[]; seen: number | string | null }>(
    await executor.execute(sql`
      select array(select ${accountLogUsernames.id} from ${accountLogUsernames} where ${matches} limit ${PER_STREAM_PROBE_LIMIT + 1}) as keys,
        ${filters.results.length ? sql`(select bit_or(${accountLogUsernames.resultsSeen}) from ${accountLogUsernames} where ${matches})` : sql`null`} as seen`),
  );
  const keys = (row?.keys ?? []).map(Number);
  const resolved = keys.length > PER_STREAM_PROBE_LIMIT ? filters : { ...filters, usernameKeys: keys };
  if (!filters.results.length) return resolved;
  const seen = Number(row?.seen ?? 0);
  const results = filters.results.filter((result) => (seen & resultBit(result)) !== 0);
  // No selected result was ever had by these usernames: nothing matches.
  return results.length ? { ...resolved, results } : { ...resolved, usernameKeys: [] };
}

/** A condition on `account_log_usernames` for the search. */
export function usernamesWhere(filters: AccountLogFilters): SQL {
  return filters.usernameKeys ? sql`${accountLogUsernames.id} = any(${keyArray(filters.usernameKeys)})` : usernameMatches(filters);
}

/** A list as an array literal: `unnest` of it stays a scan, where a one-row VALUES would be folded into a constant. */
const textArray = (values: readonly (string | null)[]) => sql`array[${sql.join(values.map((value) => sql`${value}`), sql`, `)}]::text[]`;
const intArray = (values: readonly number[]) => sql`array[${sql.join(values.map((value) => sql`${value}`), sql`, `)}]::int[]`;
export const resultIn = sqlIn;
const floorHour = (date: Date) => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
const where = (conditions: SQL[]) => (conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``);

/**
 * The ID span of a time range (undefined without one): four index probes of the hour ceilings
 * and floors, whatever the range's length or age. The span ignores the other filters: it bounds
 * the IDs, and the statements that read it apply them.
 */
export async function idSpanOf(executor: Executor, filters: Pick<AccountLogFilters, "from" | "to">): Promise<IdSpan | undefined> {
  const { from, to } = filters;
  if (!from && !to) return undefined;
  // A row's hour is at or before its time: rows at or after an instant lie in hours from its
  // hour on; rows before it, in hours that start before it.
  const floorFrom = (instant: Date) =>
    sql`(select ${accountLogHourFloors.firstId} from ${accountLogHourFloors} where ${accountLogHourFloors.hour} >= ${iso(floorHour(instant))}
      order by ${accountLogHourFloors.hour} limit 1)`;
  const ceilingBefore = (instant: Date) =>
    sql`(select ${accountLogHourCeilings.lastId} from ${accountLogHourCeilings} where ${accountLogHourCeilings.hour} < ${iso(instant)}
      order by ${accountLogHourCeilings.hour} desc limit 1)`;
  const [span] = rowsOf<Record<"lo" | "hi" | "below" | "above" | "newest" | "sealed_from" | "sealed_before", string | number | null>>(
    await executor.execute(sql`
      with s as (
        select ${from ? floorFrom(from) : sql`(select min(id) from account_logs)`} as lo,
          ${to ? ceilingBefore(to) : sql`(select max(id) from account_logs)`} as hi,
          ${from ? ceilingBefore(from) : sql`null::bigint`} as below,
          ${to ? floorFrom(to) : sql`null::bigint`} as above,
          (select max(id) from account_logs) as newest)
      select s.*, m.sealed_from, m.sealed_before from s
      left join lateral (
        select to_char(min(month) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as sealed_from,
          case when max(month) < (select max(month) from ${accountLogMonths})
            then to_char((max(month) + interval '1 month') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') end as sealed_before
        from ${accountLogMonths} where max_id >= s.lo and min_id <= s.hi) m on true`),
  );
  if (span?.lo == null || span.hi == null || Number(span.lo) > Number(span.hi)) return null;
  const lo = Number(span.lo);
  const hi = Number(span.hi);
  return {
    lo,
    hi,
    outsideBelow: span.below == null ? lo - 1 : Math.max(lo - 1, Number(span.below)),
    outsideAbove: span.above == null ? hi + 1 : Math.min(hi + 1, Number(span.above)),
    newestId: Number(span.newest ?? hi),
    // No row before `from` and none at or after `to`, and rows written from now on fall before
    // `to` too (their time is the database's now: an hour of margin for the two clocks).
    holdsWholeLog: span.below == null && span.above == null && (!to || to.getTime() > Date.now() + HOUR_MS),
    sealed: span.sealed_from == null ? undefined : { from: String(span.sealed_from), before: span.sealed_before == null ? null : String(span.sealed_before) },
  };
}

/**
 * The span's months of sealing as a condition on the partition key, so a scan of the span reads
 * only the partitions its IDs can be in (the IDs alone name no partition). It marks its statement
 * to be planned at every run: a plan kept for reuse cannot see which months, nor how wide the
 * span is, and for some filters is a hundred times slower.
 */
function sealedIn(span: Span): SQL[] {
  if (!span.sealed) return [];
  const { from, before } = span.sealed;
  const after = sql`${sql.raw(PLAN_EACH_RUN)} l.sealed_at >= ${from}::timestamptz`;
  return before === null ? [after] : [after, sql`l.sealed_at < ${before}::timestamptz`];
}

/**
 * The span the page and the export select by: none when the time range holds the whole log
 * (1970 to 9999, say), which then costs what no range costs (the counters, not a count of every
 * row), and selects the same rows.
 */
export async function selectionSpanOf(executor: Executor, filters: AccountLogFilters): Promise<IdSpan | undefined> {
  const span = await idSpanOf(executor, filters);
  return span?.holdsWholeLog ? undefined : span;
}

/**
 * Conditions on the log (alias `l`) for every filter a scan does not already cover. A time range
 * with a span is read as IDs: between the outside rows every ID is within the range, so only rows
 * at the edges need their time checked. Checking it everywhere would also mislead the planner,
 * which takes the ID range and the time range for independent and expects a few rows, not thousands.
 */
export function rowConditions(filters: AccountLogFilters, span: Span | undefined, covered: readonly FilterDimension[] = []): SQL[] {
  const conditions = filterConditions(filters, [...covered, "time"]);
  if (covered.includes("time")) return span ? [...sealedIn(span), ...conditions] : conditions;
  const time = conditionOf("time", filters);
  if (!span) return time ? [time, ...conditions] : conditions;
  const ids = [sql`l.id between ${span.lo} and ${span.hi}`, ...sealedIn(span)];
  if (time && (span.outsideBelow >= span.lo || span.outsideAbove <= span.hi)) {
    ids.push(sql`(l.id > ${span.outsideBelow} and l.id < ${span.outsideAbove} or ${time})`);
  }
  return [...ids, ...conditions];
}

/** The rows a search and results select, whatever their time, from the counters alone. */
function countersTotal(filters: AccountLogFilters): SQL {
  const { q, results } = filters;
  if (!q && !results.length) return sql`(select coalesce(sum(${accountLogTotals.rowCount}), 0) from ${accountLogTotals})`;
  if (!results.length) {
    return sql`(select coalesce(sum(${accountLogUsernames.rowCount}), 0) from ${accountLogUsernames} where ${usernamesWhere(filters)})`;
  }
  if (!q) return sql`(select coalesce(sum(${accountLogHours.rowCount}), 0) from ${accountLogHours} where ${resultIn(sql`${accountLogHours.result}`, results)})`;
  return sql`(select coalesce(sum(r.row_count), 0) from ${accountLogUsernameResults} r
    where ${resultIn(sql`r.result`, results)}
      and ${keyOfSearch(sql`r.username_key`, filters)})`;
}

/** The address-result pairs (alias `a`) an address or network and the results select. */
function addressPairs(filters: AccountLogFilters): SQL {
  const conditions = [addressIn(sql`a.ip`, filters.ip!), ...(filters.results.length ? [resultIn(sql`a.result`, filters.results)] : [])];
  return sql`(select * from ${accountLogAddressResults} a ${where(conditions)}) a`;
}

/** The rows of an address or network, whatever their result and time, from the counters. */
export function addressRowsTotal(filters: AccountLogFilters): SQL {
  return sql`(select coalesce(sum(a.row_count), 0) from ${addressPairs({ ...filters, results: [] })})`;
}

/** Up to one past the probe limit: "many" beyond it. */
const boundedStreams = <T,>(rows: T[]): Streams<T> => (rows.length > PER_STREAM_PROBE_LIMIT ? "many" : rows);

/**
 * Address-result pairs as a list to scan one by one (`k(ip, result)`). A leading null pair keeps
 * the arrays typed when the list is empty; it matches no row.
 */
export function addressPairSource(pairs: readonly AddressPair[]): SQL {
  const addresses = sql`array[${sql.join([sql`null`, ...pairs.map((pair) => sql`${pair.ip}`)], sql`, `)}]::inet[]`;
  return sql`unnest(${addresses}, ${textArray([null, ...pairs.map((pair) => pair.result)])})`;
}

/** The address-result pairs an address or network (and results) select. */
export async function lookUpAddressPairs(executor: Executor, filters: AccountLogFilters): Promise<Streams<AddressPair>> {
  return boundedStreams(
    rowsOf<AddressPair>(await executor.execute(sql`select a.ip::text as ip, a.result from ${addressPairs(filters)} limit ${PER_STREAM_PROBE_LIMIT + 1}`)),
  );
}

async function lookUpUsernameStreams(executor: Executor, filters: AccountLogFilters): Promise<Streams<UsernameStream>> {
  const rows = rowsOf<{ key: number | string; result?: string }>(
    await executor.execute(
      filters.results.length
        ? sql`select r.username_key as key, r.result from ${accountLogUsernameResults} r
            join ${accountLogUsernames} on ${accountLogUsernames.id} = r.username_key
            where ${usernamesWhere(filters)} and ${resultIn(sql`r.result`, filters.results)} limit ${PER_STREAM_PROBE_LIMIT + 1}`
        : sql`select ${accountLogUsernames.id} as key from ${accountLogUsernames} where ${usernamesWhere(filters)} limit ${PER_STREAM_PROBE_LIMIT + 1}`,
    ),
  );
  return boundedStreams(rows.map((row) => ({ key: Number(row.key), ...(row.result ? { result: row.result } : {}) })));
}

/**
 * The country-result pairs (alias `c`) the filters select, from the counters per country and
 * result, where rows without a country are the code `''`.
 */
function countryPairs(filters: AccountLogFilters): SQL {
  const conditions = [countryIn(sql`c.country`, filters.country!), ...(filters.results.length ? [resultIn(sql`c.result`, filters.results)] : [])];
  return sql`(select * from ${accountLogCountryResults} c ${where(conditions)}) c`;
}

/**
 * The country-result pairs to read, newest first: on a first page without a time range only the
 * newest can hold its rows (each other pair has a page of newer matches ahead of it), so a
 * pair too many is no reason to walk instead.
 */
async function lookUpCountryPairs(executor: Executor, filters: AccountLogFilters, newestFirst: boolean, limit: number): Promise<Streams<CountryPair>> {
  const pairs = rowsOf<CountryPair>(
    await executor.execute(sql`select nullif(c.country, '') as country, c.result from ${countryPairs(filters)}
      order by c.last_id desc limit ${Math.max(PER_STREAM_PROBE_LIMIT, limit) + 1}`),
  );
  return newestFirst ? pairs : boundedStreams(pairs);
}

/** The streams the row plan may need, looked up at once. */
export async function lookUpFacts(
  executor: Executor,
  filters: AccountLogFilters,
  span: IdSpan | undefined,
  cursor: Cursor & { limit?: number },
): Promise<SelectionFacts> {
  const wanted = streamsToLookUp(filters, span, cursor);
  const [addressPairs, usernameStreams, countryPairs] = await Promise.all([
    wanted.has("address") ? lookUpAddressPairs(executor, filters) : undefined,
    wanted.has("username") ? lookUpUsernameStreams(executor, filters) : undefined,
    wanted.has("country")
      ? lookUpCountryPairs(executor, filters, !filters.from && !filters.to && cursor.before === undefined && cursor.after === undefined, cursor.limit ?? 0)
      : undefined,
  ]);
  return { span, addressPairs, usernameStreams, countryPairs };
}

/** The exact number of rows the filters select, by the plan chosen for them (or the one given). */
export async function countLogs(
  executor: Executor,
  filters: AccountLogFilters,
  span: IdSpan | undefined,
  plan: CountPlan = chooseCountPlan(filters, span),
): Promise<number> {
  if (plan.kind === "nothing") return 0;
  const [row] = rowsOf<{ n: string | number | null }>(await executor.execute(countStatement(plan, filters)));
  return Number(row?.n ?? 0);
}

/** One emitter per count plan. */
export function countStatement(plan: Exclude<CountPlan, { kind: "nothing" }>, filters: AccountLogFilters): SQL {
  switch (plan.kind) {
    case "counters":
      return sql`select ${countersTotal(filters)} as n`;
    case "address counters":
      return sql`select (select coalesce(sum(a.row_count), 0) from ${addressPairs(filters)}) as n`;
    case "hours":
      return countByHours(filters, (bounds) => hourCounters(filters, bounds));
    case "country counters":
      return sql`select (select coalesce(sum(c.row_count), 0) from ${countryPairs(filters)}) as n`;
    case "country hours":
      return countByHours(filters, (bounds) => countryHourCounters(filters, bounds));
    case "fallback":
      return sql`select count(*) as n from account_logs l ${where(filterConditions(filters))}`;
    case "counters less edges": {
      // A range covering most of the log: the counters' total for the search, less the rows
      // outside the inner IDs, reads fewer index entries. One statement, so a row written
      // meanwhile is either in every part or in none.
      const { span } = plan;
      return sql`select ${countersTotal(filters)} - ${eachEdge(span, rowConditions(filters, span, ["time"]))} + ${eachEdge(span, rowConditions(filters, span))} as n`;
    }
    case "address pairs in span": {
      const { span } = plan;
      // One index-only count per address and result, each within the inner IDs.
      return sql`select (select coalesce(sum(c.n), 0) from ${addressPairs(filters)}
        cross join lateral (select count(*) as n from account_logs l
          where l.ip = a.ip and l.result = a.result and l.id > ${span.outsideBelow} and l.id < ${span.outsideAbove}) c)
        + ${eachEdge(span, rowConditions(filters, span))} as n`;
    }
    case "span": {
      // Between the outside rows, by ID and the other filters; at the edges, by time too.
      const { span } = plan;
      const innerIds = [sql`l.id > ${span.outsideBelow}`, sql`l.id < ${span.outsideAbove}`];
      const others = rowConditions(filters, span, ["time"]);
      let inner = sql`(select count(*) from account_logs l ${where([...innerIds, ...others])})`;
      if (plan.resultsFirst) {
        // A search of many usernames with results: when the results are a small part of the
        // span (the hourly counters say), read their IDs from the (result, id) index alone and
        // look up only those rows, rather than every row of the span.
        const resultsInSpan = sql`(select coalesce(sum(${accountLogHours.rowCount}), 0) from ${accountLogHours}
          where ${accountLogHours.hour} >= ${iso(floorHour(filters.from ?? new Date(0)))}
            ${filters.to ? sql`and ${accountLogHours.hour} < ${iso(filters.to)}` : sql``}
            and ${resultIn(sql`${accountLogHours.result}`, filters.results)})`;
        const candidates = sql`(select l.id from account_logs l ${where([...innerIds, resultIn(sql`l.result`, filters.results)])})`;
        const fewFirst = sql`(with candidates as materialized ${candidates}
          select count(*) from account_logs l where l.id in (select id from candidates) and ${sql.join(rowConditions(filters, span, ["time", "result"]), sql` and `)})`;
        inner = sql`(case when ${resultsInSpan} * 10 < ${span.outsideAbove - span.outsideBelow} then ${fewFirst} else ${inner} end)`;
      }
      return sql`select ${inner} + ${eachEdge(span, rowConditions(filters, span))} as n`;
    }
  }
}

/**
 * The rows at the edges of a span (at or below the last outside row below the range, at or above
 * the first above it): two counts rather than one with OR, so each reads one range of an index;
 * in a range within one hour the two edges meet, and the second starts after the first.
 */
function eachEdge(span: Span, conditions: SQL[]): SQL {
  return sql`(select count(*) from account_logs l ${where([sql`l.id <= ${span.outsideBelow}`, ...conditions])})
    + (select count(*) from account_logs l ${where([sql`l.id >= ${Math.max(span.outsideAbove, span.outsideBelow + 1)}`, ...conditions])})`;
}

type HourBounds = SQL[];

/** The whole hours' rows from the hourly counters (per result). */
function hourCounters(filters: AccountLogFilters, bounds: (column: SQL) => HourBounds): SQL {
  const results = filters.results.length ? [resultIn(sql`${accountLogHours.result}`, filters.results)] : [];
  return sql`(select coalesce(sum(${accountLogHours.rowCount}), 0) from ${accountLogHours} ${where([...bounds(sql`${accountLogHours.hour}`), ...results])})`;
}

/**
 * The whole hours' rows from the counters per country, hour and result: the countries' own, or
 * for an exclusion every row less the excluded countries' (rows without a country stay in).
 */
function countryHourCounters(filters: AccountLogFilters, bounds: (column: SQL) => HourBounds): SQL {
  const { exclude, codes } = filters.country!;
  const t = accountLogCountryHours;
  const results = filters.results.length ? [resultIn(sql`${t.result}`, filters.results)] : [];
  const ofCodes = sql`(select coalesce(sum(${t.rowCount}), 0) from ${t} ${where([sqlIn(sql`${t.country}`, codes), ...results, ...bounds(sql`${t.hour}`)])})`;
  return exclude ? sql`(${hourCounters(filters, bounds)} - ${ofCodes})` : ofCodes;
}

/**
 * A time range (or none) from hourly counters: the whole hours it covers, plus the rows of its
 * partial first and last hours, counted within those hours' ID spans with every condition.
 */
function countByHours(filters: AccountLogFilters, wholeHours: (bounds: (column: SQL) => HourBounds) => SQL): SQL {
  const from = filters.from?.getTime();
  const to = filters.to?.getTime();
  const wholeFrom = from === undefined ? undefined : Math.ceil(from / HOUR_MS) * HOUR_MS;
  const wholeTo = to === undefined ? undefined : Math.floor(to / HOUR_MS) * HOUR_MS;
  const parts: SQL[] = [];
  if (wholeFrom === undefined || wholeTo === undefined || wholeFrom < wholeTo) {
    parts.push(
      wholeHours((column) => [
        ...(wholeFrom === undefined ? [] : [sql`${column} >= ${iso(new Date(wholeFrom))}`]),
        ...(wholeTo === undefined ? [] : [sql`${column} < ${iso(new Date(wholeTo))}`]),
      ]),
    );
  }
  const others = filterConditions(filters, ["time"]);
  const resultsOnly = filters.results.length ? [resultIn(sql`${accountLogHours.result}`, filters.results)] : [];
  const partialHour = (start: number, end: number) => {
    const hour = iso(new Date(Math.floor(start / HOUR_MS) * HOUR_MS));
    const bucket = where([sql`${accountLogHours.hour} = ${hour}`, ...resultsOnly]);
    return sql`(select count(*) from account_logs l
      where l.id between (select min(${accountLogHours.minId}) from ${accountLogHours} ${bucket})
                     and (select max(${accountLogHours.maxId}) from ${accountLogHours} ${bucket})
        and l.occurred_at >= ${iso(new Date(start))} and l.occurred_at < ${iso(new Date(end))}
        ${others.length ? sql`and ${sql.join(others, sql` and `)}` : sql``})`;
  };
  const firstPartial = from !== undefined && from % HOUR_MS !== 0;
  if (firstPartial) parts.push(partialHour(from, Math.min(wholeFrom!, to ?? Infinity)));
  if (to !== undefined && to % HOUR_MS !== 0 && !(firstPartial && wholeTo! < from!)) {
    parts.push(partialHour(Math.max(wholeTo!, from ?? -Infinity), to));
  }
  return sql`select ${parts.length ? sql.join(parts, sql` + `) : sql`0`} as n`;
}

/**
 * The IDs of up to `limit` rows the filters select, next to the cursor: newest first, or oldest
 * first when reading towards newer rows (`after`). The plan's streams are looked up first.
 */
export async function selectRowIds(
  executor: Executor,
  filters: AccountLogFilters,
  span: IdSpan | undefined,
  cursor: Cursor & { limit: number },
): Promise<SQL | undefined> {
  const plan = chooseRowPlan(filters, await lookUpFacts(executor, filters, span, cursor), cursor);
  return rowIdsStatement(plan, filters, span, cursor);
}

/** One emitter per row plan: a statement selecting the IDs, or undefined when none can match. */
export function rowIdsStatement(
  plan: RowPlan,
  filters: AccountLogFilters,
  span: IdSpan | undefined,
  { before, after, limit }: Cursor & { limit: number },
): SQL | undefined {
  if (plan.kind === "nothing") return undefined;
  // Every plan but the fallback reads a time range by its span.
  const spanOfFilters = plan.kind === "fallback" || !span ? undefined : span;
  const towardsNewer = after !== undefined;
  const direction = towardsNewer ? sql`asc` : sql`desc`;
  const cursor = towardsNewer ? [sql`l.id > ${after}`] : before !== undefined ? [sql`l.id < ${before}`] : [];
  const walk = (covered: FilterDimension[], extra: SQL[] = []) => [...extra, ...cursor, ...rowConditions(filters, spanOfFilters, covered)];
  // One ordered scan per stream (`k`), merged: each stops after `limit` rows. The stream's own
  // columns lead the ORDER BY (constant within it), which names the index to read in order; by
  // ID alone the planner may walk the whole ID index instead.
  const merged = (streams: SQL, streamColumns: SQL, match: SQL[], order: SQL[], covered: FilterDimension[]) => sql`
    select l.id from ${streams} as k(${streamColumns})
    cross join lateral (
      select l.id from account_logs l ${where(walk(covered, match))}
      order by ${sql.join([...order, sql`l.id`].map((column) => sql`${column} ${direction}`), sql`, `)} limit ${limit}
    ) l
    order by l.id ${direction} limit ${limit}`;
  switch (plan.kind) {
    case "fallback":
    case "id walk":
      return sql`select l.id from account_logs l ${where(walk([]))} order by l.id ${direction} limit ${limit}`;
    case "result streams": {
      // The span as a range of the (result, id) index too: by the ID range alone, the planner may
      // walk the primary key through every other result's rows.
      const resultSpan = spanOfFilters ? [sql`(l.result, l.id) between (k.result, ${spanOfFilters.lo}) and (k.result, ${spanOfFilters.hi})`] : [];
      return merged(sql`unnest(${textArray(filters.results)})`, sql`result`, [sql`l.result = k.result`, ...resultSpan], [sql`l.result`], ["result"]);
    }
    case "address pairs": {
      const source =
        plan.pairs === "newest"
          ? sql`(select a.ip, a.result from ${addressPairs(filters)} order by a.last_id desc limit ${limit})`
          : addressPairSource(plan.pairs);
      return merged(source, sql`ip, result`, [sql`l.ip = k.ip`, sql`l.result = k.result`], [sql`l.ip`, sql`l.result`], ["ip", "result"]);
    }
    case "username streams": {
      const { byResult } = plan;
      const covered: FilterDimension[] = byResult ? ["search", "result"] : ["search"];
      const columns = byResult ? sql`key, result` : sql`key`;
      const match = byResult ? [sql`l.username_key = k.key`, sql`l.result = k.result`] : [sql`l.username_key = k.key`];
      const order = byResult ? [sql`l.username_key`, sql`l.result`] : [sql`l.username_key`];
      let source: SQL;
      if (plan.streams === "newest") {
        // The first page's rows can only come from the `limit` streams with the newest rows: each
        // other stream has at least `limit` newer matches ahead of it.
        source = byResult
          ? sql`(select r.username_key, r.result from ${accountLogUsernameResults} r
              join ${accountLogUsernames} on ${accountLogUsernames.id} = r.username_key
              where ${usernamesWhere(filters)} and ${resultIn(sql`r.result`, filters.results)} order by r.last_id desc limit ${limit})`
          : sql`(select ${accountLogUsernames.id} from ${accountLogUsernames} where ${usernamesWhere(filters)}
              order by ${accountLogUsernames.lastId} desc nulls last limit ${limit})`;
      } else {
        const keys = intArray(plan.streams.map((stream) => stream.key));
        source = byResult ? sql`unnest(${keys}, ${textArray(plan.streams.map((stream) => stream.result!))})` : sql`unnest(${keys})`;
      }
      return merged(source, columns, match, order, covered);
    }
    case "country pairs": {
      // Rows without a country are read by `is null`, the others by `=`: each from the same
      // index, in order.
      const countries = plan.pairs.filter((pair) => pair.country !== null);
      const none = plan.pairs.filter((pair) => pair.country === null);
      const order = [ROW_COUNTRY, sql`l.result`];
      const parts = [
        ...(countries.length
          ? [merged(sql`unnest(${textArray(countries.map((p) => p.country))}, ${textArray(countries.map((p) => p.result))})`, sql`country, result`, [sql`${ROW_COUNTRY} = k.country`, sql`l.result = k.result`], order, ["country", "result"])]
          : []),
        ...(none.length
          ? [merged(sql`unnest(${textArray(none.map((p) => p.result))})`, sql`result`, [sql`${ROW_COUNTRY} is null`, sql`l.result = k.result`], order, ["country", "result"])]
          : []),
      ];
      if (parts.length === 1) return parts[0];
      return sql`select u.id from ((${parts[0]}) union all (${parts[1]})) u order by u.id ${direction} limit ${limit}`;
    }
  }
}
