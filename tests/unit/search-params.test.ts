import { describe, expect, it } from "vitest";
import { accountLogHref, escapeLike, parseAccountLogQuery } from "@/lib/account-log/search-params";

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
