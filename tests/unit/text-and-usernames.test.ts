import { describe, expect, it } from "vitest";
import { boundUsername, storableText } from "@/lib/account-log/text";
import { safeCallbackPath } from "@/lib/auth/callback-path";
import { newUsernameSchema, normalizeUsername } from "@/lib/users/username";

describe("normalizeUsername", () => {
  it("makes Alice, ' alice' and fullwidth ａｌｉｃｅ one account", () => {
    expect(new Set(["Alice", " alice", "ａｌｉｃｅ", "ALICE\t"].map(normalizeUsername))).toEqual(new Set(["alice"]));
  });
});

describe("newUsernameSchema", () => {
  it("accepts 1 to 64 characters and keeps the display form", () => {
    expect(newUsernameSchema.parse("  Alice ")).toEqual({ username: "Alice", usernameNormalized: "alice" });
    expect(newUsernameSchema.safeParse("é".repeat(64)).success).toBe(true);
    expect(newUsernameSchema.safeParse("a".repeat(65)).success).toBe(false);
    expect(newUsernameSchema.safeParse("   ").success).toBe(false);
  });

  it("refuses control and bidi-override characters", () => {
    expect(newUsernameSchema.safeParse("admin\u202Egnp").success).toBe(false);
    expect(newUsernameSchema.safeParse("a\u0000b").success).toBe(false);
    expect(newUsernameSchema.safeParse("a\nb").success).toBe(false);
  });
});

describe("boundUsername and storableText", () => {
  it("replaces NUL and lone surrogates so PostgreSQL accepts the row", () => {
    expect(storableText("a\u0000b")).toBe("a\u2400b");
    expect(storableText("x\uD800y")).toBe("x\uFFFDy");
  });

  it("cuts at 256 code points without splitting a character and flags the cut", () => {
    expect(boundUsername("bob")).toEqual({ username: "bob", truncated: false });
    const long = boundUsername("😀".repeat(300));
    expect([...long.username]).toHaveLength(256);
    expect(long.username.endsWith("😀")).toBe(true);
    expect(long.truncated).toBe(true);
    const megabyte = boundUsername("a".repeat(1024 * 1024));
    expect(megabyte.username).toHaveLength(256);
    expect(megabyte.truncated).toBe(true);
  });
});

describe("safeCallbackPath", () => {
  it("keeps paths on this site and drops everything else", () => {
    expect(safeCallbackPath("/admin/account-logs?q=bob")).toBe("/admin/account-logs?q=bob");
    expect(safeCallbackPath("http://localhost:3000/admin")).toBe("/admin");
    for (const hostile of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", 42]) {
      expect(safeCallbackPath(hostile), String(hostile)).not.toMatch(/evil|javascript/);
    }
    expect(safeCallbackPath("/login?error=x")).toBe("/");
  });
});
