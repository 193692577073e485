"use client";

import { useSyncExternalStore } from "react";
import { formatInZone, formatUtc } from "@/lib/format/time";

// The viewer's zone and language don't change while the page is open.
const unchanging = () => () => {};
const viewerTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
const viewerLanguage = () => navigator.language;
const onServer = () => undefined;

/**
 * A log time in the viewer's zone, with the zone named ("2026-11-26 14:05:12 CET"); its IANA
 * name and the exact instant (ISO 8601, UTC) on hover. The server and a page without
 * JavaScript show UTC; the first render in the browser matches it, so hydration stays quiet,
 * and React then renders again with the browser's zone.
 */
export function LogTime({ at }: { at: Date }) {
  const timeZone = useSyncExternalStore(unchanging, viewerTimeZone, onServer);
  const language = useSyncExternalStore(unchanging, viewerLanguage, onServer);
  const iso = at.toISOString();
  return (
    <time
      dateTime={iso}
      title={timeZone ? `${iso} (UTC), shown in ${timeZone} time` : iso}
      className="whitespace-nowrap tabular-nums"
    >
      {timeZone ? formatInZone(at, timeZone, language) : formatUtc(at)}
    </time>
  );
}
