"use client";

import { useId, type CSSProperties, type ReactNode } from "react";
import { ScrollRegion } from "./scroll-region";

export type ActivityBucket = { start: Date; end: Date; successes: number; failures: number };

type Props = {
  buckets: ActivityBucket[];
  /** The bucket size in words: "hour", "day". */
  bucketLabel: string;
  /** What the chart shows: "Sign-ins, last 7 days, by day". */
  caption: string;
};

// The plot's own units; the SVG stretches to the width of its container.
export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 160;
const BAR_FILL = 0.8;
const MAX_TICKS = 6;

// Blue and orange stay apart for red-green colour blindness; failures are also hatched and on
// top. All three are at least 5:1 against white, above the 3:1 asked of graphics.
const SUCCESS_COLOUR = "#1d4ed8";
const FAILURE_COLOUR = "#c2410c";
const FAILURE_STRIPE = "#7c2d12";

const DAY_MS = 86_400_000;
const count = (n: number) => n.toLocaleString("en-US");
const isoDate = (at: Date) => at.toISOString().slice(0, 10);
const isoMinute = (at: Date) => at.toISOString().slice(11, 16);
const startsDay = (at: Date) => at.getTime() % DAY_MS === 0;

/** "2026-11-26 14:00–15:00 UTC", "2026-11-26 UTC", "2026-11-24 – 2026-11-26 UTC", or a span across days. */
export function bucketPeriod({ start, end }: Pick<ActivityBucket, "start" | "end">): string {
  const lastInstant = new Date(end.getTime() - 1);
  if (startsDay(start) && startsDay(end) && end.getTime() - start.getTime() >= DAY_MS) {
    return isoDate(lastInstant) === isoDate(start) ? `${isoDate(start)} UTC` : `${isoDate(start)} – ${isoDate(lastInstant)} UTC`;
  }
  if (isoDate(lastInstant) === isoDate(start)) {
    return `${isoDate(start)} ${isoMinute(start)}–${startsDay(end) ? "24:00" : isoMinute(end)} UTC`;
  }
  return `${isoDate(start)} ${isoMinute(start)} – ${isoDate(end)} ${isoMinute(end)} UTC`;
}

/**
 * A short axis label: the date for a bucket that starts a day (year and month when buckets span
 * months, so years apart stay apart), else the hour. The first bucket is whole, so it gives the size.
 */
function tickLabel(bucket: ActivityBucket, first: ActivityBucket): string {
  if (!startsDay(bucket.start)) return isoMinute(bucket.start);
  return first.end.getTime() - first.start.getTime() >= 28 * DAY_MS ? isoDate(bucket.start).slice(0, 7) : isoDate(bucket.start).slice(5);
}

/** A few buckets to label: the starts of days when there are some, else evenly spaced. */
function tickIndexes(buckets: ActivityBucket[]): number[] {
  const dayStarts = buckets.flatMap((bucket, index) => (startsDay(bucket.start) ? [index] : []));
  const candidates = dayStarts.length >= 2 ? dayStarts : buckets.map((_, index) => index);
  const step = Math.ceil(candidates.length / MAX_TICKS);
  return candidates.filter((_, k) => k % step === 0);
}

const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;
/** "24 hours", "1 day", "57 periods of 3 hours". */
const bucketCount = (n: number, label: string) =>
  /^\d/.test(label) ? plural(n, `period of ${label}`, `periods of ${label}`) : plural(n, label, `${label}s`);

/** Bar geometry in plot units, rounded to 0.01: heights are proportional to the peak total. */
export function barGeometry(buckets: ActivityBucket[]) {
  const peak = Math.max(0, ...buckets.map((b) => b.successes + b.failures));
  const slot = buckets.length > 0 ? CHART_WIDTH / buckets.length : 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    peak,
    bars: buckets.map((bucket, index) => {
      const successHeight = peak > 0 ? round((bucket.successes / peak) * CHART_HEIGHT) : 0;
      const failureHeight = peak > 0 ? round((bucket.failures / peak) * CHART_HEIGHT) : 0;
      return {
        successY: round(CHART_HEIGHT - successHeight),
        failureY: round(CHART_HEIGHT - successHeight - failureHeight),
        x: round(index * slot + (slot * (1 - BAR_FILL)) / 2),
        slotX: round(index * slot),
        slot: round(slot),
        width: round(slot * BAR_FILL),
        successHeight,
        failureHeight,
      };
    }),
  };
}

type Bar = ReturnType<typeof barGeometry>["bars"][number];

/**
 * One path per series instead of a rectangle per bar: a chart of 60 buckets stays a handful of
 * elements for the page to render and send.
 */
export function barsPath(bars: Bar[], series: "success" | "failure"): string {
  return bars
    .flatMap((bar) => {
      const [y, height] = series === "success" ? [bar.successY, bar.successHeight] : [bar.failureY, bar.failureHeight];
      return height > 0 ? [`M${bar.x} ${y}h${bar.width}v${height}h${-bar.width}z`] : [];
    })
    .join("");
}

function Swatch({ fill, children }: { fill: string; children?: ReactNode }) {
  return (
    <svg aria-hidden="true" width="14" height="14" viewBox="0 0 14 14" className="inline-block shrink-0">
      {children}
      <rect width="14" height="14" fill={fill} />
    </svg>
  );
}

function HatchPattern({ id }: { id: string }) {
  return (
    <pattern id={id} patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
      <rect width="6" height="6" fill={FAILURE_COLOUR} />
      <rect width="2" height="6" fill={FAILURE_STRIPE} />
    </pattern>
  );
}

function tickStyle(index: number, n: number): CSSProperties {
  const centre = ((index + 0.5) / n) * 100;
  // Labels at the very edges stay inside the chart instead of being cut in half.
  if (centre < 8) return { left: `${(index / n) * 100}%` };
  if (centre > 92) return { right: `${((n - index - 1) / n) * 100}%` };
  return { left: `${centre}%`, transform: "translateX(-50%)" };
}

/**
 * Sign-ins over time, successes and failures stacked, drawn on the server as SVG. Hovering a
 * bar shows its exact values; the same numbers are in a table under "Chart data". A client
 * component only so that the page sends its buckets, not the hundreds of elements drawn from
 * them; it has no state.
 */
export function ActivityChart({ buckets, bucketLabel, caption }: Props) {
  const hatchId = `failures-${useId().replace(/[^\w-]/g, "")}`;
  const { peak, bars } = barGeometry(buckets);
  const successes = buckets.reduce((sum, b) => sum + b.successes, 0);
  const failures = buckets.reduce((sum, b) => sum + b.failures, 0);
  const peakBucket = buckets.find((b) => b.successes + b.failures === peak);
  const summary =
    `${caption}: ${plural(successes + failures, "sign-in", "sign-ins")} in ${bucketCount(buckets.length, bucketLabel)}, ` +
    `${plural(successes, "success", "successes")} and ${plural(failures, "failure", "failures")}` +
    (peakBucket && peak > 0 ? `; peak ${count(peak)} in ${bucketPeriod(peakBucket)}.` : ".");

  return (
    <figure className="rounded border border-slate-200 bg-white p-3 text-sm text-slate-700" data-testid="activity-chart">
      <figcaption className="font-semibold text-slate-900">{caption}</figcaption>
      {peak === 0 ? (
        <p className="mt-2 text-slate-700" data-testid="activity-chart-empty">
          No sign-ins in this period.
        </p>
      ) : (
        <>
          <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-xs" aria-hidden="true">
            <li className="flex items-center gap-1">
              <Swatch fill={SUCCESS_COLOUR} /> Successes
            </li>
            <li className="flex items-center gap-1">
              <Swatch fill={`url(#${hatchId}-legend)`}>
                <defs>
                  <HatchPattern id={`${hatchId}-legend`} />
                </defs>
              </Swatch>{" "}
              Failures (hatched, on top)
            </li>
            <li>Times in UTC</li>
          </ul>
          <div className="mt-2 grid grid-cols-[auto_1fr] gap-x-2">
            <div className="flex h-40 flex-col justify-between text-right text-xs tabular-nums" aria-hidden="true">
              <span className="-translate-y-1/2" data-testid="activity-chart-max">
                {count(peak)}
              </span>
              <span className="translate-y-1/2">0</span>
            </div>
            <svg
              role="img"
              aria-label={summary}
              viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`}
              preserveAspectRatio="none"
              className="block h-40 w-full overflow-visible"
            >
              <defs>
                <HatchPattern id={hatchId} />
              </defs>
              <line x1="0" x2={CHART_WIDTH} y1="0" y2="0" stroke="#cbd5e1" strokeDasharray="4 4" vectorEffect="non-scaling-stroke" />
              <path data-series="successes" d={barsPath(bars, "success")} fill={SUCCESS_COLOUR} />
              <path data-series="failures" d={barsPath(bars, "failure")} fill={`url(#${hatchId})`} />
              {/* On top of the bars, so hovering anywhere in a bucket's column shows its values. */}
              {bars.map((bar, index) => {
                const bucket = buckets[index]!;
                if (bucket.successes + bucket.failures === 0) return null;
                return (
                  <rect key={bar.slotX} x={bar.slotX} width={bar.slot} y="0" height={CHART_HEIGHT} className="fill-transparent hover:fill-slate-900/10">
                    <title>{`${bucketPeriod(bucket)}: ${plural(bucket.successes, "success", "successes")}, ${plural(bucket.failures, "failure", "failures")}`}</title>
                  </rect>
                );
              })}
              <line x1="0" x2={CHART_WIDTH} y1={CHART_HEIGHT} y2={CHART_HEIGHT} stroke="#475569" vectorEffect="non-scaling-stroke" />
            </svg>
            <div />
            <div className="relative mt-1 h-4 text-xs tabular-nums" aria-hidden="true">
              {tickIndexes(buckets).map((index) => (
                <span key={index} className="absolute top-0 whitespace-nowrap" style={tickStyle(index, buckets.length)}>
                  {tickLabel(buckets[index]!, buckets[0]!)}
                </span>
              ))}
            </div>
          </div>
        </>
      )}
      {buckets.length > 0 && (
        <details className="mt-2">
          <summary className="cursor-pointer text-blue-800 underline">Chart data</summary>
          <ScrollRegion label="Chart data" className="mt-1">
            {/* Cell styles are set once on the table: it can have 60 rows. */}
            <table className="text-left text-xs tabular-nums [&_td]:text-right [&_:is(th,td)]:pr-4 [&_thead_th]:font-semibold [&_tbody_th]:font-normal">
              <caption className="sr-only">{caption}</caption>
              <thead>
                <tr>
                  <th scope="col">Period (UTC)</th>
                  <th scope="col" className="text-right">
                    Successes
                  </th>
                  <th scope="col" className="text-right">
                    Failures
                  </th>
                  <th scope="col" className="text-right">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {buckets.map((bucket) => (
                  <tr key={bucket.start.toISOString()}>
                    <th scope="row">{bucketPeriod(bucket)}</th>
                    <td>{count(bucket.successes)}</td>
                    <td>{count(bucket.failures)}</td>
                    <td>{count(bucket.successes + bucket.failures)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </details>
      )}
    </figure>
  );
}
