import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";

/** Set by the app's own server from the TCP peer and the proxy policy; never from the client. */
export const CLIENT_IP_HEADER = "x-account-logs-client-ip";
/** The forwarding headers exactly as the client sent them, kept for investigation only. */
export const CLIENT_FORWARDED_HEADER = "x-account-logs-forwarded";

const FORWARDING_HEADERS = ["x-forwarded-for", "x-real-ip", "forwarded"] as const;
/** Headers that Next.js reads for the request's host, scheme and port, and its internal marker. */
const PROXY_ONLY_HEADERS = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"] as const;
const NEXT_INTERNAL_HEADERS = ["x-middleware-subrequest"] as const;
const FORWARDED_VALUE_MAX = 256;

export type TrustPolicy = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY: `false` (default: the TCP peer is the client), a hop count (`1` = one reverse
 * proxy in front), or a comma-separated list of proxy addresses and CIDRs (`10.0.0.0/8,::1`,
 * also `loopback`, `linklocal`, `uniquelocal`).
 */
export function compileTrustPolicy(setting: string): TrustPolicy {
  const value = setting.trim().toLowerCase();
  if (value === "" || value === "false" || value === "0") return () => false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  if (value === "true") {
    throw new Error("TRUST_PROXY=true would believe any client's X-Forwarded-For; give a hop count or proxy addresses.");
  }
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  try {
    return proxyaddr.compile(entries);
  } catch (error) {
    throw new Error(`TRUST_PROXY: ${(error as Error).message}; expected a hop count or addresses/CIDRs.`, { cause: error });
  }
}

/**
 * A hop count trusts whatever peer connects, so it is only safe when nothing but the proxy can
 * reach the server. Listening beyond loopback with one, a client that connects directly can
 * write its own X-Forwarded-For. Returns the warning to print at start, if any.
 */
export function hopCountTrustWarning(setting: string, host: string): string | undefined {
  const value = setting.trim();
  if (!/^\d+$/.test(value) || Number(value) === 0) return undefined;
  const loopback = host === "localhost" || host === "::1" || /^127\./.test(host);
  if (loopback) return undefined;
  return (
    `TRUST_PROXY=${value} trusts ${value} hop(s) of X-Forwarded-For from any peer, and the server listens on ${host}: ` +
    `a client that reaches it directly can choose its logged address. Listen on loopback (HOST=127.0.0.1) behind the proxy, ` +
    `or give the proxy's addresses instead (TRUST_PROXY=10.0.0.5 or a CIDR).`
  );
}

/** Plain dotted IPv4 for IPv4-mapped IPv6 peers, canonical text otherwise; undefined if invalid. */
export function canonicalIp(address: string | undefined): string | undefined {
  if (!address || !ipaddr.isValid(address)) return undefined;
  return ipaddr.process(address).toString();
}

/** The client address: the TCP peer, or the X-Forwarded-For hop the policy trusts up to. */
export function resolveClientIp(
  { socketAddress, forwardedFor }: { socketAddress: string | undefined; forwardedFor: string | undefined },
  trust: TrustPolicy,
): string | undefined {
  if (!socketAddress) return undefined;
  const request = {
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
    connection: { remoteAddress: socketAddress },
    socket: { remoteAddress: socketAddress },
  } as unknown as IncomingMessage;
  // proxy-addr walks right to left and stops at the first hop it doesn't trust; a malformed
  // hop is where it stops, so garbage in the header cannot become the client address.
  return canonicalIp(proxyaddr(request, trust)) ?? canonicalIp(socketAddress);
}

function headerText(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Runs in the app's own HTTP server before Next.js sees the request: drops any client-sent
 * copy of the internal headers, then sets the client address from the socket and policy.
 * `X-Forwarded-Host`/`-Proto`/`-Port` are kept only from a trusted proxy, and Next.js's internal
 * `x-middleware-subrequest` never (CVE-2025-29927 let it skip the middleware).
 */
export function stampClientAddress(request: IncomingMessage, trust: TrustPolicy): void {
  delete request.headers[CLIENT_IP_HEADER];
  delete request.headers[CLIENT_FORWARDED_HEADER];
  for (const name of NEXT_INTERNAL_HEADERS) delete request.headers[name];
  const peer = request.socket.remoteAddress;
  if (!peer || !trust(peer, 0)) {
    for (const name of PROXY_ONLY_HEADERS) delete request.headers[name];
  }
  const forwarded: Record<string, string> = {};
  for (const name of FORWARDING_HEADERS) {
    const value = headerText(request.headers[name]);
    if (value !== undefined) forwarded[name] = value.slice(0, FORWARDED_VALUE_MAX);
  }
  if (Object.keys(forwarded).length > 0) {
    request.headers[CLIENT_FORWARDED_HEADER] = encodeURIComponent(JSON.stringify(forwarded));
  }
  const clientIp = resolveClientIp(
    { socketAddress: request.socket.remoteAddress, forwardedFor: headerText(request.headers["x-forwarded-for"]) },
    trust,
  );
  if (clientIp) request.headers[CLIENT_IP_HEADER] = clientIp;
}

type HeaderSource = Headers | IncomingHttpHeaders | Record<string, string | string[] | undefined>;

export function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  return headerText((headers as IncomingHttpHeaders)[name]);
}

/** The client address the app's server stamped, or undefined when it did not run. */
export function clientIpFromHeaders(headers: HeaderSource): string | undefined {
  return canonicalIp(readHeader(headers, CLIENT_IP_HEADER));
}

export function forwardedHeadersFrom(headers: HeaderSource): Record<string, string> | undefined {
  const encoded = readHeader(headers, CLIENT_FORWARDED_HEADER);
  if (!encoded) return undefined;
  try {
    const parsed = JSON.parse(decodeURIComponent(encoded)) as Record<string, unknown>;
    const result: Record<string, string> = {};
    for (const name of FORWARDING_HEADERS) {
      const value = parsed[name];
      if (typeof value === "string") result[name] = value.slice(0, FORWARDED_VALUE_MAX);
    }
    return result;
  } catch {
    return undefined;
  }
}
