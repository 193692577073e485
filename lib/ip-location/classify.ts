import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";

export const SPECIAL_ADDRESS_KINDS = [
  "private",
  "loopback",
  "link-local",
  "unique-local",
  "carrier-grade-nat",
  "multicast",
  "unspecified",
  "documentation",
  "reserved",
] as const;
export type SpecialAddressKind = (typeof SPECIAL_ADDRESS_KINDS)[number];
export type AddressKind = "public" | SpecialAddressKind;

export const SPECIAL_ADDRESS_LABELS: Record<SpecialAddressKind, string> = {
  private: "Private network",
  loopback: "Loopback",
  "link-local": "Link-local",
  "unique-local": "Private network (unique local)",
  "carrier-grade-nat": "Carrier-grade NAT",
  multicast: "Multicast",
  unspecified: "Unspecified address",
  documentation: "Documentation range",
  reserved: "Reserved range",
};

export type ClassifiedAddress =
  | { kind: AddressKind; address: ipaddr.IPv4 | ipaddr.IPv6 }
  | { kind: "invalid"; address: undefined };

// Longer than any textual address, even IPv6 with a zone: refused before parsing.
const MAX_ADDRESS_LENGTH = 100;

// ipaddr.js files these under "reserved" (IPv4) or not at all; they are examples, not hosts.
const DOCUMENTATION_RANGES = [
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "2001:db8::/32",
  "3fff::/20",
].map((cidr) => ipaddr.parseCIDR(cidr));

// Globally routed anycast and tunnel prefixes: the address is public, wherever it leads.
const PUBLIC_IPV6_RANGES = new Set(["unicast", "6to4", "teredo", "amt", "as112v6"]);
const PUBLIC_IPV4_RANGES = new Set(["unicast", "as112", "amt"]);
const GLOBAL_UNICAST_IPV6 = ipaddr.parseCIDR("2000::/3");
const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96");

function isDocumentation(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return DOCUMENTATION_RANGES.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));
}

/**
 * Strict forms only: "127.1" and "0x7f.0.0.1" are not addresses a log row holds. Node's checks
 * come first because ipaddr.js tests a string by throwing, which costs a page of addresses
 * milliseconds.
 */
function parse(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const [host = "", bits, ...rest] = text.split("/");
  if (rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) return undefined;
  if (isIPv4(host) && (bits === undefined || Number(bits) <= 32)) return ipaddr.IPv4.parse(host);
  if (isIPv6(host) && ipaddr.IPv6.isValid(host) && (bits === undefined || Number(bits) <= 128)) return ipaddr.IPv6.parse(host);
  return undefined;
}

function classifyIPv4(address: ipaddr.IPv4): AddressKind {
  if (isDocumentation(address)) return "documentation";
  const range = address.range();
  switch (range) {
    case "unspecified":
      // 0.0.0.0/8 is "this network"; only 0.0.0.0 itself is the unspecified address.
      return address.toString() === "0.0.0.0" ? "unspecified" : "reserved";
    case "private":
    case "loopback":
    case "multicast":
      return range;
    case "linkLocal":
      return "link-local";
    case "carrierGradeNat":
      return "carrier-grade-nat";
    default:
      return PUBLIC_IPV4_RANGES.has(range) ? "public" : "reserved";
  }
}

function classifyIPv6(address: ipaddr.IPv6): AddressKind {
  if (isDocumentation(address)) return "documentation";
  const range = address.range();
  switch (range) {
    case "unspecified":
    case "loopback":
    case "multicast":
      return range;
    case "linkLocal":
      return "link-local";
    case "uniqueLocal":
      return "unique-local";
    default:
      if (!PUBLIC_IPV6_RANGES.has(range)) return "reserved";
      // Outside 2000::/3 nothing is allocated yet.
      return address.match(GLOBAL_UNICAST_IPV6) ? "public" : "reserved";
  }
}

/**
 * What kind of address this is: public, or one of the ranges that never locate a client
 * (private, loopback, …). An IPv4-mapped IPv6 address (and one behind the NAT64 well-known
 * prefix) is judged by its IPv4 address. Anything that is not an address is "invalid".
 */
export function classifyAddress(ip: string): ClassifiedAddress {
  const text = ip.trim();
  if (text === "" || text.length > MAX_ADDRESS_LENGTH) return { kind: "invalid", address: undefined };
  let address = parse(text);
  if (!address) return { kind: "invalid", address: undefined };
  if (address.kind() === "ipv6") {
    const v6 = address as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress() || v6.match(NAT64_WELL_KNOWN)) address = new ipaddr.IPv4(v6.toByteArray().slice(12));
  }
  const kind = address.kind() === "ipv4" ? classifyIPv4(address as ipaddr.IPv4) : classifyIPv6(address as ipaddr.IPv6);
  return { kind, address };
}
