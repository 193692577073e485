import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { ACCOUNT_LOG_RESULTS, accountLogUsernames, type AccountLogResult } from "@/db/schema";
import { normalizeUsername } from "@/lib/users/username";
import {
  countryParamValues,
  escapeLike,
  parseCountryFilter,
  parseInstant,
  parseIpFilter,
  type CountryFilter,
} from "./filter-values";
import { storableText } from "./text";
import { canonicalTimeZone } from "./time-zone";

export const SEARCH_TERM_MAX = 256;

/** What selects log rows: the page, its count, its chart, its export and its links share it. */
export type AccountLogFilters = {
  /** The search as typed, for the search box. */
  term: string;
  /** The search normalized like sign-in usernames; "" for none. */
  q: string;
  /** A search in double quotes ("bob") is that username exactly; otherwise usernames containing it. */
  exact: boolean;
  /** Results to show; empty for every result. */
  results: AccountLogResult[];
  /** From this instant (inclusive)… */
  from?: Date;
  /** …to this one (exclusive). */
  to?: Date;
  /** One address (`203.0.113.7`) or a network (`203.0.113.0/24`), in canonical form. */
  ip?: string;
  /** The country stored with the row at sign-in: these codes, or every row but these. */
  country?: CountryFilter;
  /** The viewer's time zone, for reading and showing times without an offset. */
  tz?: string;
  /** Not from the URL: the search's username keys once looked up, when there are few. */
  usernameKeys?: number[];
};

/**
 * What a filter narrows, as the count plans know it: each plan says which of these its counters
 * or its scans cover, and applies the others as conditions on the rows.
 */
export type FilterDimension = "search" | "result" | "time" | "ip" | "country";

export type RawParams = Record<string, string | string[] | undefined>;

/** What an export selected, as it travels in the export and its log row. Times are ISO 8601 instants. */
export const exportFilterSchema = z.object({
  q: z.string(),
  exact: z.literal(true).optional(),
  results: z.array(z.enum(ACCOUNT_LOG_RESULTS)).optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  ip: z.string().optional(),
  /** As the URL writes it: `["DE", "FR"]` or `["!US"]`. */
  country: z.array(z.string().regex(/^!?[A-Z]{2}$/)).max(50).optional(),
});
export type ExportFilter = z.infer<typeof exportFilterSchema>;

/**
 * One filter, everything about it in one place: how the URL gives it (and what is wrong with
 * it), how it is written back, the rows it keeps, where the count plans find it, how an export
 * records it, and how a person reads it.
 */
type FilterDefinition = {
  dimension: FilterDimension | null;
  /** Its URL parameters; `repeated` ones may appear more than once. */
  params: readonly string[];
  repeated?: boolean;
  read: (params: RawParams, into: AccountLogFilters, problems: string[]) => void;
  write: (filters: AccountLogFilters, params: URLSearchParams) => void;
  isSet: (filters: AccountLogFilters) => boolean;
  /** The rows it keeps, on the log aliased `l`; undefined when it keeps every row. */
  condition: (filters: AccountLogFilters) => SQL | undefined;
  toExport: (filters: AccountLogFilters) => Partial<ExportFilter>;
  fromExport: (filter: ExportFilter) => Partial<AccountLogFilters>;
  describe: (filter: ExportFilter) => string | undefined;
};

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const all = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const resultSchema = z.enum(ACCOUNT_LOG_RESULTS);
/** An instant as a `timestamptz` parameter. */
export const iso = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/** The country stored with a row (alias `l`), none for an empty code: this exact expression is indexed. */
export const ROW_COUNTRY = sql.raw(`nullif(l.metadata->'location'->>'country', '')`);

/** `column in (…)`, for a non-empty list. */
export const sqlIn = (column: SQL, values: readonly string[]) => sql`${column} in (${sql.join(values.map((value) => sql`${value}`), sql`, `)})`;

/** An address column within an address or network. */
export const addressIn = (column: SQL, ip: string) => (ip.includes("/") ? sql`${column} <<= ${ip}::inet` : sql`${column} = ${ip}::inet`);

/** The usernames a search selects (on `account_log_usernames`): that name exactly, or every name containing it. */
export function usernameMatches({ q, exact }: Pick<AccountLogFilters, "q" | "exact">): SQL {
  if (exact) return sql`${accountLogUsernames.usernameNormalized} = ${q}`;
  return sql`${accountLogUsernames.usernameNormalized} like ${`%${q ? escapeLike(q) : ""}%`}`;
}

// A zero key never exists: it keeps the array literal typed when the search matches nobody.
export const keyArray = (keys: readonly number[]) => sql`array[${sql.join([0, ...keys].map((key) => sql`${key}`), sql`, `)}]::int[]`;

/** A condition that a username key column belongs to the search. */
export function keyOfSearch(column: SQL, filters: AccountLogFilters): SQL {
  return filters.usernameKeys
    ? sql`${column} = any(${keyArray(filters.usernameKeys)})`
    : sql`${column} in (select ${accountLogUsernames.id} from ${accountLogUsernames} where ${usernameMatches(filters)})`;
}

/** A country column (`ROW_COUNTRY`, or a counter's) within the filter; rows without a country pass an exclusion. */
export function countryIn(column: SQL, { exclude, codes }: CountryFilter): SQL {
  return exclude ? sql`(${column} is null or not ${sqlIn(column, codes)})` : sqlIn(column, codes);
}

const search: FilterDefinition = {
  dimension: "search",
  params: ["q"],
  read(params, into, problems) {
    // Only as much as could be kept is read: every step after this one costs the same for a
    // search of 300 characters as for one of 16,000 (the most a request line carries).
    let term = storableText((first(params.q) ?? "").slice(0, SEARCH_TERM_MAX * 2 + 5));
    // Counted in code points, so a cut never splits a character; the quotes of an exact search
    // do not count, so every username can be searched exactly.
    const codePoints = [...term];
    const limit = /^\s*".+"\s*$/su.test(term) ? SEARCH_TERM_MAX + 2 : SEARCH_TERM_MAX;
    if (codePoints.length > limit) {
      problems.push(`The search was longer than ${SEARCH_TERM_MAX} characters and was shortened.`);
      term = codePoints.slice(0, SEARCH_TERM_MAX).join("");
    }
    const quoted = /^\s*"(.+)"\s*$/su.exec(term);
    into.term = term;
    into.q = normalizeUsername(quoted ? quoted[1]! : term);
    into.exact = Boolean(quoted);
  },
  write(filters, params) {
    if (filters.term) params.set("q", filters.term);
  },
  isSet: (filters) => Boolean(filters.q),
  condition: (filters) => (filters.q ? keyOfSearch(sql`l.username_key`, filters) : undefined),
  toExport: (filters) => ({ q: filters.q, ...(filters.exact ? { exact: true as const } : {}) }),
  fromExport: (filter) => ({ term: filter.exact ? `"${filter.q}"` : filter.q, q: filter.q, exact: filter.exact ?? false }),
  describe: (filter) => (filter.q ? (filter.exact ? `username “${filter.q}”` : `usernames containing “${filter.q}”`) : undefined),
};

const result: FilterDefinition = {
  dimension: "result",
  params: ["result"],
  repeated: true,
  read(params, into, problems) {
    const results = new Set<AccountLogResult>();
    for (const value of all(params.result).slice(0, ACCOUNT_LOG_RESULTS.length * 2)) {
      if (value === "") continue;
      const parsed = resultSchema.safeParse(value);
      if (parsed.success) results.add(parsed.data);
      else problems.push(`"${storableText(value).slice(0, 40)}" is not a result; it was ignored.`);
    }
    // Every result selected is the same as none: keep the URL and the counting path short.
    into.results = results.size === ACCOUNT_LOG_RESULTS.length ? [] : ACCOUNT_LOG_RESULTS.filter((r) => results.has(r));
  },
  write(filters, params) {
    for (const r of filters.results) params.append("result", r);
  },
  isSet: (filters) => filters.results.length > 0,
  condition: (filters) => (filters.results.length ? sqlIn(sql`l.result`, filters.results) : undefined),
  toExport: (filters) => (filters.results.length ? { results: filters.results } : {}),
  fromExport: (filter) => ({ results: filter.results ?? [] }),
  describe: (filter) => (filter.results?.length ? `results ${filter.results.join(", ")}` : undefined),
};

/** Not a filter: the zone times without an offset are read in. Read before the times. */
const timeZone: FilterDefinition = {
  dimension: null,
  params: ["tz"],
  read(params, into, problems) {
    const tz = first(params.tz);
    if (!tz) return;
    const zone = canonicalTimeZone(tz);
    if (zone) into.tz = zone;
    else problems.push(`"${storableText(tz).slice(0, 40)}" is not a time zone; times without an offset are read as UTC.`);
  },
  write(filters, params) {
    if (filters.tz) params.set("tz", filters.tz);
  },
  isSet: () => false,
  condition: () => undefined,
  toExport: () => ({}),
  fromExport: () => ({}),
  describe: () => undefined,
};

const time: FilterDefinition = {
  dimension: "time",
  params: ["from", "to"],
  read(params, into, problems) {
    for (const key of ["from", "to"] as const) {
      const value = first(params[key]);
      if (!value) continue;
      const instant = parseInstant(value, into.tz);
      if (instant) into[key] = instant;
      else problems.push(`"${key}" must be an ISO 8601 time from 1970 to 9999, such as 2026-11-26T09:30:00Z; it was ignored.`);
    }
    if (into.from && into.to && into.from >= into.to) {
      problems.push(`"from" must be earlier than "to"; the end of the range was ignored.`);
      delete into.to;
    }
  },
  write(filters, params) {
    if (filters.from) params.set("from", filters.from.toISOString());
    if (filters.to) params.set("to", filters.to.toISOString());
  },
  isSet: (filters) => Boolean(filters.from || filters.to),
  condition(filters) {
    const bounds = [
      ...(filters.from ? [sql`l.occurred_at >= ${iso(filters.from)}`] : []),
      ...(filters.to ? [sql`l.occurred_at < ${iso(filters.to)}`] : []),
    ];
    return bounds.length ? sql.join(bounds, sql` and `) : undefined;
  },
  toExport: (filters) => ({
    ...(filters.from ? { from: filters.from.toISOString() } : {}),
    ...(filters.to ? { to: filters.to.toISOString() } : {}),
  }),
  fromExport: (filter) => ({ from: filter.from ? new Date(filter.from) : undefined, to: filter.to ? new Date(filter.to) : undefined }),
  describe: (filter) => [filter.from && `from ${filter.from}`, filter.to && `to ${filter.to}`].filter(Boolean).join("; ") || undefined,
};

const ip: FilterDefinition = {
  dimension: "ip",
  params: ["ip"],
  read(params, into, problems) {
    const value = first(params.ip);
    if (!value) return;
    const parsed = parseIpFilter(value);
    if (parsed) into.ip = parsed;
    else problems.push(`"ip" must be an address such as 203.0.113.7 or a network such as 203.0.113.0/24; it was ignored.`);
  },
  write(filters, params) {
    if (filters.ip) params.set("ip", filters.ip);
  },
  isSet: (filters) => Boolean(filters.ip),
  condition: (filters) => (filters.ip ? addressIn(sql`l.ip`, filters.ip) : undefined),
  toExport: (filters) => (filters.ip ? { ip: filters.ip } : {}),
  fromExport: (filter) => ({ ip: filter.ip }),
  describe: (filter) => (filter.ip ? `address ${filter.ip}` : undefined),
};

const country: FilterDefinition = {
  dimension: "country",
  params: ["country"],
  repeated: true,
  read(params, into, problems) {
    const parsed = parseCountryFilter(all(params.country));
    problems.push(...parsed.problems);
    if (parsed.filter) into.country = parsed.filter;
  },
  write(filters, params) {
    for (const value of filters.country ? countryParamValues(filters.country) : []) params.append("country", value);
  },
  isSet: (filters) => Boolean(filters.country),
  condition: (filters) => (filters.country ? countryIn(ROW_COUNTRY, filters.country) : undefined),
  toExport: (filters) => (filters.country ? { country: countryParamValues(filters.country) } : {}),
  fromExport: (filter) => (filter.country ? { country: parseCountryFilter(filter.country).filter } : {}),
  describe: (filter) => {
    if (!filter.country?.length) return undefined;
    const excluded = filter.country[0]!.startsWith("!");
    return `${excluded ? "countries other than" : "countries"} ${filter.country.map((code) => code.replace("!", "")).join(", ")}`;
  },
};

/** Every filter, in the order the URL lists them. */
export const ACCOUNT_LOG_FILTERS = [search, result, time, ip, country, timeZone] as const;

/** Reading order: the zone first, so the times are read in it. */
const READ_ORDER = [timeZone, search, result, time, ip, country] as const;

/** The URL parameters the filters read, and whether each may repeat. */
export const FILTER_PARAMS: readonly { name: string; repeated: boolean }[] = ACCOUNT_LOG_FILTERS.flatMap((filter) =>
  filter.params.map((name) => ({ name, repeated: filter.repeated ?? false })),
);

export const NO_FILTERS: AccountLogFilters = { term: "", q: "", exact: false, results: [] };

/** The filters a URL's parameters give, with what was wrong in them (each wrong one is left out). */
export function readFilters(params: RawParams): { filters: AccountLogFilters; problems: string[] } {
  const filters: AccountLogFilters = { ...NO_FILTERS, results: [] };
  const problems: string[] = [];
  for (const filter of READ_ORDER) filter.read(params, filters, problems);
  return { filters, problems };
}

export function writeFilters(filters: Partial<AccountLogFilters>, params = new URLSearchParams()): URLSearchParams {
  const complete = { ...NO_FILTERS, ...filters, results: filters.results ?? [] };
  for (const filter of ACCOUNT_LOG_FILTERS) filter.write(complete, params);
  return params;
}

/** The filters alone, without paging or looked-up keys: a link to the same selection from its first page. */
export function filtersOf(query: AccountLogFilters): AccountLogFilters {
  const { term, q, exact, results, from, to, ip, country, tz } = query;
  return { term, q, exact, results, from, to, ip, country, tz };
}

export const hasFilters = (filters: AccountLogFilters) => ACCOUNT_LOG_FILTERS.some((filter) => filter.isSet(filters));

/** Which dimensions the filters narrow. */
export function activeDimensions(filters: AccountLogFilters): Set<FilterDimension> {
  return new Set(ACCOUNT_LOG_FILTERS.flatMap((filter) => (filter.dimension && filter.isSet(filters) ? [filter.dimension] : [])));
}

/** The condition on the log (alias `l`) of one dimension's filter; undefined when it is not set. */
export function conditionOf(dimension: FilterDimension, filters: AccountLogFilters): SQL | undefined {
  return ACCOUNT_LOG_FILTERS.find((filter) => filter.dimension === dimension)!.condition(filters);
}

/** The conditions on the log (alias `l`) of every set filter but those a plan already covers. */
export function filterConditions(filters: AccountLogFilters, covered: Iterable<FilterDimension> = []): SQL[] {
  const skip = new Set(covered);
  return ACCOUNT_LOG_FILTERS.flatMap((filter) => {
    if (!filter.dimension || skip.has(filter.dimension)) return [];
    const condition = filter.condition(filters);
    return condition ? [condition] : [];
  });
}

export function exportFilterOf(filters: AccountLogFilters): ExportFilter {
  return Object.assign({ q: "" }, ...ACCOUNT_LOG_FILTERS.map((filter) => filter.toExport(filters))) as ExportFilter;
}

export function filtersOfExport(filter: ExportFilter): AccountLogFilters {
  return Object.assign({ ...NO_FILTERS, results: [] }, ...ACCOUNT_LOG_FILTERS.map((definition) => definition.fromExport(filter)));
}

/** An export filter in words: "usernames containing “bob”; results logout". */
export function describeExportFilter(filter: ExportFilter): string {
  const parts = ACCOUNT_LOG_FILTERS.flatMap((definition) => definition.describe(filter) ?? []);
  return parts.length ? parts.join("; ") : "every row";
}

/** A search of one username exactly: what a username links to. */
export const exactUsernameTerm = (username: string) => `"${username}"`;
