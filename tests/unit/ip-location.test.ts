import { describe, expect, it } from "vitest";
import { classifyAddress } from "@/lib/ip-location/classify";
import { countryName, countryOf, ipLocationDatabaseInfo, locateIp } from "@/lib/ip-location/locate";

const kindOf = (ip: string) => classifyAddress(ip).kind;

describe("classifyAddress", () => {
  it.each([
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.10", "private"],
    ["fd12:3456:789a::1", "unique-local"],
    ["fc00::1", "unique-local"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["169.254.10.20", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["100.64.0.1", "carrier-grade-nat"],
    ["100.127.255.254", "carrier-grade-nat"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.200", "documentation"],
    ["2001:db8::1", "documentation"],
    ["3fff::1", "documentation"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["fec0::1", "reserved"],
    ["4000::1", "reserved"],
    ["8.8.8.8", "public"],
    ["172.32.0.1", "public"],
    ["100.128.0.1", "public"],
    ["2001:4860:4860::8888", "public"],
  ])("%s is %s", (ip, kind) => {
    expect(kindOf(ip)).toBe(kind);
  });

  it("judges IPv4-mapped and NAT64 IPv6 addresses by their IPv4 address", () => {
    expect(kindOf("::ffff:127.0.0.1")).toBe("loopback");
    expect(kindOf("::ffff:10.0.0.1")).toBe("private");
    expect(kindOf("::ffff:8.8.8.8")).toBe("public");
    expect(classifyAddress("::ffff:8.8.8.8").address?.toString()).toBe("8.8.8.8");
    expect(kindOf("64:ff9b::c0a8:0101")).toBe("private");
  });

  it("takes the address of a CIDR, as an inet column may hold one", () => {
    expect(kindOf("10.0.0.0/8")).toBe("private");
    expect(kindOf("8.8.8.8/32")).toBe("public");
  });

  it.each(["", "   ", "not an ip", "127.1", "0x7f.0.0.1", "1", "256.1.1.1", "1.2.3.4.5", "::g", "1.2.3.4/", "/8", "1.2.3.4/33", "10.0.0.0/8/8", "x".repeat(100_000), `${"1:".repeat(5000)}1`])(
    "%j is not an address, and does not throw",
    (ip) => {
      expect(classifyAddress(ip)).toEqual({ kind: "invalid", address: undefined });
    },
  );
});

// Checked against the shipped data (geo-whois-asn-country, built 2026-06-17); a data update
// that moves one of these is worth a look, not a blind fix.
describe("locateIp", () => {
  it.each([
    ["8.8.8.8", "US", "United States"],
    ["1.1.1.1", "AU", "Australia"],
    ["193.0.6.139", "NL", "Netherlands"],
    ["2001:4860:4860::8888", "US", "United States"],
    ["2a00:1450:4001::1", "IE", "Ireland"],
    ["::ffff:8.8.8.8", "US", "United States"],
  ])("%s is in %s", (ip, code, name) => {
    expect(locateIp(ip)).toEqual({ kind: "public", country: { code, name } });
    expect(countryOf(ip)).toBe(code);
  });

  it("labels private, loopback and other non-public ranges and never looks them up", () => {
    expect(locateIp("127.0.0.1")).toEqual({ kind: "loopback", label: "Loopback" });
    expect(locateIp("::1")).toEqual({ kind: "loopback", label: "Loopback" });
    expect(locateIp("192.168.0.5")).toEqual({ kind: "private", label: "Private network" });
    expect(locateIp("100.64.0.1")).toEqual({ kind: "carrier-grade-nat", label: "Carrier-grade NAT" });
    expect(locateIp("192.0.2.1")).toEqual({ kind: "documentation", label: "Documentation range" });
    expect(countryOf("10.0.0.1")).toBeUndefined();
  });

  it("gives a public address the database has no entry for a null country", () => {
    // 2001::/32 (Teredo) is globally routed but registered to no country.
    expect(locateIp("2001::1")).toEqual({ kind: "public", country: null });
    expect(countryOf("2001::1")).toBeUndefined();
  });

  it("answers no address and garbage without throwing", () => {
    expect(locateIp(null)).toEqual({ kind: "none" });
    expect(locateIp(undefined)).toEqual({ kind: "none" });
    expect(locateIp("not an ip")).toEqual({ kind: "invalid", label: "Not an IP address" });
    expect(locateIp("x".repeat(1_000_000))).toEqual({ kind: "invalid", label: "Not an IP address" });
    expect(countryOf("")).toBeUndefined();
  });

  it("names countries in English and keeps an unknown code as it is", () => {
    expect(countryName("DE")).toBe("Germany");
    expect(countryName("XX")).toBe("XX");
  });

  it("reports which data it read, for the credit", () => {
    const info = ipLocationDatabaseInfo();
    expect(info?.package).toBe("@ip-location-db/geo-whois-asn-country-mmdb");
    expect(info?.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(info?.builtAt.getTime()).toBeLessThan(Date.now());
  });
});
