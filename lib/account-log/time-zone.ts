/**
 * A zone's name, spelled as the zone database spells it when only the case differs
 * (`europe/berlin` → `Europe/Berlin`); an alias (`Asia/Kolkata`) stays as given. Undefined when
 * Intl knows no such zone.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (name.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(name)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
  } catch {
    return undefined;
  }
}

type LocalTime = { year: number; month: number; day: number; hour: number; minute: number; second: number; millisecond: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // Intl reads names case-insensitively, so a URL can name a zone in countless spellings:
    // the cache is bounded whatever arrives.
    if (formatters.size >= 1_000) formatters.clear();
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock time in a zone at an instant. */
export function localTimeOf(instant: Date, timeZone: string): LocalTime {
  const parts = Object.fromEntries(partsFormatter(timeZone).formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond: instant.getUTCMilliseconds(),
  };
}

function offsetAt(instant: number, timeZone: string): number {
  const local = localTimeOf(new Date(instant), timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.millisecond);
  return asUtc - instant;
}

/**
 * The instant a wall-clock time names in a zone. In a gap (clocks moved forward) it is the
 * time after the gap; in an overlap (clocks moved back) the earlier of the two.
 */
export function instantFromLocalTime(local: LocalTime, timeZone: string): Date {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.millisecond);
  const earlier = asUtc - offsetAt(asUtc - 86_400_000 / 2, timeZone);
  const later = asUtc - offsetAt(asUtc + 86_400_000 / 2, timeZone);
  for (const candidate of [Math.min(earlier, later), Math.max(earlier, later)]) {
    if (candidate + offsetAt(candidate, timeZone) === asUtc) return new Date(candidate);
  }
  return new Date(Math.max(earlier, later));
}

/** `YYYY-MM-DDTHH:mm` in a zone: the value of a datetime-local input. */
export function localInputValue(instant: Date, timeZone = "UTC"): string {
  const t = localTimeOf(instant, timeZone);
  const pad = (n: number) => String(n).padStart(2, "0");
  const seconds = t.second || t.millisecond ? `:${pad(t.second)}` : "";
  return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}${seconds}`;
}
