import "server-only";
import type { AccountLog, AccountLogMetadata, AccountLogResult } from "@/db/schema";
import { countryLabel, locateIp } from "@/lib/ip-location/locate";
import { describeExportFilter } from "./filters";
import { accountLogHref, exactUsernameTerm } from "./search-params";

/**
 * One row of the log table, as the browser needs it: plain values the server worked out (the
 * address's country, the signals, the details behind the metadata), so the table's markup is
 * rendered from a compact list rather than sent as an element tree.
 */
export type LogRowView = {
  id: number;
  username: string;
  usernameNormalized: string;
  usernameTruncated: boolean;
  /** The exact-username view this username links to. */
  href: string;
  /** "Failure burst": the username had a burst of failures in the last day. */
  burst: boolean;
  at: Date;
  result: AccountLogResult;
  /** Signals shown beside the result: "New IP", "New country", "Password spraying". */
  marks: string[];
  ip: string | null;
  /** What the visually hidden prefix and the text beside the address say: "Located in " "Germany (DE)". */
  place: [prefix: string, text: string] | null;
  summary: string;
  /** Name and value of everything else recorded, behind the summary. */
  details: [string, string][];
  /** The account to offer Unlock for, when it is locked. */
  unlockUserId: number | null;
};

/** The raw user agent and what else a row recorded, each as a name and a value. */
export function metadataDetails(metadata: AccountLogMetadata): [string, string][] {
  const details: [string, string][] = [];
  if (metadata.userAgent) {
    const { value, length, truncated } = metadata.userAgent;
    details.push(["User agent", truncated ? `${value}… (${length} characters, cut)` : value]);
  }
  for (const [name, value] of Object.entries(metadata.clientHints ?? {})) details.push([name, value]);
  for (const [name, value] of Object.entries(metadata.forwardedHeaders ?? {})) details.push([`${name} (sent by client, untrusted)`, value]);
  if (metadata.actor) {
    const via = metadata.actor.via === "command line" || metadata.actor.via === "start-up" ? ` (${metadata.actor.via})` : "";
    details.push(["By", `${metadata.actor.username}${via}`]);
  }
  if (metadata.reason) details.push(["Reason", metadata.reason]);
  if (metadata.role) details.push(["Role", metadata.role.from ? `${metadata.role.from} → ${metadata.role.to}` : metadata.role.to]);
  if (metadata.export) {
    const { format, filter } = metadata.export;
    details.push(["Exported", `${format === "ndjson" ? "JSON" : format.toUpperCase()}, ${describeExportFilter(filter)}`]);
  }
  if (metadata.resource) details.push(["Asked for", metadata.resource]);
  if (metadata.count !== undefined) {
    // An access_denied row counting the refusals past the per-user limit of its window.
    const each = Object.entries(metadata.resources ?? {}).map(([resource, n]) => `${resource} ${n.toLocaleString("en-US")}`);
    details.push(["Refusals", `${metadata.count.toLocaleString("en-US")} from ${metadata.from ?? "?"} to ${metadata.to ?? "?"}${each.length > 1 ? ` (${each.join(", ")})` : ""}`]);
  }
  if (metadata.otherAddresses?.length) details.push(["Also from", metadata.otherAddresses.join(", ")]);
  if (metadata.failedAttempts !== undefined) details.push(["Consecutive failures", String(metadata.failedAttempts)]);
  return details;
}

/**
 * The country stored with the row at sign-in (what the country filter selects by, so the two
 * never disagree), or the kind of range the address is in; null without an address.
 */
function placeOf(ip: string | null, metadata: AccountLogMetadata): LogRowView["place"] {
  const location = locateIp(ip);
  if (location.kind === "none") return null;
  if (location.kind !== "public") return ["Range: ", location.label];
  const country = metadata.location?.country;
  return ["Located in ", country ? countryLabel(country) : "Country unknown"];
}

/** What the rows are marked with, read for the page's rows by `findRowFlags` (signals.ts). */
export type RowFlags = {
  lockedUserIds: Set<number>;
  /** Addresses spraying passwords and usernames with failure bursts, as "Needs attention" defines them. */
  sprayingIps: Set<string>;
  burstUsernames: Set<string>;
};

/** No marks: the rows as they are, when their flags could not be read. */
export const NO_ROW_FLAGS: RowFlags = { lockedUserIds: new Set(), sprayingIps: new Set(), burstUsernames: new Set() };

export function logRowView(row: AccountLog, { lockedUserIds, sprayingIps, burstUsernames }: RowFlags): LogRowView {
  const marks = [
    ...(row.metadata.signals?.newIp ? ["New IP"] : []),
    ...(row.metadata.signals?.newCountry ? ["New country"] : []),
    ...(row.ip && row.result.startsWith("login_failed") && sprayingIps.has(row.ip) ? ["Password spraying"] : []),
  ];
  return {
    id: row.id,
    username: row.username,
    usernameNormalized: row.usernameNormalized,
    usernameTruncated: row.usernameTruncated,
    href: accountLogHref({ term: exactUsernameTerm(row.usernameNormalized) }),
    burst: burstUsernames.has(row.usernameNormalized),
    at: row.occurredAt,
    result: row.result,
    marks,
    ip: row.ip,
    place: placeOf(row.ip, row.metadata),
    summary: row.metadata.summary ?? "—",
    details: metadataDetails(row.metadata),
    unlockUserId: row.userId !== null && lockedUserIds.has(row.userId) ? row.userId : null,
  };
}
