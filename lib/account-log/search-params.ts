import ipaddr from "ipaddr.js";
import { z } from "zod";
import { ACCOUNT_LOG_RESULTS, type AccountLogResult } from "@/db/schema";
import { normalizeUsername } from "@/lib/users/username";
import { storableText } from "./text";
import { canonicalTimeZone, instantFromLocalTime } from "./time-zone";

export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 200;
export const SEARCH_TERM_MAX = 256;

/** What selects log rows: the page, its export and its links share it. */
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
  /** The viewer's time zone, for reading and showing times without an offset. */
  tz?: string;
  /** Not from the URL: the search's username keys once looked up, when there are few. */
  usernameKeys?: number[];
};

export type AccountLogQuery = AccountLogFilters & { before?: number; after?: number; size: number };

type RawParams = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const all = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const idSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const sizeSchema = z.coerce.number().int().min(1).max(PAGE_SIZE_MAX);
const resultSchema = z.enum(ACCOUNT_LOG_RESULTS);

/** Dates from 1970 to 9999, with or without seconds, an offset or `Z`; a bare date is midnight. */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const TIME_TEXT_MAX = 64;

/**
 * An ISO 8601 date or time as an instant. Without an offset it is read in `timeZone` (the
 * viewer's, sent by the form) or UTC; undefined when it is not a real time.
 */
export function parseInstant(text: string, timeZone = "UTC"): Date | undefined {
  const match = ISO_8601.exec(text.trim().slice(0, TIME_TEXT_MAX));
  if (!match) return undefined;
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "0", offset] = match;
  const fields = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
    millisecond: Math.floor(Number(`0.${fraction}`) * 1000),
  };
  const check = new Date(Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second));
  // Rejects 2026-02-30, 25:00 and the like, which Date.UTC would roll over.
  if (
    fields.year < 1970 ||
    check.getUTCMonth() !== fields.month - 1 ||
    check.getUTCDate() !== fields.day ||
    check.getUTCHours() !== fields.hour ||
    check.getUTCMinutes() !== fields.minute ||
    check.getUTCSeconds() !== fields.second
  ) {
    return undefined;
  }
  if (!offset) return withinTimeLimits(instantFromLocalTime(fields, timeZone));
  const utc = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second, fields.millisecond);
  if (/^z$/i.test(offset)) return new Date(utc);
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})$/.exec(offset)!;
  if (Number(hours) > 23 || Number(minutes) > 59) return undefined;
  const offsetMs = (Number(hours) * 60 + Number(minutes)) * 60_000 * (sign === "-" ? -1 : 1);
  return withinTimeLimits(new Date(utc - offsetMs));
}

/** The first instant of 1970 and of 10000 (UTC): what PostgreSQL, ISO strings and the chart all handle. */
export const EARLIEST_INSTANT = new Date(Date.UTC(1970, 0, 1));
export const INSTANT_LIMIT = new Date(Date.UTC(10000, 0, 1));

/** An offset or a zone can move a time just past 1970 or 9999: such an instant is refused too. */
const withinTimeLimits = (instant: Date) =>
  instant >= EARLIEST_INSTANT && instant < INSTANT_LIMIT ? instant : undefined;

/** Dotted quads or IPv6: not the classful shorthands (`1.2.3`, `0x7f.1`) ipaddr.js also reads. */
const isAddress = (text: string) => ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);

/** An address or a CIDR network in canonical form (host bits cleared), or undefined. */
export function parseIpFilter(text: string): string | undefined {
  const value = text.trim();
  // A zone index (`fe80::1%eth0`) names an interface of the client, not an address in the log.
  if (!value || value.length > 64 || value.includes("%")) return undefined;
  if (!value.includes("/")) return isAddress(value) ? ipaddr.process(value).toString() : undefined;
  if (!isAddress(value.slice(0, value.indexOf("/"))) || !/^\d{1,3}$/.test(value.slice(value.indexOf("/") + 1))) return undefined;
  try {
    const [address, prefix] = ipaddr.parseCIDR(value);
    const network = address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(value) : ipaddr.IPv6.networkAddressFromCIDR(value);
    const full = address.kind() === "ipv4" ? 32 : 128;
    // A /32 (or /128) is one address: written as one, so it matches exactly.
    return prefix === full ? network.toString() : `${network.toString()}/${prefix}`;
  } catch {
    return undefined;
  }
}

/**
 * The page's URL parameters: `q`, `result` (repeatable), `from`, `to` (ISO 8601), `ip` (an
 * address or CIDR), `tz`, `size`, `before`, `after`. Anything invalid is left out and reported,
 * so a mangled link still shows a page and says what was ignored.
 */
export function parseAccountLogQuery(params: RawParams): { query: AccountLogQuery; problems: string[] } {
  const problems: string[] = [];
  // Only as much as could be kept is read: every step after this one costs the same for a search
  // of 300 characters as for one of 16,000 (the most a request line carries).
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
  const query: AccountLogQuery = {
    term,
    q: normalizeUsername(quoted ? quoted[1]! : term),
    exact: Boolean(quoted),
    results: [],
    size: PAGE_SIZE_DEFAULT,
  };

  const results = new Set<AccountLogResult>();
  for (const value of all(params.result).slice(0, ACCOUNT_LOG_RESULTS.length * 2)) {
    if (value === "") continue;
    const parsed = resultSchema.safeParse(value);
    if (parsed.success) results.add(parsed.data);
    else problems.push(`"${storableText(value).slice(0, 40)}" is not a result; it was ignored.`);
  }
  // Every result selected is the same as none: keep the URL and the counting path short.
  query.results = results.size === ACCOUNT_LOG_RESULTS.length ? [] : ACCOUNT_LOG_RESULTS.filter((result) => results.has(result));

  const tz = first(params.tz);
  if (tz) {
    const zone = canonicalTimeZone(tz);
    if (zone) query.tz = zone;
    else problems.push(`"${storableText(tz).slice(0, 40)}" is not a time zone; times without an offset are read as UTC.`);
  }
  for (const key of ["from", "to"] as const) {
    const value = first(params[key]);
    if (!value) continue;
    const instant = parseInstant(value, query.tz);
    if (instant) query[key] = instant;
    else problems.push(`"${key}" must be an ISO 8601 time from 1970 to 9999, such as 2026-11-26T09:30:00Z; it was ignored.`);
  }
  if (query.from && query.to && query.from >= query.to) {
    problems.push(`"from" must be earlier than "to"; the end of the range was ignored.`);
    delete query.to;
  }

  const ip = first(params.ip);
  if (ip) {
    const parsed = parseIpFilter(ip);
    if (parsed) query.ip = parsed;
    else problems.push(`"ip" must be an address such as 203.0.113.7 or a network such as 203.0.113.0/24; it was ignored.`);
  }

  const size = first(params.size);
  if (size !== undefined && size !== "") {
    const parsed = sizeSchema.safeParse(size);
    if (parsed.success) query.size = parsed.data;
    else problems.push(`Page size must be a whole number from 1 to ${PAGE_SIZE_MAX}; showing ${PAGE_SIZE_DEFAULT}.`);
  }
  for (const key of ["before", "after"] as const) {
    const value = first(params[key]);
    if (value === undefined || value === "") continue;
    const parsed = idSchema.safeParse(value);
    if (parsed.success) query[key] = parsed.data;
    else problems.push(`"${key}" must be a log ID; showing the newest entries.`);
  }
  if (query.before !== undefined && query.after !== undefined) {
    problems.push(`Use either "before" or "after", not both; showing the newest entries.`);
    delete query.before;
    delete query.after;
  }
  return { query, problems };
}

/** The URL parameters of a query, with defaults left out so links stay short. */
export function accountLogSearchParams(query: Partial<AccountLogQuery>): URLSearchParams {
  const params = new URLSearchParams();
  if (query.term) params.set("q", query.term);
  for (const result of query.results ?? []) params.append("result", result);
  if (query.from) params.set("from", query.from.toISOString());
  if (query.to) params.set("to", query.to.toISOString());
  if (query.ip) params.set("ip", query.ip);
  if (query.tz) params.set("tz", query.tz);
  if (query.size && query.size !== PAGE_SIZE_DEFAULT) params.set("size", String(query.size));
  if (query.before) params.set("before", String(query.before));
  if (query.after) params.set("after", String(query.after));
  return params;
}

/** The page's URL for a query. */
export function accountLogHref(query: Partial<AccountLogQuery>): string {
  const search = accountLogSearchParams(query).toString();
  return `/admin/account-logs${search ? `?${search}` : ""}`;
}

/** The filters alone: a link to the same selection from its first page. */
export function filtersOf({ term, q, exact, results, from, to, ip, tz }: AccountLogFilters): AccountLogFilters {
  return { term, q, exact, results, from, to, ip, tz };
}

/** The search that selects exactly one username: what a username links to. */
export const exactUsernameTerm = (username: string) => `"${username}"`;

export function hasFilters(filters: AccountLogFilters): boolean {
  return Boolean(filters.q || filters.results.length || filters.from || filters.to || filters.ip);
}

/** `%`, `_` and `\` match themselves in a LIKE pattern with the default escape character. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (char) => `\\${char}`);
}
