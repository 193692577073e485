import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ActivityChart, bucketPeriod, CHART_HEIGHT, type ActivityBucket } from "@/components/account-logs/activity-chart";
import { BUCKET_CEILING, BUCKET_SIZES, chartRange, DEFAULT_ACTIVITY_MS, emptyBuckets, MAX_BUCKETS } from "@/lib/account-log/activity";

const HOUR = 3_600_000;
const start = Date.parse("2026-11-26T12:00:00Z");

function hourly(counts: [successes: number, failures: number][]): ActivityBucket[] {
  return counts.map(([successes, failures], i) => ({
    start: new Date(start + i * HOUR),
    end: new Date(start + (i + 1) * HOUR),
    successes,
    failures,
  }));
}

function render(buckets: ActivityBucket[]) {
  return renderToStaticMarkup(<ActivityChart buckets={buckets} bucketLabel="hour" caption="Sign-ins, last 4 hours, by hour" />);
}

/** Heights of the bars of one series, in bucket order: each bar is a closed "M x y h w v height h -w z". */
function heights(html: string, series: "successes" | "failures"): number[] {
  const path = new RegExp(`<path data-series="${series}" d="([^"]*)"`).exec(html)![1]!;
  return [...path.matchAll(/M[\d.]+ [\d.]+h[\d.]+v([\d.]+)h-[\d.]+z/g)].map((match) => Number(match[1]));
}

describe("ActivityChart", () => {
  const buckets = hourly([
    [120, 7],
    [0, 0],
    [30, 20],
    [0, 5],
  ]);
  const html = render(buckets);

  it("sums the buckets and names the peak in the chart's accessible name", () => {
    expect(html).toContain('role="img"');
    expect(html).toContain(
      'aria-label="Sign-ins, last 4 hours, by hour: 182 sign-ins in 4 hours, 150 successes and 32 failures; peak 127 in 2026-11-26 12:00–13:00 UTC."',
    );
    expect(html).toContain('data-testid="activity-chart-max">127<');
  });

  it("names buckets of several hours as periods", () => {
    const threeHourly = renderToStaticMarkup(<ActivityChart buckets={buckets} bucketLabel="3 hours" caption="Sign-ins" />);
    expect(threeHourly).toContain("182 sign-ins in 4 periods of 3 hours,");
  });

  it("gives each bucket with sign-ins a title with its exact values, and empty buckets none", () => {
    const titles = [...html.matchAll(/<title>([^<]*)<\/title>/g)].map((match) => match[1]);
    expect(titles).toEqual([
      "2026-11-26 12:00–13:00 UTC: 120 successes, 7 failures",
      "2026-11-26 14:00–15:00 UTC: 30 successes, 20 failures",
      "2026-11-26 15:00–16:00 UTC: 0 successes, 5 failures",
    ]);
  });

  it("draws bars in proportion to the peak, failures stacked on successes", () => {
    expect(heights(html, "successes")).toEqual([(120 / 127) * CHART_HEIGHT, (30 / 127) * CHART_HEIGHT].map((h) => Math.round(h * 100) / 100));
    expect(heights(html, "failures")).toEqual([(7 / 127) * CHART_HEIGHT, (20 / 127) * CHART_HEIGHT, (5 / 127) * CHART_HEIGHT].map((h) => Math.round(h * 100) / 100));
    // The peak fills the plot exactly.
    const [peakSuccesses] = heights(html, "successes");
    const [peakFailures] = heights(html, "failures");
    expect(peakSuccesses! + peakFailures!).toBeCloseTo(CHART_HEIGHT, 1);
  });

  it("puts every bucket in the Chart data table, empty ones too", () => {
    expect(html).toContain("<summary");
    expect(html).toContain("Chart data</summary>");
    const rows = [...html.matchAll(/<tr><th scope="row"[^>]*>([^<]*)<\/th>((?:<td[^>]*>[^<]*<\/td>)+)<\/tr>/g)];
    expect(rows.map((row) => [row[1], [...row[2]!.matchAll(/>([^<]*)<\/td>/g)].map((cell) => cell[1])])).toEqual([
      ["2026-11-26 12:00–13:00 UTC", ["120", "7", "127"]],
      ["2026-11-26 13:00–14:00 UTC", ["0", "0", "0"]],
      ["2026-11-26 14:00–15:00 UTC", ["30", "20", "50"]],
      ["2026-11-26 15:00–16:00 UTC", ["0", "5", "5"]],
    ]);
  });

  it("says there were no sign-ins when every bucket is empty, and draws no bars", () => {
    const empty = render(hourly([[0, 0], [0, 0]]));
    expect(empty).toContain("No sign-ins in this period.");
    expect(empty).not.toContain("<svg role=\"img\"");
    expect(empty).not.toContain("<title>");
    expect([...empty.matchAll(/<tr><th scope="row"/g)]).toHaveLength(2);
    const none = render([]);
    expect(none).toContain("No sign-ins in this period.");
    expect(none).not.toContain("Chart data");
  });

  it("keeps axis labels short: hours, or the dates where buckets start days", () => {
    const ticks = [...html.matchAll(/<span class="absolute[^"]*"[^>]*>([^<]*)<\/span>/g)].map((match) => match[1]);
    expect(ticks).toEqual(["12:00", "13:00", "14:00", "15:00"]);
    const days = renderToStaticMarkup(
      <ActivityChart
        bucketLabel="day"
        caption="Sign-ins, last 7 days, by day"
        buckets={Array.from({ length: 7 }, (_, i) => ({
          start: new Date(Date.UTC(2026, 10, 20 + i)),
          end: new Date(Date.UTC(2026, 10, 21 + i)),
          successes: i,
          failures: 1,
        }))}
      />,
    );
    expect([...days.matchAll(/<span class="absolute[^"]*"[^>]*>([^<]*)<\/span>/g)].map((match) => match[1])).toEqual([
      "11-20",
      "11-22",
      "11-24",
      "11-26",
    ]);
    expect(days).toContain("28 sign-ins in 7 days, 21 successes and 7 failures; peak 7 in 2026-11-26 UTC.");
  });
});

describe("bucketPeriod", () => {
  it("writes hours, whole days and spans in UTC", () => {
    const at = (iso: string) => new Date(iso);
    expect(bucketPeriod({ start: at("2026-11-26T14:00:00Z"), end: at("2026-11-26T15:00:00Z") })).toBe("2026-11-26 14:00–15:00 UTC");
    expect(bucketPeriod({ start: at("2026-11-26T23:00:00Z"), end: at("2026-11-27T00:00:00Z") })).toBe("2026-11-26 23:00–24:00 UTC");
    expect(bucketPeriod({ start: at("2026-11-26T00:00:00Z"), end: at("2026-11-27T00:00:00Z") })).toBe("2026-11-26 UTC");
    expect(bucketPeriod({ start: at("2026-11-23T00:00:00Z"), end: at("2026-11-30T00:00:00Z") })).toBe("2026-11-23 – 2026-11-29 UTC");
    expect(bucketPeriod({ start: at("2026-11-26T18:00:00Z"), end: at("2026-11-27T06:00:00Z") })).toBe("2026-11-26 18:00 – 2026-11-27 06:00 UTC");
  });
});

describe("chartRange", () => {
  const now = new Date("2026-11-26T12:34:00Z");
  const extent = { firstHour: new Date("2024-03-05T07:00:00Z"), lastHour: new Date("2026-11-26T12:00:00Z") };
  const bucketsOf = (range: NonNullable<ReturnType<typeof chartRange>>) => emptyBuckets(range.from, range.end, range.size.ms).length;

  it("keeps the default range at the last week in hours of 3, whatever the log's extent", () => {
    const range = chartRange({}, now, DEFAULT_ACTIVITY_MS, extent)!;
    expect(range.size.label).toBe("3 hours");
    expect(range.end).toEqual(new Date("2026-11-26T13:00:00Z"));
    expect(bucketsOf(range)).toBeLessThanOrEqual(MAX_BUCKETS);
  });

  it("pulls 1970 to 9999 in to the log's extent and the present, in at most 60 buckets", () => {
    const range = chartRange({ from: new Date("1970-01-01T00:00:00Z"), to: new Date("9999-12-31T00:00:00Z") }, now, DEFAULT_ACTIVITY_MS, extent)!;
    expect(range.end).toEqual(new Date("2026-11-26T13:00:00Z"));
    expect(range.from.getTime()).toBeLessThanOrEqual(extent.firstHour.getTime());
    expect(range.from.getTime()).toBeGreaterThan(extent.firstHour.getTime() - range.size.ms);
    expect(range.size.label).toBe("4 weeks");
    expect(bucketsOf(range)).toBeLessThanOrEqual(MAX_BUCKETS);
  });

  it("fits any range a URL can name in at most 60 buckets, even with no extent to clamp to", () => {
    const limits = [new Date("1970-01-01T00:00:00Z"), new Date("9999-12-31T23:59:59.999Z")];
    const farFuture = new Date("9999-12-31T23:00:00Z");
    const range = chartRange({ from: limits[0], to: limits[1] }, farFuture, DEFAULT_ACTIVITY_MS)!;
    expect(range.size.label).toBe("26,000 weeks");
    expect(bucketsOf(range)).toBeLessThanOrEqual(MAX_BUCKETS);
    // Every span from an hour to 8,000 years picks the smallest size that fits.
    for (let span = 3_600_000; span < limits[1]!.getTime(); span *= 1.7) {
      const to = new Date(limits[0]!.getTime() + span);
      const chosen = chartRange({ from: limits[0], to }, farFuture, DEFAULT_ACTIVITY_MS)!;
      expect(bucketsOf(chosen), `${span}`).toBeLessThanOrEqual(MAX_BUCKETS);
      const smaller = BUCKET_SIZES[BUCKET_SIZES.findIndex((size) => size.ms === chosen.size.ms) - 1];
      if (smaller) expect(Math.ceil((chosen.end.getTime() - Math.floor(limits[0]!.getTime() / smaller.ms) * smaller.ms) / smaller.ms)).toBeGreaterThan(MAX_BUCKETS);
    }
  });

  it("ends a far-future range at the present, or at the log's newest hour when that is later", () => {
    const future = { from: new Date("2026-11-20T00:00:00Z"), to: new Date("3000-01-01T00:00:00Z") };
    expect(chartRange(future, now, DEFAULT_ACTIVITY_MS, extent)!.end).toEqual(new Date("2026-11-26T13:00:00Z"));
    const skewed = { ...extent, lastHour: new Date("2026-11-27T05:00:00Z") };
    expect(chartRange(future, now, DEFAULT_ACTIVITY_MS, skewed)!.end).toEqual(new Date("2026-11-27T06:00:00Z"));
    // A far-future end alone: the week before the chart's end, not the week before 9999.
    const endOnly = chartRange({ to: new Date("9999-12-31T00:00:00Z") }, now, DEFAULT_ACTIVITY_MS, extent)!;
    expect(endOnly).toMatchObject({ size: { label: "3 hours" }, from: new Date("2026-11-19T12:00:00Z"), end: new Date("2026-11-26T13:00:00Z") });
    // A range that ends before now is left as asked.
    const past = { from: new Date("2025-01-01T00:00:00Z"), to: new Date("2025-01-02T10:30:00Z") };
    expect(chartRange(past, now, DEFAULT_ACTIVITY_MS, extent)).toMatchObject({ from: past.from, end: new Date("2025-01-02T11:00:00Z") });
  });

  it("has nothing to chart for a range wholly in the future or before the log's first row", () => {
    expect(chartRange({ from: new Date("9000-01-01T00:00:00Z") }, now, DEFAULT_ACTIVITY_MS, extent)).toBeUndefined();
    expect(chartRange({ from: new Date("2027-01-01T00:00:00Z"), to: new Date("9999-01-01T00:00:00Z") }, now, DEFAULT_ACTIVITY_MS, extent)).toBeUndefined();
    expect(chartRange({ from: new Date("1970-01-01T00:00:00Z"), to: new Date("2000-01-01T00:00:00Z") }, now, DEFAULT_ACTIVITY_MS, extent)).toBeUndefined();
  });

  it("never lays out more than 500 buckets, keeping the newest", () => {
    const buckets = emptyBuckets(new Date(0), new Date(10_000 * 3_600_000), 3_600_000);
    expect(buckets).toHaveLength(BUCKET_CEILING);
    expect(buckets.at(-1)!.end).toEqual(new Date(10_000 * 3_600_000));
    expect(buckets[0]!.start).toEqual(new Date((10_000 - BUCKET_CEILING) * 3_600_000));
  });
});

describe("ActivityChart axis over years", () => {
  it("labels buckets of weeks by year and month", () => {
    const size = 52 * 7 * 86_400_000;
    const html = renderToStaticMarkup(
      <ActivityChart
        bucketLabel="52 weeks"
        caption="Sign-ins"
        buckets={Array.from({ length: 3 }, (_, i) => ({ start: new Date((55 + i) * size), end: new Date((56 + i) * size), successes: 1, failures: 0 }))}
      />,
    );
    expect([...html.matchAll(/<span class="absolute[^"]*"[^>]*>([^<]*)<\/span>/g)].map((match) => match[1])).toEqual(["2024-10", "2025-10", "2026-10"]);
    expect(html).toContain("3 sign-ins in 3 periods of 52 weeks");
  });
});
