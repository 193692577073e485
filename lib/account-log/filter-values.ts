import ipaddr from "ipaddr.js";
import { isRegionCode } from "@/lib/ip-location/locate";
import { storableText } from "./text";
import { instantFromLocalTime } from "./time-zone";

/** Dates from 1970 to 9999, with or without seconds, an offset or `Z`; a bare date is midnight. */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const TIME_TEXT_MAX = 64;

/** The first instant of 1970 and of 10000 (UTC): what PostgreSQL, ISO strings and the chart all handle. */
export const EARLIEST_INSTANT = new Date(Date.UTC(1970, 0, 1));
export const INSTANT_LIMIT = new Date(Date.UTC(10000, 0, 1));

/** An offset or a zone can move a time just past 1970 or 9999: such an instant is refused too. */
const withinTimeLimits = (instant: Date) =>
  instant >= EARLIEST_INSTANT && instant < INSTANT_LIMIT ? instant : undefined;

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
 * The country filter: rows whose stored country is one of `codes`, or (`exclude`) every other
 * row, those without a country included.
 */
export type CountryFilter = { exclude: boolean; codes: string[] };

/** More codes than there are countries is not a filter anyone means. */
export const COUNTRY_CODES_MAX = 50;

/** An ISO 3166-1 alpha-2 code that names a region (`DE`, `XK`), upper-cased; undefined otherwise. */
export function countryCode(text: string): string | undefined {
  const code = text.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) && isRegionCode(code) ? code : undefined;
}

/**
 * Country codes as the URL or the form give them: repeated, or several in one value separated by
 * spaces or commas; `!XX` excludes. With codes to include, an excluded code only leaves that list.
 */
export function parseCountryFilter(values: readonly string[]): { filter?: CountryFilter; problems: string[] } {
  const problems: string[] = [];
  const include = new Set<string>();
  const exclude = new Set<string>();
  const words = values
    .slice(0, COUNTRY_CODES_MAX)
    .flatMap((value) => value.slice(0, COUNTRY_CODES_MAX * 4).split(/[\s,]+/))
    .filter(Boolean);
  for (const word of words.slice(0, COUNTRY_CODES_MAX)) {
    const excluded = word.startsWith("!");
    const code = countryCode(excluded ? word.slice(1) : word);
    if (!code) problems.push(`"${storableText(word).slice(0, 12)}" is not an ISO 3166 country code such as DE, or !DE to exclude one; it was ignored.`);
    else (excluded ? exclude : include).add(code);
  }
  if (words.length > COUNTRY_CODES_MAX) problems.push(`Only the first ${COUNTRY_CODES_MAX} country codes were read.`);
  const sorted = (codes: Iterable<string>) => [...codes].sort();
  if (include.size) {
    const codes = sorted([...include].filter((code) => !exclude.has(code)));
    if (codes.length) return { filter: { exclude: false, codes }, problems };
    problems.push("Every country asked for was also excluded; the country filter was ignored.");
    return { problems };
  }
  return exclude.size ? { filter: { exclude: true, codes: sorted(exclude) }, problems } : { problems };
}

/** The filter as the URL writes it: `DE`, `FR`, or `!US`. */
export const countryParamValues = ({ exclude, codes }: CountryFilter) => codes.map((code) => (exclude ? `!${code}` : code));

/** `%`, `_` and `\` match themselves in a LIKE pattern with the default escape character. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (char) => `\\${char}`);
}
