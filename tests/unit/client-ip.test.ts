import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import {
  CLIENT_FORWARDED_HEADER,
  CLIENT_IP_HEADER,
  canonicalIp,
  clientIpFromHeaders,
  compileTrustPolicy,
  forwardedHeadersFrom,
  hopCountTrustWarning,
  resolveClientIp,
  stampClientAddress,
} from "@/lib/client/ip";

const none = compileTrustPolicy("false");

describe("resolveClientIp", () => {
  it("uses the TCP peer and ignores X-Forwarded-For when no proxy is trusted", () => {
    expect(resolveClientIp({ socketAddress: "203.0.113.7", forwardedFor: "6.6.6.6" }, none)).toBe("203.0.113.7");
  });

  it("unwraps IPv4-mapped IPv6 peers", () => {
    expect(resolveClientIp({ socketAddress: "::ffff:127.0.0.1", forwardedFor: undefined }, none)).toBe("127.0.0.1");
    expect(canonicalIp("2001:DB8:0:0::1")).toBe("2001:db8::1");
  });

  it("takes exactly the configured hop behind a hop count", () => {
    const oneHop = compileTrustPolicy("1");
    expect(resolveClientIp({ socketAddress: "10.0.0.2", forwardedFor: "6.6.6.6, 198.51.100.9" }, oneHop)).toBe("198.51.100.9");
    const twoHops = compileTrustPolicy("2");
    expect(resolveClientIp({ socketAddress: "10.0.0.2", forwardedFor: "6.6.6.6, 198.51.100.9, 10.0.0.1" }, twoHops)).toBe(
      "198.51.100.9",
    );
  });

  it("walks past trusted proxy addresses only", () => {
    const trusted = compileTrustPolicy("10.0.0.0/8, ::1");
    expect(resolveClientIp({ socketAddress: "10.0.0.2", forwardedFor: "6.6.6.6, 198.51.100.9, 10.1.2.3" }, trusted)).toBe(
      "198.51.100.9",
    );
    // A peer outside the trusted list is the client, whatever it claims.
    expect(resolveClientIp({ socketAddress: "192.0.2.1", forwardedFor: "6.6.6.6" }, trusted)).toBe("192.0.2.1");
  });

  it("never turns garbage in X-Forwarded-For into the client address", () => {
    const oneHop = compileTrustPolicy("1");
    expect(resolveClientIp({ socketAddress: "10.0.0.2", forwardedFor: "<script>, not-an-ip" }, oneHop)).toBe("10.0.0.2");
  });

  it("rejects a policy that would trust every client", () => {
    expect(() => compileTrustPolicy("true")).toThrow(/hop count/);
    expect(() => compileTrustPolicy("10.0.0.0/99")).toThrow(/TRUST_PROXY/);
  });
});

describe("stampClientAddress", () => {
  it("replaces client-sent internal headers and keeps the forwarding headers for investigation", () => {
    const request = {
      headers: {
        [CLIENT_IP_HEADER]: "6.6.6.6",
        "x-forwarded-for": "6.6.6.6",
        "x-real-ip": "7.7.7.7",
        forwarded: "for=8.8.8.8",
      },
      socket: { remoteAddress: "::ffff:192.0.2.10" },
    } as unknown as IncomingMessage;
    stampClientAddress(request, none);
    expect(clientIpFromHeaders(request.headers)).toBe("192.0.2.10");
    expect(forwardedHeadersFrom(request.headers)).toEqual({
      "x-forwarded-for": "6.6.6.6",
      "x-real-ip": "7.7.7.7",
      forwarded: "for=8.8.8.8",
    });
  });

  it("bounds forwarded values and ignores an unparsable internal header", () => {
    const request = {
      headers: { "x-forwarded-for": "1.1.1.1, ".repeat(200) },
      socket: { remoteAddress: "127.0.0.1" },
    } as unknown as IncomingMessage;
    stampClientAddress(request, none);
    expect(forwardedHeadersFrom(request.headers)?.["x-forwarded-for"]).toHaveLength(256);
    expect(forwardedHeadersFrom({ [CLIENT_FORWARDED_HEADER]: "%E0%A4%A" })).toBeUndefined();
    expect(clientIpFromHeaders({ [CLIENT_IP_HEADER]: "not an ip" })).toBeUndefined();
  });
});

describe("hopCountTrustWarning", () => {
  it("warns about a hop count on an address beyond loopback", () => {
    expect(hopCountTrustWarning("1", "0.0.0.0")).toMatch(/TRUST_PROXY=1 trusts 1 hop\(s\).*listens on 0\.0\.0\.0/);
    expect(hopCountTrustWarning("2", "10.1.2.3")).toContain("HOST=127.0.0.1");
  });

  it("is quiet on loopback, without a hop count, or with proxy addresses", () => {
    for (const host of ["127.0.0.1", "::1", "localhost"]) expect(hopCountTrustWarning("1", host)).toBeUndefined();
    for (const setting of ["false", "0", "loopback", "10.0.0.0/8"]) expect(hopCountTrustWarning(setting, "0.0.0.0")).toBeUndefined();
  });
});
