import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/** Why a destination is refused, in words for the admin who typed it. */
export class StreamDestinationError extends Error {
  override name = "StreamDestinationError";
}

export type AddressKind = "loopback" | "private" | "link-local" | "metadata" | "unroutable" | "public";

function blocks(entries: [string, number, "ipv4" | "ipv6"][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of entries) list.addSubnet(network, prefix, family);
  return list;
}

// Cloud metadata services answer on these, and hand out credentials: never a destination.
const METADATA = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16", "fd00:ec2::254", "fd20:ce::254", "192.0.0.192"]);
const LOOPBACK = blocks([
  ["127.0.0.0", 8, "ipv4"],
  ["::1", 128, "ipv6"],
]);
const LINK_LOCAL = blocks([
  ["169.254.0.0", 16, "ipv4"],
  ["fe80::", 10, "ipv6"],
]);
const PRIVATE = blocks([
  ["10.0.0.0", 8, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["100.64.0.0", 10, "ipv4"],
  ["fc00::", 7, "ipv6"],
  ["fec0::", 10, "ipv6"],
]);
const UNROUTABLE = blocks([
  ["0.0.0.0", 8, "ipv4"],
  ["224.0.0.0", 3, "ipv4"],
  ["::", 128, "ipv6"],
  ["ff00::", 8, "ipv6"],
]);

const hexPairToIpv4 = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255].join(".");

/**
 * The IPv4 address an IPv6 one carries, if any: IPv4-mapped (`::ffff:1.2.3.4`, or as the URL
 * parser writes it `::ffff:102:304`), IPv4-compatible (`::1.2.3.4`), NAT64 (`64:ff9b::/96`) and
 * 6to4 (`2002:AABB:CCDD::/16`). Each reaches that IPv4 address, so it is judged as that address.
 */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (dotted) return dotted;
  const tail = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (tail) return hexPairToIpv4(parseInt(tail[1]!, 16), parseInt(tail[2]!, 16));
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(?::|$)/i.exec(address);
  if (sixToFour) return hexPairToIpv4(parseInt(sixToFour[1]!, 16), parseInt(sixToFour[2]!, 16));
  return undefined;
}

/** What kind of address a destination resolved to; an IPv6 address carrying an IPv4 one counts as that one. */
export function addressKind(address: string): AddressKind {
  const ip = (isIP(address) === 6 && embeddedIpv4(address)) || address;
  const family = isIP(ip) === 6 ? "ipv6" : "ipv4";
  if (METADATA.has(ip.toLowerCase())) return "metadata";
  if (LOOPBACK.check(ip, family)) return "loopback";
  if (LINK_LOCAL.check(ip, family)) return "link-local";
  if (UNROUTABLE.check(ip, family)) return "unroutable";
  if (PRIVATE.check(ip, family)) return "private";
  return "public";
}

export type CheckedDestination = { url: URL; addresses: { address: string; family: 4 | 6 }[] };
type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;
type CheckOptions = { allowPrivate: boolean; resolve?: Resolve };
const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/** Ports syslog listens on by default: RFC 5425 (TLS) and the customary plain TCP one. */
export const SYSLOG_TLS_PORT = 6514;
export const SYSLOG_TCP_PORT = 514;

/**
 * Resolves a destination's host and checks every address it gives: never a link-local,
 * metadata or unroutable address; a private one only with `allowPrivate`; for an unencrypted
 * transport, only where `plainAllowed` says. The addresses returned are the ones to connect to,
 * so a second lookup cannot point the connection elsewhere.
 */
async function checkedAddresses(url: URL, { allowPrivate, resolve = systemResolve }: CheckOptions, plainAllowed?: (kind: AddressKind, host: string, address: string) => void): Promise<CheckedDestination> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new StreamDestinationError("The URL names no host.");
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host);
  } catch (error) {
    throw new StreamDestinationError(`${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? "lookup failed"}).`);
  }
  if (addresses.length === 0) throw new StreamDestinationError(`${host} does not resolve.`);
  for (const { address } of addresses) {
    const kind = addressKind(address);
    if (kind === "link-local" || kind === "metadata" || kind === "unroutable") {
      throw new StreamDestinationError(`${host} resolves to ${address}, a ${kind} address: never a destination.`);
    }
    if (kind === "private" && !allowPrivate) {
      throw new StreamDestinationError(`${host} resolves to ${address}, a private address: set STREAM_ALLOW_PRIVATE=true to send inside your network.`);
    }
    plainAllowed?.(kind, host, address);
  }
  return { url, addresses: addresses.map(({ address, family }) => ({ address, family: family === 6 ? (6 as const) : (4 as const) })) };
}

function parsedUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new StreamDestinationError("The URL is not a valid absolute URL.");
  }
}

/**
 * A webhook URL checked where it matters, after DNS: HTTPS, or plain HTTP to this machine only,
 * and the address rules of `checkedAddresses`.
 */
export async function checkWebhookDestination(raw: string, options: CheckOptions): Promise<CheckedDestination> {
  const url = parsedUrl(raw);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new StreamDestinationError("A webhook URL starts with https:// (or http:// to this machine).");
  if (url.username || url.password) throw new StreamDestinationError("Put credentials in a header, not in the URL: the URL is shown on the page.");
  if (url.hash) throw new StreamDestinationError("A webhook URL has no #fragment.");
  return checkedAddresses(url, options, (kind, host, address) => {
    if (url.protocol === "http:" && kind !== "loopback") {
      throw new StreamDestinationError(`Plain HTTP goes to this machine only (a local log shipper); ${host} resolves to ${address}. Use https://.`);
    }
  });
}

/**
 * A syslog destination, `tls://host[:6514]` (RFC 5425) or `tcp://host[:514]`. Plain TCP carries
 * the log unencrypted, so it goes to this machine (a local relay) or, with STREAM_ALLOW_PRIVATE,
 * inside the network; never to a public address.
 */
export async function checkSyslogDestination(raw: string, options: CheckOptions): Promise<CheckedDestination> {
  const url = parsedUrl(raw);
  if (url.protocol !== "tls:" && url.protocol !== "tcp:") throw new StreamDestinationError("A syslog URL is tls://host:6514, or tcp://host:514 inside your network.");
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "" && url.pathname !== "/")) {
    throw new StreamDestinationError("A syslog URL is only a host and a port: tls://host:6514.");
  }
  if (!url.port) url.port = String(url.protocol === "tls:" ? SYSLOG_TLS_PORT : SYSLOG_TCP_PORT);
  return checkedAddresses(url, options, (kind, host, address) => {
    if (url.protocol === "tcp:" && kind === "public") {
      throw new StreamDestinationError(`Plain TCP sends the log unencrypted: ${host} resolves to ${address}, a public address. Use tls://.`);
    }
  });
}

/** Connects only to the addresses that were checked: Node asks for all of them (to try each) or for one. */
export function pinnedLookup(addresses: CheckedDestination["addresses"]) {
  return (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

/**
 * A URL as the page and the log show it: credentials often sit in a webhook's path (Slack,
 * Discord, Teams) or query (Datadog, Azure SAS), so path segments of 16 characters or more and
 * the whole query are cut out. The full URL is kept sealed.
 */
export function displayUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol === "tls:" || url.protocol === "tcp:") return `${url.protocol}//${url.host}`;
  const path = url.pathname
    .split("/")
    .map((segment) => (segment.length >= 16 ? "…" : segment))
    .join("/");
  return `${url.origin}${path}${url.search ? "?…" : ""}`;
}
