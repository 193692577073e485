import { describe, expect, it } from "vitest";
import { newSessionKey, sessionKeyHash } from "@/lib/sessions/key";

describe("session keys", () => {
  it("are 256 random bits, URL-safe, and never repeat", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newSessionKey()));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("are stored as their SHA-256: 32 bytes, the same for the same key, unlike the key", () => {
    const key = newSessionKey();
    expect(sessionKeyHash(key)).toHaveLength(32);
    expect(sessionKeyHash(key).equals(sessionKeyHash(key))).toBe(true);
    expect(sessionKeyHash(key).toString("base64url")).not.toBe(key);
    expect(sessionKeyHash(key).equals(sessionKeyHash(newSessionKey()))).toBe(false);
  });
});
