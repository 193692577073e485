import { describe, expect, it } from "vitest";
import { parseCountryFilter } from "@/lib/account-log/filter-values";
import {
  ACCOUNT_LOG_FILTERS,
  describeExportFilter,
  exportFilterOf,
  exportFilterSchema,
  filtersOfExport,
  FILTER_PARAMS,
  readFilters,
  writeFilters,
  type AccountLogFilters,
} from "@/lib/account-log/filters";
import { chooseCountPlan, chooseRowPlan, PER_STREAM_PROBE_LIMIT, streamsToLookUp, type Span } from "@/lib/account-log/plan";
import { accountLogHref, parseAccountLogQuery } from "@/lib/account-log/search-params";

const filters = (params: Record<string, string | string[]>): AccountLogFilters => readFilters(params).filters;
/** A span of IDs 1000–2000 in a log of 10,000 rows, edges at 1010 and 1990. */
const narrow: Span = { lo: 1000, hi: 2000, outsideBelow: 1010, outsideAbove: 1990, newestId: 10_000, holdsWholeLog: false };
/** A span of most of the log. */
const wide: Span = { lo: 1, hi: 9_990, outsideBelow: 5, outsideAbove: 9_985, newestId: 10_000, holdsWholeLog: false };
const RANGE = { from: "2026-03-01T00:00Z", to: "2026-03-02T00:00Z" };

describe("the country filter", () => {
  it("reads codes repeated or in one value, any case, and `!` to exclude", () => {
    expect(parseCountryFilter(["de", "FR"])).toEqual({ filter: { exclude: false, codes: ["DE", "FR"] }, problems: [] });
    expect(parseCountryFilter(["!us, !de"])).toEqual({ filter: { exclude: true, codes: ["DE", "US"] }, problems: [] });
    // Codes to include win; an excluded one only leaves their list.
    expect(parseCountryFilter(["US FR !FR"])).toEqual({ filter: { exclude: false, codes: ["US"] }, problems: [] });
    expect(parseCountryFilter(["FR !FR"]).filter).toBeUndefined();
    expect(parseCountryFilter(["FR !FR"]).problems).toEqual(["Every country asked for was also excluded; the country filter was ignored."]);
  });

  it("refuses what is not an ISO 3166 code, and bounds how many it reads", () => {
    const { filter, problems } = parseCountryFilter(["QQ", "Germany", "<script>", "%_\\", "D", "!!DE", "DE"]);
    expect(filter).toEqual({ exclude: false, codes: ["DE"] });
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe('"QQ" is not an ISO 3166 country code such as DE, or !DE to exclude one; it was ignored.');
    const flood = parseCountryFilter([Array.from({ length: 5_000 }, () => "DE").join(" ")]);
    expect(flood.filter).toEqual({ exclude: false, codes: ["DE"] });
    expect(flood.problems).toEqual(["Only the first 50 country codes were read."]);
  });
});

describe("the filter table", () => {
  const every = {
    q: '"Bob"',
    result: ["login_successful", "logout"],
    from: "2026-11-26T09:30",
    to: "2026-11-27T00:00Z",
    tz: "Asia/Kolkata",
    ip: "203.0.113.0/24",
    country: ["!us", "!DE"],
  };

  it("writes back every filter it reads, and reads it again the same", () => {
    const { query, problems } = parseAccountLogQuery(every);
    expect(problems).toEqual([]);
    const href = accountLogHref(query);
    expect(href).toBe(
      "/admin/account-logs?q=%22Bob%22&result=login_successful&result=logout&from=2026-11-26T04%3A00%3A00.000Z&to=2026-11-27T00%3A00%3A00.000Z&ip=203.0.113.0%2F24&country=%21DE&country=%21US&tz=Asia%2FKolkata",
    );
    const params = new URLSearchParams(href.split("?")[1]);
    const raw = Object.fromEntries(FILTER_PARAMS.map(({ name, repeated }) => [name, repeated ? params.getAll(name) : (params.get(name) ?? undefined)]));
    expect(parseAccountLogQuery(raw).query).toEqual(query);
  });

  it("records an export's filter as JSON that selects the same rows again, and says it in words", () => {
    const { query } = parseAccountLogQuery(every);
    const filter = exportFilterSchema.parse(JSON.parse(JSON.stringify(exportFilterOf(query))));
    expect(filter.country).toEqual(["!DE", "!US"]);
    // The same selection; the search as typed and the viewer's zone are not part of it.
    const { term, tz, size, ...selection } = query;
    expect([term, tz, size]).toEqual(['"Bob"', "Asia/Kolkata", 50]);
    expect(filtersOfExport(filter)).toEqual({ ...selection, term: '"bob"' });
    expect(describeExportFilter(filter)).toBe(
      "username “bob”; results login_successful, logout; from 2026-11-26T04:00:00.000Z; to 2026-11-27T00:00:00.000Z; address 203.0.113.0/24; countries other than DE, US",
    );
    expect(describeExportFilter(exportFilterOf(filters({})))).toBe("every row");
  });

  it("gives every filter a parameter, a condition and a place in the export", () => {
    const { filters: set } = readFilters(every);
    for (const filter of ACCOUNT_LOG_FILTERS) {
      if (!filter.dimension) continue;
      expect(filter.isSet(set), filter.dimension).toBe(true);
      expect(filter.condition(set), filter.dimension).toBeDefined();
      expect(Object.keys(filter.toExport(set)).length, filter.dimension).toBeGreaterThan(0);
      expect(writeFilters(set).has(filter.params[0]!), filter.dimension).toBe(true);
    }
  });
});

describe("choosing a count plan", () => {
  it("counts from the counters whatever the search and results, without a range", () => {
    expect(chooseCountPlan(filters({}), undefined)).toEqual({ kind: "counters", source: "total" });
    expect(chooseCountPlan(filters({ q: "bob" }), undefined)).toEqual({ kind: "counters", source: "usernames" });
    expect(chooseCountPlan(filters({ result: "logout" }), undefined)).toEqual({ kind: "counters", source: "results" });
    expect(chooseCountPlan(filters({ q: "bob", result: "logout" }), undefined)).toEqual({ kind: "counters", source: "username results" });
    expect(chooseCountPlan(filters({ ip: "203.0.113.0/24", result: "logout" }), undefined)).toEqual({ kind: "address counters" });
  });

  it("counts countries from their counters, and in a range from their hourly counters", () => {
    expect(chooseCountPlan(filters({ country: "DE" }), undefined)).toEqual({ kind: "country counters" });
    expect(chooseCountPlan(filters({ country: "!US", result: "logout" }), undefined)).toEqual({ kind: "country counters" });
    expect(chooseCountPlan(filters({ country: "DE", ...RANGE }), narrow)).toEqual({ kind: "country hours" });
    expect(chooseCountPlan(filters({ country: "!DE", result: "logout", ...RANGE }), wide)).toEqual({ kind: "country hours" });
  });

  it("reads a range by its span, and a range holding the whole log as none", () => {
    expect(chooseCountPlan(filters(RANGE), null)).toEqual({ kind: "nothing" });
    expect(chooseCountPlan(filters({ ...RANGE, result: "logout" }), narrow)).toEqual({ kind: "hours" });
    // `from` and `to` around the whole log: the span is undefined, and the counters answer.
    expect(chooseCountPlan(filters({ ...RANGE, q: "bob" }), undefined)).toEqual({ kind: "counters", source: "usernames" });
    expect(chooseCountPlan(filters({ ...RANGE, q: "bob" }), wide)).toEqual({ kind: "counters less edges", span: wide });
    expect(chooseCountPlan(filters({ ...RANGE, q: "bob" }), narrow)).toEqual({ kind: "span", span: narrow, resultsFirst: false });
    expect(chooseCountPlan(filters({ ...RANGE, q: "bob", result: "logout" }), narrow)).toEqual({ kind: "span", span: narrow, resultsFirst: true });
    expect(chooseCountPlan({ ...filters({ ...RANGE, q: "bob", result: "logout" }), usernameKeys: [3] }, narrow)).toMatchObject({ resultsFirst: false });
    expect(chooseCountPlan(filters({ ...RANGE, ip: "203.0.113.7" }), wide)).toEqual({ kind: "address pairs in span", span: wide });
  });

  it("falls back to one scan with every condition for a combination no counter covers", () => {
    expect(chooseCountPlan(filters({ q: "bob", ip: "203.0.113.7" }), undefined)).toEqual({ kind: "fallback" });
    expect(chooseCountPlan(filters({ q: "bob", country: "DE" }), undefined)).toEqual({ kind: "fallback" });
    expect(chooseCountPlan(filters({ ip: "203.0.113.7", country: "!DE" }), undefined)).toEqual({ kind: "fallback" });
    // With a span, the span plan takes every condition.
    expect(chooseCountPlan(filters({ ...RANGE, q: "bob", country: "DE" }), wide)).toEqual({ kind: "span", span: wide, resultsFirst: false });
  });
});

describe("choosing a row plan", () => {
  const first = {};
  const later = { before: 500 };

  it("reads a first page from the streams with the newest rows, without looking them up", () => {
    expect(chooseRowPlan(filters({ q: "bob" }), { span: undefined }, first)).toEqual({ kind: "username streams", byResult: false, streams: "newest" });
    expect(chooseRowPlan(filters({ ip: "203.0.113.7" }), { span: undefined }, first)).toEqual({ kind: "address pairs", pairs: "newest" });
    expect(streamsToLookUp(filters({ q: "bob" }), undefined, first).size).toBe(0);
    expect([...streamsToLookUp(filters({ q: "bob" }), undefined, later)]).toEqual(["username"]);
    expect([...streamsToLookUp(filters({ country: "DE" }), undefined, first)]).toEqual(["country"]);
    expect(streamsToLookUp(filters({ q: "bob", ip: "203.0.113.7" }), undefined, later).size).toBe(0);
  });

  it("probes each stream when there are few, and walks an index when there are many", () => {
    const few = [{ key: 1 }, { key: 2 }];
    expect(chooseRowPlan(filters({ q: "bob" }), { span: undefined, usernameStreams: few }, later)).toEqual({ kind: "username streams", byResult: false, streams: few });
    expect(chooseRowPlan(filters({ q: "bob" }), { span: undefined, usernameStreams: "many" }, later)).toEqual({ kind: "fallback" });
    expect(chooseRowPlan(filters({ q: "bob", result: "logout" }), { span: undefined, usernameStreams: "many" }, later)).toEqual({ kind: "result streams" });
    expect(chooseRowPlan(filters({ q: "bob", ...RANGE }), { span: narrow, usernameStreams: "many" }, later)).toEqual({ kind: "id walk" });
    expect(chooseRowPlan(filters({ q: "bob" }), { span: undefined, usernameStreams: [] }, later)).toEqual({ kind: "nothing" });
    const pairs = [{ country: "DE", result: "logout" }, { country: null, result: "logout" }];
    expect(chooseRowPlan(filters({ country: "!US", result: "logout" }), { span: undefined, countryPairs: pairs }, first)).toEqual({ kind: "country pairs", pairs });
    expect(chooseRowPlan(filters({ country: "!US" }), { span: undefined, countryPairs: "many" }, first)).toEqual({ kind: "fallback" });
    expect(PER_STREAM_PROBE_LIMIT).toBe(200);
  });

  it("walks the ID index with every condition for mixed filters, within the span when there is one", () => {
    expect(chooseRowPlan(filters({ q: "bob", ip: "203.0.113.7" }), { span: undefined }, first)).toEqual({ kind: "fallback" });
    expect(chooseRowPlan(filters({ q: "bob", country: "DE", ...RANGE }), { span: narrow }, first)).toEqual({ kind: "id walk" });
    expect(chooseRowPlan(filters({ result: "logout", ...RANGE }), { span: narrow }, first)).toEqual({ kind: "result streams" });
    expect(chooseRowPlan(filters(RANGE), { span: null }, first)).toEqual({ kind: "nothing" });
  });
});
