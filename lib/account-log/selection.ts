import { sql, type SQL } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import {
  accountLogAddressResults,
  accountLogHourCeilings,
  accountLogHourFloors,
  accountLogHours,
  accountLogTotals,
  accountLogUsernameResults,
  accountLogUsernames,
  ACCOUNT_LOG_RESULTS,
  type AccountLogResult,
} from "@/db/schema";
import { escapeLike, type AccountLogFilters } from "./search-params";

/**
 * How the log is read for a set of filters, exactly and without scanning it:
 * - counts come from counters the insert trigger keeps (per username, per username and result,
 *   per address and result, per hour and result), plus at most two partial hours counted row
 *   by row;
 * - rows come newest first from ordered index scans (one per username, username and result,
 *   address and result, or result) merged, or from one walk of an index, always by keyset on
 *   the ID;
 * - a time range becomes a span of IDs, found in the hour ceilings and floors, so old ranges
 *   cost no more than new ones.
 */

/** Above this many streams (usernames, or username-result or address-result pairs), one index walk beats a probe each. */
export const PER_STREAM_PROBE_LIMIT = 200;

const HOUR_MS = 3_600_000;

/**
 * The usernames a search selects: that name exactly, or every name containing it (every name
 * for none); `%`, `_` and `\` match themselves.
 */
export function usernameMatches({ q, exact }: Pick<AccountLogFilters, "q" | "exact">): SQL {
  if (exact) return sql`${accountLogUsernames.usernameNormalized} = ${q}`;
  return sql`${accountLogUsernames.usernameNormalized} like ${`%${q ? escapeLike(q) : ""}%`}`;
}

/**
 * The IDs a time range's rows lie between (`lo`–`hi`), and within them the IDs no row outside the
 * range can have (strictly between `outsideBelow` and `outsideAbove`), so counting those needs no
 * look at each row's time; null when no row can be in the range. IDs follow time closely,
 * so in practice only a partial hour at each end is checked row by row.
 */
export type IdSpan = {
  lo: number;
  hi: number;
  outsideBelow: number;
  outsideAbove: number;
  newestId: number;
  /** Every row of the log, and every row written later, is in the range. */
  holdsWholeLog: boolean;
} | null;

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

// A zero key never exists: it keeps the array literal typed when the search matches nobody.
export const keyArray = (keys: readonly number[]) => sql`array[${sql.join([0, ...keys].map((key) => sql`${key}`), sql`, `)}]::int[]`;

/** A condition on `account_log_usernames` for the search. */
export function usernamesWhere(filters: AccountLogFilters): SQL {
  return filters.usernameKeys ? sql`${accountLogUsernames.id} = any(${keyArray(filters.usernameKeys)})` : usernameMatches(filters);
}

/** A condition that a username key column belongs to the search. */
function keyOfSearch(column: SQL, filters: AccountLogFilters): SQL {
  return filters.usernameKeys
    ? sql`${column} = any(${keyArray(filters.usernameKeys)})`
    : sql`${column} in (select ${accountLogUsernames.id} from ${accountLogUsernames} where ${usernameMatches(filters)})`;
}

const iso = (date: Date) => sql`${date.toISOString()}::timestamptz`;
/** A list as an array literal: `unnest` of it stays a scan, where a one-row VALUES would be folded into a constant. */
const textArray = (values: readonly string[]) => sql`array[${sql.join(values.map((value) => sql`${value}`), sql`, `)}]::text[]`;
const intArray = (values: readonly number[]) => sql`array[${sql.join(values.map((value) => sql`${value}`), sql`, `)}]::int[]`;
export const resultIn = (column: SQL, results: readonly string[]) => sql`${column} in (${sql.join(results.map((r) => sql`${r}`), sql`, `)})`;
/** An address column within the filter's address or network. */
const addressIn = (column: SQL, ip: string) => (ip.includes("/") ? sql`${column} <<= ${ip}::inet` : sql`${column} = ${ip}::inet`);

const floorHour = (date: Date) => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
const where = (conditions: SQL[]) => (conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``);

/**
 * The ID span of a time range (undefined without one): four index probes of the hour ceilings
 * and floors, whatever the range's length or age. The span ignores results: it bounds the IDs,
 * and the statements that read it apply the results.
 */
export async function idSpanOf(executor: Executor, filters: AccountLogFilters): Promise<IdSpan | undefined> {
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
  const [span] = rowsOf<Record<"lo" | "hi" | "below" | "above" | "newest", string | number | null>>(
    await executor.execute(sql`
      select ${from ? floorFrom(from) : sql`(select min(id) from account_logs)`} as lo,
        ${to ? ceilingBefore(to) : sql`(select max(id) from account_logs)`} as hi,
        ${from ? ceilingBefore(from) : sql`null::bigint`} as below,
        ${to ? floorFrom(to) : sql`null::bigint`} as above,
        (select max(id) from account_logs) as newest`),
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
  };
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

/** Conditions on the log (alias `l`) for the filters a plan does not already apply by its scans. */
export function rowConditions(
  filters: AccountLogFilters,
  span: IdSpan | undefined,
  {
    byUsername,
    byResult,
    byAddress = false,
    byTime = true,
  }: { byUsername: boolean; byResult: boolean; byAddress?: boolean; byTime?: boolean },
): SQL[] {
  const conditions: SQL[] = [];
  const time = [
    ...(filters.from ? [sql`l.occurred_at >= ${iso(filters.from)}`] : []),
    ...(filters.to ? [sql`l.occurred_at < ${iso(filters.to)}`] : []),
  ];
  if (span && byTime) {
    conditions.push(sql`l.id between ${span.lo} and ${span.hi}`);
    // The IDs between the outside rows are all within the range: only rows at the edges need
    // their time checked. Checking it everywhere would also mislead the planner, which takes
    // the ID range and the time range for independent and expects a few rows, not thousands.
    if (time.length && (span.outsideBelow >= span.lo || span.outsideAbove <= span.hi)) {
      conditions.push(sql`(l.id > ${span.outsideBelow} and l.id < ${span.outsideAbove} or ${sql.join(time, sql` and `)})`);
    }
  } else if (byTime) {
    conditions.push(...time);
  }
  if (filters.ip && !byAddress) conditions.push(addressIn(sql`l.ip`, filters.ip));
  if (filters.q && !byUsername) {
    conditions.push(keyOfSearch(sql`l.username_key`, filters));
  }
  if (filters.results.length && !byResult) conditions.push(resultIn(sql`l.result`, filters.results));
  return conditions;
}

/** The rows a search and results select, whatever their time, from the counters alone. */
function countersTotal(filters: AccountLogFilters): SQL {
  const { q, results } = filters;
  if (!q && !results.length) return sql`(select coalesce(sum(${accountLogTotals.rowCount}), 0) from ${accountLogTotals})`;
  if (!results.length) {
    return sql`(select coalesce(sum(${accountLogUsernames.rowCount}), 0) from ${accountLogUsernames} where ${usernamesWhere(filters)})`;
  }
  const resultsOnly = resultIn(sql`${accountLogHours.result}`, results);
  if (!q) return sql`(select coalesce(sum(${accountLogHours.rowCount}), 0) from ${accountLogHours} where ${resultsOnly})`;
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

/**
 * The address-result pairs of an address filter without a search, as a list to scan one by one
 * (`k(ip, result)`); undefined when there are too many to probe each.
 */
export async function addressPairStreams(executor: Executor, filters: AccountLogFilters): Promise<{ source: SQL; count: number } | undefined> {
  const pairs = rowsOf<{ ip: string; result: string }>(
    await executor.execute(sql`select a.ip::text as ip, a.result from ${addressPairs(filters)} limit ${PER_STREAM_PROBE_LIMIT + 1}`),
  );
  if (pairs.length > PER_STREAM_PROBE_LIMIT) return undefined;
  const addresses = sql`array[${sql.join([sql`null`, ...pairs.map((pair) => sql`${pair.ip}`)], sql`, `)}]::inet[]`;
  // The leading null pair keeps the arrays typed when there is no pair; it matches no row.
  const results = sql`array[${sql.join([sql`null`, ...pairs.map((pair) => sql`${pair.result}`)], sql`, `)}]::text[]`;
  return { source: sql`unnest(${addresses}, ${results})`, count: pairs.length };
}

/** The exact number of rows the filters select. */
export async function countLogs(executor: Executor, filters: AccountLogFilters, span: IdSpan | undefined): Promise<number> {
  if (span === null) return 0;
  const { q } = filters;
  let statement: SQL;
  // An address without a search is counted per address and result, like a search per username.
  const byAddress = Boolean(filters.ip && !q);
  if (!filters.ip && span === undefined) {
    statement = sql`select ${countersTotal(filters)} as n`;
  } else if (byAddress && span === undefined) {
    statement = sql`select (select coalesce(sum(a.row_count), 0) from ${addressPairs(filters)}) as n`;
  } else if (!filters.ip && !q) {
    statement = countByHours(filters);
  } else if (!span) {
    statement = sql`select count(*) as n from account_logs l ${where(rowConditions(filters, span, { byUsername: false, byResult: false }))}`;
  } else {
    // Between the outside rows, by ID alone (an index-only count); at the edges, by time too.
    const others = rowConditions(filters, span, { byUsername: false, byResult: false, byTime: false });
    const timed = rowConditions(filters, span, { byUsername: false, byResult: false });
    // Two counts rather than one with OR, so each reads one range of an index; in a range within
    // one hour the two edges meet, and the second starts after the first.
    const eachEdge = (conditions: SQL[]) =>
      sql`(select count(*) from account_logs l ${where([sql`l.id <= ${span.outsideBelow}`, ...conditions])})
        + (select count(*) from account_logs l ${where([sql`l.id >= ${Math.max(span.outsideAbove, span.outsideBelow + 1)}`, ...conditions])})`;
    const innerWidth = span.outsideAbove - span.outsideBelow;
    if (!filters.ip && innerWidth > span.newestId - innerWidth) {
      // A range covering most of the log: the counters' total for the search, less the rows
      // outside the inner IDs, reads fewer index entries.
      // One statement, so a row written meanwhile is either in every part or in none.
      statement = sql`select ${countersTotal(filters)} - ${eachEdge(others)} + ${eachEdge(timed)} as n`;
    } else if (byAddress) {
      // One index-only count per address and result, each within the inner IDs.
      statement = sql`select (select coalesce(sum(c.n), 0) from ${addressPairs(filters)}
        cross join lateral (select count(*) as n from account_logs l
          where l.ip = a.ip and l.result = a.result and l.id > ${span.outsideBelow} and l.id < ${span.outsideAbove}) c)
        + ${eachEdge(timed)} as n`;
    } else {
      const innerIds = [sql`l.id > ${span.outsideBelow}`, sql`l.id < ${span.outsideAbove}`];
      let inner = sql`(select count(*) from account_logs l ${where([...innerIds, ...others])})`;
      if (q && !filters.usernameKeys && filters.results.length && !filters.ip) {
        // A search of many usernames with results: when the results are a small part of the
        // span (the hourly counters say), read their IDs from the (result, id) index alone and
        // look up only those rows, rather than every row of the span.
        const resultsInSpan = sql`(select coalesce(sum(${accountLogHours.rowCount}), 0) from ${accountLogHours}
          where ${accountLogHours.hour} >= ${iso(floorHour(filters.from ?? new Date(0)))}
            ${filters.to ? sql`and ${accountLogHours.hour} < ${iso(filters.to)}` : sql``}
            and ${resultIn(sql`${accountLogHours.result}`, filters.results)})`;
        const candidates = sql`(select l.id from account_logs l ${where([...innerIds, resultIn(sql`l.result`, filters.results)])})`;
        const fewFirst = sql`(with candidates as materialized ${candidates}
          select count(*) from account_logs l where l.id in (select id from candidates) and ${keyOfSearch(sql`l.username_key`, filters)})`;
        inner = sql`(case when ${resultsInSpan} * 10 < ${innerWidth} then ${fewFirst} else ${inner} end)`;
      }
      statement = sql`select ${inner} + ${eachEdge(timed)} as n`;
    }
  }
  const [row] = rowsOf<{ n: string | number | null }>(await executor.execute(statement));
  return Number(row?.n ?? 0);
}

/**
 * A time range (with results, or all) from the hourly counters: the whole hours it covers, plus
 * the rows of its partial first and last hours, counted within those hours' ID spans.
 */
function countByHours(filters: AccountLogFilters): SQL {
  const from = filters.from?.getTime();
  const to = filters.to?.getTime();
  const wholeFrom = from === undefined ? undefined : Math.ceil(from / HOUR_MS) * HOUR_MS;
  const wholeTo = to === undefined ? undefined : Math.floor(to / HOUR_MS) * HOUR_MS;
  const parts: SQL[] = [];
  const resultsOnly = filters.results.length ? [resultIn(sql`${accountLogHours.result}`, filters.results)] : [];
  if (wholeFrom === undefined || wholeTo === undefined || wholeFrom < wholeTo) {
    const bounds = [
      ...(wholeFrom === undefined ? [] : [sql`${accountLogHours.hour} >= ${iso(new Date(wholeFrom))}`]),
      ...(wholeTo === undefined ? [] : [sql`${accountLogHours.hour} < ${iso(new Date(wholeTo))}`]),
      ...resultsOnly,
    ];
    parts.push(sql`(select coalesce(sum(${accountLogHours.rowCount}), 0) from ${accountLogHours} ${where(bounds)})`);
  }
  const partialHour = (start: number, end: number) => {
    const hour = iso(new Date(Math.floor(start / HOUR_MS) * HOUR_MS));
    const bucket = where([sql`${accountLogHours.hour} = ${hour}`, ...resultsOnly]);
    return sql`(select count(*) from account_logs l
      where l.id between (select min(${accountLogHours.minId}) from ${accountLogHours} ${bucket})
                     and (select max(${accountLogHours.maxId}) from ${accountLogHours} ${bucket})
        and l.occurred_at >= ${iso(new Date(start))} and l.occurred_at < ${iso(new Date(end))}
        ${filters.results.length ? sql`and ${resultIn(sql`l.result`, filters.results)}` : sql``})`;
  };
  const firstPartial = from !== undefined && from % HOUR_MS !== 0;
  if (firstPartial) parts.push(partialHour(from, Math.min(wholeFrom!, to ?? Infinity)));
  if (to !== undefined && to % HOUR_MS !== 0 && !(firstPartial && wholeTo! < from!)) {
    parts.push(partialHour(Math.max(wholeTo!, from ?? -Infinity), to));
  }
  return sql`select ${parts.length ? sql.join(parts, sql` + `) : sql`0`} as n`;
}

export type Cursor = { before?: number; after?: number };

/**
 * A statement selecting the IDs of up to `limit` rows the filters select, next to the cursor:
 * newest first, or oldest first when reading towards newer rows (`after`).
 */
export async function rowIdsStatement(
  executor: Executor,
  filters: AccountLogFilters,
  span: IdSpan | undefined,
  { before, after, limit }: Cursor & { limit: number },
): Promise<SQL | undefined> {
  if (span === null) return undefined;
  const towardsNewer = after !== undefined;
  const direction = towardsNewer ? sql`asc` : sql`desc`;
  const cursor = towardsNewer ? [sql`l.id > ${after}`] : before !== undefined ? [sql`l.id < ${before}`] : [];
  type Scans = { byUsername: boolean; byResult: boolean; byAddress?: boolean };
  const walk = (scans: Scans, extra: SQL[] = []) => [...extra, ...cursor, ...rowConditions(filters, span, scans)];
  const indexWalk = () =>
    sql`select l.id from account_logs l ${where(walk({ byUsername: false, byResult: false }))} order by l.id ${direction} limit ${limit}`;
  // One ordered scan per stream (`k`), merged: each stops after `limit` rows.
  // The stream's own columns lead the ORDER BY (constant within it), which names the index to
  // read in order; by ID alone the planner may walk the whole ID index instead.
  const merged = (streams: SQL, streamColumns: SQL, match: SQL[], scans: Scans) => {
    const order = [
      ...(scans.byAddress ? [sql`l.ip`] : []),
      ...(scans.byUsername ? [sql`l.username_key`] : []),
      ...(scans.byResult ? [sql`l.result`] : []),
      sql`l.id`,
    ];
    return sql`
    select l.id from ${streams} as k(${streamColumns})
    cross join lateral (
      select l.id from account_logs l ${where(walk(scans, match))}
      order by ${sql.join(order.map((column) => sql`${column} ${direction}`), sql`, `)} limit ${limit}
    ) l
    order by l.id ${direction} limit ${limit}`;
  };

  const { q, results } = filters;
  const firstPage = before === undefined && after === undefined;
  // The span as a range of the (result, id) index too: by the ID range alone, the planner may
  // walk the primary key through every other result's rows.
  const resultSpan = span ? [sql`(l.result, l.id) between (k.result, ${span.lo}) and (k.result, ${span.hi})`] : [];
  const byResults = () =>
    merged(sql`unnest(${textArray(results)})`, sql`result`, [sql`l.result = k.result`, ...resultSpan], { byUsername: false, byResult: true });
  if (filters.ip && !q) {
    const byPairs = (source: SQL) =>
      merged(source, sql`ip, result`, [sql`l.ip = k.ip`, sql`l.result = k.result`], { byUsername: false, byResult: true, byAddress: true });
    // As for usernames: a first page comes from the `limit` pairs with the newest rows.
    if (firstPage && !filters.from && !filters.to) {
      return byPairs(sql`(select a.ip, a.result from ${addressPairs(filters)} order by a.last_id desc limit ${limit})`);
    }
    const pairs = await addressPairStreams(executor, filters);
    if (!pairs) return results.length ? byResults() : indexWalk();
    return pairs.count === 0 ? undefined : byPairs(pairs.source);
  }
  // With an address and a search, the planner combines the indexes.
  if (filters.ip) return indexWalk();
  if (!q && !results.length) return indexWalk();
  if (!q) return byResults();

  const byPair = results.length > 0;
  const streamColumns = byPair ? sql`key, result` : sql`key`;
  const match = byPair ? [sql`l.username_key = k.key`, sql`l.result = k.result`] : [sql`l.username_key = k.key`];
  const streamsOf = (order: SQL, streamLimit: number) =>
    byPair
      ? sql`select r.username_key, r.result from ${accountLogUsernameResults} r
          join ${accountLogUsernames} on ${accountLogUsernames.id} = r.username_key
          where ${usernamesWhere(filters)} and ${resultIn(sql`r.result`, results)} ${order} limit ${streamLimit}`
      : sql`select ${accountLogUsernames.id} from ${accountLogUsernames} where ${usernamesWhere(filters)} ${order} limit ${streamLimit}`;

  if (firstPage && !filters.from && !filters.to) {
    // The first page's rows can only come from the `limit` streams with the newest rows: each
    // other stream has at least `limit` newer matches ahead of it.
    const newest = byPair ? sql`order by r.last_id desc` : sql`order by ${accountLogUsernames.lastId} desc nulls last`;
    return merged(sql`(${streamsOf(newest, limit)})`, streamColumns, match, { byUsername: true, byResult: byPair });
  }
  const streams = rowsOf<{ username_key?: number; id?: number; result?: string }>(
    await executor.execute(streamsOf(sql``, PER_STREAM_PROBE_LIMIT + 1)),
  );
  if (streams.length === 0) return undefined;
  // Many streams: matches are common, so walking an index from the cursor finds them soon: the
  // results' own indexes when results are chosen (they skip the other results), else the IDs.
  if (streams.length > PER_STREAM_PROBE_LIMIT) {
    return byPair ? byResults() : indexWalk();
  }
  const source = byPair
    ? sql`unnest(${intArray(streams.map((s) => Number(s.username_key)))}, ${textArray(streams.map((s) => s.result!))})`
    : sql`unnest(${intArray(streams.map((s) => Number(s.id)))})`;
  return merged(source, streamColumns, match, { byUsername: true, byResult: byPair });
}
