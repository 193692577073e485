import { activeDimensions, type AccountLogFilters, type FilterDimension } from "./filters";

/**
 * How the log is read for a set of filters: which counters give the Number of Logs, and which
 * index scans give a page of rows. Choosing is pure (filters and looked-up facts in, a plan out);
 * `selection.ts` has one SQL emitter per plan. A combination no fast plan covers gets the
 * fallback, which applies every filter's condition in one scan and is always correct: the
 * property test compares every plan with it.
 */

/** Above this many streams (usernames, pairs of a username, address or country and a result), one index walk beats a probe each. */
export const PER_STREAM_PROBE_LIMIT = 200;

/**
 * The IDs a time range's rows lie between (`lo`–`hi`), and within them the IDs no row outside the
 * range can have (strictly between `outsideBelow` and `outsideAbove`), so counting those needs no
 * look at each row's time. IDs follow time closely, so in practice only a partial hour at each
 * end is checked row by row.
 */
export type Span = {
  lo: number;
  hi: number;
  outsideBelow: number;
  outsideAbove: number;
  newestId: number;
  /** Every row of the log, and every row written later, is in the range. */
  holdsWholeLog: boolean;
  /**
   * The months of sealing the span's IDs were sealed in (the log's partitions): from the first,
   * and before the month after the last unless that is the newest (rows still arrive in it).
   */
  sealed?: { from: string; before: string | null };
};
/** A time range's span: undefined without a range (or one holding the whole log), null when no row can be in it. */
export type IdSpan = Span | null;

export type CountPlan =
  /** The time range holds no row. */
  | { kind: "nothing" }
  /** A search and results over the whole log: the counters per username, per username and result, per hour and result, or the total. */
  | { kind: "counters"; source: "total" | "usernames" | "results" | "username results" }
  /** An address or network (and results) over the whole log: the counters per address and result. */
  | { kind: "address counters" }
  /** A time range (and results): whole hours from the hourly counters, partial hours row by row. */
  | { kind: "hours" }
  /** Countries (and results) over the whole log: the counters per country and result. */
  | { kind: "country counters" }
  /** Countries (and results) in a time range: the hourly counters per country, partial hours row by row. */
  | { kind: "country hours" }
  /** A search and results over most of the log: their counters less the rows outside the range's inner IDs. */
  | { kind: "counters less edges"; span: Span }
  /** An address or network in a time range: an index-only count per address and result within the inner IDs. */
  | { kind: "address pairs in span"; span: Span }
  /** Anything else in a time range: the inner IDs by every other condition, the edge hours by time too. */
  | { kind: "span"; span: Span; resultsFirst: boolean }
  /** Every condition, one count. */
  | { kind: "fallback" };

export type AddressPair = { ip: string; result: string };
export type UsernameStream = { key: number; result?: string };
export type CountryPair = { country: string | null; result: string };
/** Streams looked up before choosing: undefined when not looked up, "many" past the probe limit. */
export type Streams<T> = readonly T[] | "many" | undefined;

/** What the chooser needs to know that the filters alone do not say. */
export type SelectionFacts = {
  span: IdSpan | undefined;
  addressPairs?: Streams<AddressPair>;
  usernameStreams?: Streams<UsernameStream>;
  countryPairs?: Streams<CountryPair>;
};

export type Cursor = { before?: number; after?: number };

export type RowPlan =
  | { kind: "nothing" }
  /** The ID index from the cursor, within the span, with every condition. */
  | { kind: "id walk" }
  /** One ordered scan per result (the `(result, id)` index), merged. */
  | { kind: "result streams" }
  /** One ordered scan per address and result: the pairs with the newest rows, or those listed. */
  | { kind: "address pairs"; pairs: "newest" | readonly AddressPair[] }
  /** One ordered scan per username (and result): those with the newest rows, or those listed. */
  | { kind: "username streams"; byResult: boolean; streams: "newest" | readonly UsernameStream[] }
  /** One ordered scan per country (or no country) and result. */
  | { kind: "country pairs"; pairs: readonly CountryPair[] }
  /** The ID index from the cursor, with every condition. */
  | { kind: "fallback" };

/** The dimensions a plan must cover, given the span: a range holding the whole log narrows nothing. */
function dimensionsOf(filters: AccountLogFilters, span: IdSpan | undefined): Set<FilterDimension> {
  const dimensions = activeDimensions(filters);
  if (span === undefined) dimensions.delete("time");
  return dimensions;
}

const only = (dimensions: Set<FilterDimension>, ...allowed: FilterDimension[]) => [...dimensions].every((d) => allowed.includes(d));

export function chooseCountPlan(filters: AccountLogFilters, span: IdSpan | undefined): CountPlan {
  if (span === null) return { kind: "nothing" };
  const dimensions = dimensionsOf(filters, span);
  const has = (dimension: FilterDimension) => dimensions.has(dimension);
  if (!span) {
    if (only(dimensions, "search", "result")) {
      const source = has("search") ? (has("result") ? "username results" : "usernames") : has("result") ? "results" : "total";
      return { kind: "counters", source };
    }
    if (only(dimensions, "ip", "result")) return { kind: "address counters" };
  }
  if (has("country") && only(dimensions, "country", "result", "time")) return { kind: has("time") ? "country hours" : "country counters" };
  if (only(dimensions, "result", "time")) return { kind: "hours" };
  if (!span) return { kind: "fallback" };
  const innerWidth = span.outsideAbove - span.outsideBelow;
  if (only(dimensions, "search", "result", "time") && innerWidth > span.newestId - innerWidth) {
    return { kind: "counters less edges", span };
  }
  if (has("ip") && only(dimensions, "ip", "result", "time")) return { kind: "address pairs in span", span };
  // A search of many usernames with results: the results' own index first, when they are rare.
  const resultsFirst = has("search") && !filters.usernameKeys && has("result") && !has("ip");
  return { kind: "span", span, resultsFirst };
}

/** Which streams the row plan may need looked up first: none on a first page that the counters order. */
export function streamsToLookUp(filters: AccountLogFilters, span: IdSpan | undefined, cursor: Cursor): Set<"address" | "username" | "country"> {
  const wanted = new Set<"address" | "username" | "country">();
  if (span === null) return wanted;
  const dimensions = dimensionsOf(filters, span);
  const firstPage = cursor.before === undefined && cursor.after === undefined;
  const newestFirst = firstPage && !dimensions.has("time");
  if (only(dimensions, "ip", "result", "time") && dimensions.has("ip") && !newestFirst) wanted.add("address");
  if (only(dimensions, "search", "result", "time") && dimensions.has("search") && !newestFirst) wanted.add("username");
  if (only(dimensions, "country", "result", "time") && dimensions.has("country")) wanted.add("country");
  return wanted;
}

export function chooseRowPlan(filters: AccountLogFilters, facts: SelectionFacts, cursor: Cursor): RowPlan {
  const { span } = facts;
  if (span === null) return { kind: "nothing" };
  const dimensions = dimensionsOf(filters, span);
  const has = (dimension: FilterDimension) => dimensions.has(dimension);
  const firstPage = cursor.before === undefined && cursor.after === undefined;
  // Past the probe limit, matches are common: walking an index from the cursor finds them soon.
  const walk = (): RowPlan => (has("result") ? { kind: "result streams" } : span ? { kind: "id walk" } : { kind: "fallback" });

  if (has("ip") && only(dimensions, "ip", "result", "time")) {
    // A first page comes from the pairs with the newest rows: each other pair has at least a
    // page of newer matches ahead of it.
    if (firstPage && !has("time")) return { kind: "address pairs", pairs: "newest" };
    const pairs = facts.addressPairs;
    if (pairs === undefined || pairs === "many") return walk();
    return pairs.length ? { kind: "address pairs", pairs } : { kind: "nothing" };
  }
  if (has("country") && only(dimensions, "country", "result", "time")) {
    const pairs = facts.countryPairs;
    if (pairs === undefined || pairs === "many") return walk();
    return pairs.length ? { kind: "country pairs", pairs } : { kind: "nothing" };
  }
  if (has("search") && only(dimensions, "search", "result", "time")) {
    const byResult = has("result");
    if (firstPage && !has("time")) return { kind: "username streams", byResult, streams: "newest" };
    const streams = facts.usernameStreams;
    if (streams === undefined || streams === "many") return walk();
    return streams.length ? { kind: "username streams", byResult, streams } : { kind: "nothing" };
  }
  if (only(dimensions, "result", "time") && has("result")) return { kind: "result streams" };
  return span ? { kind: "id walk" } : { kind: "fallback" };
}
