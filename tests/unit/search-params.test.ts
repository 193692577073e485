import { describe, expect, it } from "vitest";
import { ACCOUNT_LOG_RESULTS } from "@/db/schema";
import { accountLogHref, escapeLike, parseAccountLogQuery, parseInstant, parseIpFilter } from "@/lib/account-log/search-params";

describe("parseAccountLogQuery", () => {
  it("normalizes the term like sign-in and keeps what was typed for the box", () => {
    const { query, problems } = parseAccountLogQuery({ q: " ＡＬＩＣＥ " });
    expect(query).toMatchObject({ term: " ＡＬＩＣＥ ", q: "alice", size: 50 });
    expect(problems).toEqual([]);
  });

  it("falls back to defaults with a short message for invalid values", () => {
    for (const params of [{ size: "0" }, { size: "201" }, { size: "ten" }, { before: "-1" }, { before: "1e400" }, { after: "x" }]) {
      const { query, problems } = parseAccountLogQuery(params);
      expect(query.size).toBe(50);
      expect(query.before).toBeUndefined();
      expect(query.after).toBeUndefined();
      expect(problems).toHaveLength(1);
    }
    const both = parseAccountLogQuery({ before: "5", after: "3" });
    expect([both.query.before, both.query.after, both.problems.length]).toEqual([undefined, undefined, 1]);
  });

  it("shortens an oversized search and takes the first of repeated parameters", () => {
    const { query, problems } = parseAccountLogQuery({ q: ["a".repeat(10_000), "b"], size: ["20", "30"] });
    expect(query.term).toHaveLength(256);
    expect(query.size).toBe(20);
    expect(problems[0]).toMatch(/shortened/);
  });

  it("shortens by characters, never splitting one", () => {
    const { query, problems } = parseAccountLogQuery({ q: "😀".repeat(300) });
    expect([...query.term]).toHaveLength(256);
    expect(query.term).toBe("😀".repeat(256));
    expect(problems).toHaveLength(1);
    expect(parseAccountLogQuery({ q: "😀".repeat(200) }).problems).toEqual([]);
  });

  it("makes NUL and lone surrogates storable instead of failing", () => {
    expect(parseAccountLogQuery({ q: "a\u0000\uD800" }).query.q).toBe("a\u2400\uFFFD");
  });
});

describe("escapeLike", () => {
  it("escapes the LIKE wildcards and the escape character", () => {
    expect(escapeLike("a%_\\b")).toBe("a\\%\\_\\\\b");
    expect(escapeLike("plain")).toBe("plain");
  });
});

describe("accountLogHref", () => {
  it("puts the search and cursor in the URL and leaves defaults out", () => {
    expect(accountLogHref({ term: "a b&c", size: 50 })).toBe("/admin/account-logs?q=a+b%26c");
    expect(accountLogHref({ term: "", size: 20, before: 99 })).toBe("/admin/account-logs?size=20&before=99");
    expect(accountLogHref({})).toBe("/admin/account-logs");
  });
});

describe("filters", () => {
  it("reads repeated results, ignores unknown ones and treats all of them as none", () => {
    const { query, problems } = parseAccountLogQuery({ result: ["logout", "login_successful", "logout", "<script>"] });
    expect(query.results).toEqual(["login_successful", "logout"]);
    expect(problems).toEqual([`"<script>" is not a result; it was ignored.`]);
    expect(parseAccountLogQuery({ result: [...ACCOUNT_LOG_RESULTS] }).query.results).toEqual([]);
  });

  it("reads ISO 8601 times with an offset, Z, or in the viewer's zone", () => {
    expect(parseInstant("2026-11-26T09:30:00Z")?.toISOString()).toBe("2026-11-26T09:30:00.000Z");
    expect(parseInstant("2026-11-26T09:30+05:30")?.toISOString()).toBe("2026-11-26T04:00:00.000Z");
    expect(parseInstant("2026-11-26T09:30:15.250-0800")?.toISOString()).toBe("2026-11-26T17:30:15.250Z");
    expect(parseInstant("2026-11-26")?.toISOString()).toBe("2026-11-26T00:00:00.000Z");
    expect(parseInstant("2026-11-26T09:30", "Europe/Berlin")?.toISOString()).toBe("2026-11-26T08:30:00.000Z");
    expect(parseInstant("2026-07-01T09:30", "Europe/Berlin")?.toISOString()).toBe("2026-07-01T07:30:00.000Z");
    // A time the clocks skip reads as the time after the gap; a repeated one as the first.
    expect(parseInstant("2026-03-29T02:30", "Europe/Berlin")?.toISOString()).toBe("2026-03-29T01:30:00.000Z");
    expect(parseInstant("2026-10-25T02:30", "Europe/Berlin")?.toISOString()).toBe("2026-10-25T00:30:00.000Z");
    for (const bad of ["2026-02-30", "2026-11-26T25:00", "2026-11-26T10:00:60Z", "yesterday", "1969-12-31", "2026-11-26T09:30+24:00", "x".repeat(10_000), ""]) {
      expect(parseInstant(bad), bad).toBeUndefined();
    }
  });

  it("reports a bad time, a bad zone and a range that ends before it starts", () => {
    const { query, problems } = parseAccountLogQuery({ from: "2026-11-26T10:00Z", to: "2026-11-26T09:00Z", tz: "Mars/Olympus", ip: "nope" });
    expect(query.from?.toISOString()).toBe("2026-11-26T10:00:00.000Z");
    expect(query.to).toBeUndefined();
    expect(query.tz).toBeUndefined();
    expect(query.ip).toBeUndefined();
    expect(problems).toHaveLength(3);
    expect(parseAccountLogQuery({ from: "soon" }).problems[0]).toMatch(/ISO 8601/);
  });

  it("reads an address or a network, in canonical form", () => {
    expect(parseIpFilter("203.0.113.7")).toBe("203.0.113.7");
    expect(parseIpFilter(" 203.0.113.77/24 ")).toBe("203.0.113.0/24");
    expect(parseIpFilter("203.0.113.7/32")).toBe("203.0.113.7");
    expect(parseIpFilter("2001:DB8:0::1")).toBe("2001:db8::1");
    expect(parseIpFilter("2001:db8::1/48")).toBe("2001:db8::/48");
    expect(parseIpFilter("::ffff:198.51.100.1")).toBe("198.51.100.1");
    for (const bad of ["fe80::1%eth0", "fe80::1%25eth0/64", "", "1.2.3", "1.2.3.4/33", "300.1.1.1", "1.2.3.4/-1", "a".repeat(100), "1.2.3.4; drop table users", "%_\\"]) {
      expect(parseIpFilter(bad), bad).toBeUndefined();
    }
  });

  it("puts every filter in the URL and reads it back the same", () => {
    const { query } = parseAccountLogQuery({
      q: "Bob",
      result: ["login_successful", "logout"],
      from: "2026-11-26T09:30",
      to: "2026-11-27T00:00Z",
      tz: "Asia/Kolkata",
      ip: "203.0.113.0/24",
    });
    const href = accountLogHref(query);
    expect(href).toBe(
      "/admin/account-logs?q=Bob&result=login_successful&result=logout&from=2026-11-26T04%3A00%3A00.000Z&to=2026-11-27T00%3A00%3A00.000Z&ip=203.0.113.0%2F24&tz=Asia%2FKolkata",
    );
    const params = new URLSearchParams(href.split("?")[1]);
    const again = parseAccountLogQuery({ ...Object.fromEntries(params), result: params.getAll("result") }).query;
    expect(again).toEqual(query);
  });
});

describe("exact usernames", () => {
  it("reads a search in double quotes as exactly that username", () => {
    expect(parseAccountLogQuery({ q: '"Bob"' }).query).toMatchObject({ term: '"Bob"', q: "bob", exact: true });
    expect(parseAccountLogQuery({ q: ' " ＢＯＢ " ' }).query).toMatchObject({ q: "bob", exact: true });
    expect(parseAccountLogQuery({ q: "bob" }).query.exact).toBe(false);
    expect(parseAccountLogQuery({ q: '""' }).query).toMatchObject({ q: '""', exact: false });
    expect(parseAccountLogQuery({ q: '"a"b"' }).query).toMatchObject({ q: 'a"b', exact: true });
    // The longest username, quoted, is still that username exactly.
    const longest = "x".repeat(256);
    expect(parseAccountLogQuery({ q: `"${longest}"` })).toMatchObject({ query: { q: longest, exact: true }, problems: [] });
  });
});

describe("bounds on what a URL can ask for", () => {
  it("keeps times within 1970 to 9999 UTC, whatever the offset or zone", () => {
    expect(parseInstant("9999-12-31T23:59:59Z")).toEqual(new Date("9999-12-31T23:59:59Z"));
    expect(parseInstant("9999-12-31T23:00:00-05:00")).toBeUndefined();
    expect(parseInstant("9999-12-31T23:00:00", "America/New_York")).toBeUndefined();
    expect(parseInstant("1970-01-01T01:00:00+05:00")).toBeUndefined();
    expect(parseInstant("1970-01-01")).toEqual(new Date(0));
    const { query, problems } = parseAccountLogQuery({ to: "9999-12-31T23:00-05:00" });
    expect(query.to).toBeUndefined();
    expect(problems).toEqual(['"to" must be an ISO 8601 time from 1970 to 9999, such as 2026-11-26T09:30:00Z; it was ignored.']);
  });

  it("spells a zone one way, however its case was written", () => {
    expect(parseAccountLogQuery({ tz: "eUrOpE/bErLiN" }).query.tz).toBe("Europe/Berlin");
    expect(parseAccountLogQuery({ tz: "Asia/Kolkata" }).query.tz).toBe("Asia/Kolkata");
    expect(parseAccountLogQuery({ tz: "Mars/Olympus_Mons" }).query.tz).toBeUndefined();
    expect(parseAccountLogQuery({ tz: "x".repeat(10_000) }).query.tz).toBeUndefined();
  });

  it("reads no more of a search than it could keep, and bounds repeated results", () => {
    const { query, problems } = parseAccountLogQuery({ q: `"${"é".repeat(16_000)}"`, result: Array.from({ length: 2_000 }, (_, i) => `bogus-${i}`) });
    expect([...query.term]).toHaveLength(256);
    expect(problems.length).toBeLessThanOrEqual(1 + ACCOUNT_LOG_RESULTS.length * 2);
  });
});
