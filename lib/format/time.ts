import { localTimeOf } from "@/lib/account-log/time-zone";

/** "2026-11-26 13:05:12 UTC": what the server renders, and what a page without JavaScript keeps. */
export function formatUtc(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let cached = formatters.get(key);
  if (!cached) {
    cached = make();
    formatters.set(key, cached);
  }
  return cached;
}

function zoneName(at: Date, timeZone: string, locale: string | undefined): string {
  const make = (tag: string | undefined) => () => new Intl.DateTimeFormat(tag, { timeZone, timeZoneName: "short" });
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = formatter(`zone|${timeZone}|${locale ?? ""}`, make(locale)).formatToParts(at);
  } catch {
    // A malformed language tag from the browser: the English name will do.
    parts = formatter(`zone|${timeZone}|en-US`, make("en-US")).formatToParts(at);
  }
  return parts.find((part) => part.type === "timeZoneName")?.value ?? timeZone;
}

/**
 * "2026-11-26 14:05:12 CET": the wall-clock time in `timeZone` (an IANA name), digits in a fixed
 * order whatever the locale, and the zone's short name as `locale` writes it ("IST" in en-IN,
 * "GMT+5:30" in en-US). Falls back to UTC for a zone this runtime does not know.
 */
export function formatInZone(at: Date, timeZone: string, locale?: string): string {
  let clock: ReturnType<typeof localTimeOf>;
  try {
    clock = localTimeOf(at, timeZone);
  } catch {
    return formatUtc(at);
  }
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${clock.year}-${pad(clock.month)}-${pad(clock.day)} ${pad(clock.hour)}:${pad(clock.minute)}:${pad(clock.second)} ${zoneName(at, timeZone, locale)}`;
}
