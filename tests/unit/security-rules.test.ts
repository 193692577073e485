import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { signInErrorMessage } from "@/lib/account-log/lockout";
import { claimAttemptPlace } from "@/lib/account-log/throttle";
import { lastResetPoint } from "@/lib/account-log/unknown-username";
import { isSameOriginRequest, requiresSameOrigin } from "@/lib/auth/same-origin";
import { CLIENT_IP_HEADER, compileTrustPolicy, stampClientAddress } from "@/lib/client/ip";
import { parseEnv } from "@/lib/env";

const HOUR = 3_600_000;

describe("lastResetPoint", () => {
  const base = { name: "ghost", periodMs: 24 * HOUR, key: "k".repeat(32) };

  it("is never in the future and never more than two periods back", () => {
    for (let i = 0; i < 500; i++) {
      const at = Date.UTC(2026, 0, 1) + i * 7_919_000;
      const point = lastResetPoint({ ...base, at });
      expect(point).toBeLessThanOrEqual(at);
      expect(at - point).toBeLessThan(2 * base.periodMs);
    }
  });

  it("stays put between two reset points and moves past each one", () => {
    const at = Date.UTC(2026, 5, 1, 12);
    const point = lastResetPoint({ ...base, at });
    expect(lastResetPoint({ ...base, at: point })).toBe(point);
    expect(lastResetPoint({ ...base, at: point - 1 })).toBeLessThan(point);
  });

  it("differs between names and keys, so the schedule cannot be read off one name", () => {
    const at = Date.UTC(2026, 5, 1, 12);
    const points = new Set(["a", "b", "c", "d", "e"].map((name) => lastResetPoint({ ...base, name, at })));
    expect(points.size).toBe(5);
    expect(lastResetPoint({ ...base, at, key: "other-key-other-key-other-key-xx" })).not.toBe(lastResetPoint({ ...base, at }));
  });

  it("spaces resets irregularly, once per period on average", () => {
    const intervals: number[] = [];
    let at = Date.UTC(2026, 0, 1);
    let previous = lastResetPoint({ ...base, at });
    for (let day = 0; day < 400; day++) {
      at += base.periodMs;
      const point = lastResetPoint({ ...base, at });
      if (point !== previous) intervals.push(point - previous);
      previous = point;
    }
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    expect(mean / base.periodMs).toBeGreaterThan(0.9);
    expect(mean / base.periodMs).toBeLessThan(1.1);
    expect(new Set(intervals).size).toBeGreaterThan(intervals.length * 0.9);
  });
});

describe("claimAttemptPlace", () => {
  it("gives an address at most the configured places at once, and frees each exactly once", () => {
    const releases = [claimAttemptPlace("192.0.2.1", 2), claimAttemptPlace("192.0.2.1", 2)];
    expect(releases.every(Boolean)).toBe(true);
    expect(claimAttemptPlace("192.0.2.1", 2)).toBeUndefined();
    expect(claimAttemptPlace("192.0.2.2", 2)).toBeDefined();
    releases[0]!();
    releases[0]!();
    const again = claimAttemptPlace("192.0.2.1", 2);
    expect(again).toBeDefined();
    expect(claimAttemptPlace("192.0.2.1", 2)).toBeUndefined();
  });
});

describe("requiresSameOrigin", () => {
  it("covers state-changing requests to pages, not reads and not NextAuth's own routes", () => {
    expect(requiresSameOrigin("POST", "/admin/account-logs")).toBe(true);
    expect(requiresSameOrigin("PUT", "/")).toBe(true);
    expect(requiresSameOrigin("delete", "/anything")).toBe(true);
    expect(requiresSameOrigin("GET", "/admin/account-logs")).toBe(false);
    expect(requiresSameOrigin("HEAD", "/")).toBe(false);
    expect(requiresSameOrigin("POST", "/api/auth/callback/credentials")).toBe(false);
  });
});

describe("isSameOriginRequest", () => {
  const headers = (values: Record<string, string>) => new Headers(values);
  it("accepts the public URL's origin or the Host's, and nothing else", () => {
    const publicUrl = "https://logs.example.com";
    expect(isSameOriginRequest(headers({ origin: "https://logs.example.com", host: "10.0.0.5:3000" }), publicUrl)).toBe(true);
    expect(isSameOriginRequest(headers({ origin: "http://127.0.0.1:3000", host: "127.0.0.1:3000" }), publicUrl)).toBe(true);
    expect(isSameOriginRequest(headers({ origin: "https://evil.example", host: "127.0.0.1:3000" }), publicUrl)).toBe(false);
    expect(isSameOriginRequest(headers({ origin: "null", host: "127.0.0.1:3000" }), publicUrl)).toBe(false);
    expect(isSameOriginRequest(headers({ host: "127.0.0.1:3000" }), publicUrl)).toBe(false);
    expect(isSameOriginRequest(headers({ origin: "file://127.0.0.1:3000", host: "127.0.0.1:3000" }), publicUrl)).toBe(false);
  });
});

function fakeRequest(peer: string, headers: Record<string, string>): IncomingMessage {
  return { headers: { ...headers }, socket: { remoteAddress: peer } } as unknown as IncomingMessage;
}

describe("stampClientAddress", () => {
  it("drops forwarded host, scheme and port unless a trusted proxy sent them, and Next's internal marker always", () => {
    const forged = {
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
      "x-forwarded-port": "443",
      "x-middleware-subrequest": "middleware:middleware:middleware:middleware:middleware",
    };
    const direct = fakeRequest("203.0.113.7", forged);
    stampClientAddress(direct, compileTrustPolicy("false"));
    expect(direct.headers).not.toHaveProperty("x-forwarded-host");
    expect(direct.headers).not.toHaveProperty("x-forwarded-proto");
    expect(direct.headers).not.toHaveProperty("x-forwarded-port");
    expect(direct.headers).not.toHaveProperty("x-middleware-subrequest");
    expect(direct.headers[CLIENT_IP_HEADER]).toBe("203.0.113.7");

    const proxied = fakeRequest("10.0.0.2", forged);
    stampClientAddress(proxied, compileTrustPolicy("10.0.0.0/8"));
    expect(proxied.headers["x-forwarded-host"]).toBe("evil.example");
    expect(proxied.headers["x-forwarded-proto"]).toBe("https");
    expect(proxied.headers).not.toHaveProperty("x-middleware-subrequest");
  });
});

describe("throttle and unknown-name settings", () => {
  it("default to 100 failures in 10 minutes and a daily reset, and refuse nonsense", () => {
    const env = parseEnv({});
    expect(env.SIGN_IN_RATE_LIMIT_FAILURES).toBe(100);
    expect(env.SIGN_IN_RATE_LIMIT_WINDOW_SECONDS).toBe(600);
    expect(env.SIGN_IN_RATE_LIMIT_CONCURRENT).toBe(10);
    expect(env.UNKNOWN_USERNAME_RESET_HOURS).toBe(24);
    expect(() => parseEnv({ SIGN_IN_RATE_LIMIT_FAILURES: "0" })).toThrow(/SIGN_IN_RATE_LIMIT_FAILURES: expected a whole number/);
    expect(() => parseEnv({ SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: "ten" })).toThrow(/SIGN_IN_RATE_LIMIT_WINDOW_SECONDS/);
    expect(() => parseEnv({ UNKNOWN_USERNAME_RESET_HOURS: "0" })).toThrow(/UNKNOWN_USERNAME_RESET_HOURS/);
  });

  it("tells a throttled client what happened without naming any account", () => {
    expect(signInErrorMessage("RateLimited")).toBe("Too many failed sign-ins from your network. Wait a few minutes, then try again.");
  });
});
