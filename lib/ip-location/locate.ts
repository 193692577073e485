import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import ipaddr from "ipaddr.js";
import { Reader, type Response } from "mmdb-lib";
import { logServerError } from "@/lib/server-log";
import { classifyAddress, SPECIAL_ADDRESS_LABELS, type SpecialAddressKind } from "./classify";

/** The offline country database: an npm package, so `npm update` brings newer data. */
export const IP_LOCATION_PACKAGE = "@ip-location-db/geo-whois-asn-country-mmdb";
const DATABASE_FILE = "geo-whois-asn-country.mmdb";

export type Country = { code: string; name: string };

export type IpLocation =
  /** `country` is null when the database has no entry for the address. */
  | { kind: "public"; country: Country | null }
  | { kind: SpecialAddressKind; label: string }
  | { kind: "invalid"; label: string }
  | { kind: "none" };

export type IpLocationDatabaseInfo = { package: string; version: string; builtAt: Date };

type OpenDatabase = { reader: Reader<Response>; info: IpLocationDatabaseInfo } | { failed: true };

// One reader per process, shared by the custom server and the Next.js bundle.
const shared = globalThis as unknown as { __accountLogsIpLocation?: OpenDatabase };

/**
 * Resolved from the app's folder at run time, so a bundled server finds the file in
 * node_modules rather than a path the bundler rewrote.
 */
function dataPackageDir(): string {
  const require = createRequire(path.join(/*turbopackIgnore: true*/ process.cwd(), "package.json"));
  return path.dirname(require.resolve(`${IP_LOCATION_PACKAGE}/package.json`));
}

function openDatabase(): OpenDatabase {
  try {
    const dir = dataPackageDir();
    const reader = new Reader<Response>(fs.readFileSync(path.join(/*turbopackIgnore: true*/ dir, DATABASE_FILE)));
    const { version } = JSON.parse(fs.readFileSync(path.join(/*turbopackIgnore: true*/ dir, "package.json"), "utf8")) as { version: string };
    return { reader, info: { package: IP_LOCATION_PACKAGE, version, builtAt: reader.metadata.buildEpoch } };
  } catch (error) {
    // Logged once; addresses then show without a country instead of breaking the page.
    logServerError("ip location database could not be opened", error, { package: IP_LOCATION_PACKAGE });
    return { failed: true };
  }
}

function database(): OpenDatabase {
  shared.__accountLogsIpLocation ??= openDatabase();
  return shared.__accountLogsIpLocation;
}

/** The package and build date of the country data, for credits; undefined if it could not be read. */
export function ipLocationDatabaseInfo(): IpLocationDatabaseInfo | undefined {
  const open = database();
  return "failed" in open ? undefined : open.info;
}

const regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });

const countryNames = new Map<string, string>();

/** Whether `code` (upper-case, two letters) names a region Intl knows: "DE", "XK"; not "QQ". */
export function isRegionCode(code: string): boolean {
  try {
    return regionNames.of(code) !== undefined;
  } catch {
    return false;
  }
}

/** "Germany" for "DE"; the code itself for one Intl does not know. Kept: a page names the same few countries on every row. */
export function countryName(code: string): string {
  let name = countryNames.get(code);
  if (name === undefined) {
    try {
      name = regionNames.of(code) ?? code;
    } catch {
      name = code;
    }
    // Codes come from the database and from rows; a bound keeps odd ones from piling up.
    if (countryNames.size < 1_000) countryNames.set(code, name);
  }
  return name;
}

/** "Germany (DE)": how the pages name a country. */
export const countryLabel = (code: string) => `${countryName(code)} (${code})`;

function lookUpCountry(address: string): Country | null {
  const open = database();
  if ("failed" in open) return null;
  const record = open.reader.get(address) as { country_code?: unknown } | null;
  const code = typeof record?.country_code === "string" ? record.country_code.toUpperCase() : undefined;
  if (!code || !/^[A-Z]{2}$/.test(code)) return null;
  return { code, name: countryName(code) };
}

/**
 * Where an address is, from the offline database: the country of a public address (null when
 * the database has none), or what kind of range a non-public one is. Synchronous, so server
 * components call it directly; the database is read on first use. Never throws.
 */
export function locateIp(ip: string | null | undefined): IpLocation {
  if (ip === null || ip === undefined) return { kind: "none" };
  const known = recentLocations.get(ip);
  if (known) return known;
  const location = locateUncached(ip);
  if (ip.length > 100) return location;
  if (recentLocations.size >= RECENT_LOCATIONS_KEPT) recentLocations.delete(recentLocations.keys().next().value!);
  recentLocations.set(ip, location);
  return location;
}

// A page shows the same few addresses again and again, and each lookup costs tens of
// microseconds; the answers cannot change while the process has the same database open. No
// address is longer than 100 characters, so nothing longer is kept.
const RECENT_LOCATIONS_KEPT = 10_000;
const recentLocations = new Map<string, IpLocation>();

function locateUncached(ip: string): IpLocation {
  const classified = classifyAddress(ip);
  if (classified.kind === "invalid") return { kind: "invalid", label: "Not an IP address" };
  if (classified.kind !== "public") return { kind: classified.kind, label: SPECIAL_ADDRESS_LABELS[classified.kind] };
  try {
    // From the bytes: a zone index ("%eth0") means nothing to the database.
    return { kind: "public", country: lookUpCountry(ipaddr.fromByteArray(classified.address.toByteArray()).toString()) };
  } catch (error) {
    logServerError("ip location lookup failed", error);
    return { kind: "public", country: null };
  }
}

/** The ISO 3166 code of a public address's country, or undefined: what a log row records. */
export function countryOf(ip: string | null | undefined): string | undefined {
  const location = locateIp(ip);
  return location.kind === "public" ? location.country?.code : undefined;
}
