import { UAParser } from "ua-parser-js";

export const USER_AGENT_STORED_MAX = 512;
const HINT_MAX = 256;

export const CLIENT_HINT_HEADERS = [
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-ch-ua-platform-version",
  "sec-ch-ua-full-version-list",
  "sec-ch-ua-model",
] as const;

export type ClientHints = Partial<Record<(typeof CLIENT_HINT_HEADERS)[number], string>>;

export type ClientDescription = {
  summary: string;
  browser?: { name?: string; version?: string };
  os?: { name?: string; version?: string };
  device?: { type?: string; vendor?: string; model?: string };
  userAgent?: { value: string; length: number; truncated: boolean };
  clientHints?: Record<string, string>;
};

/** `"Windows"` → `Windows`: structured-header strings arrive quoted. */
function unquote(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const unquoted = trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  return unquoted === "" ? undefined : unquoted;
}

/** `"Google Chrome";v="131.0.6778.86", "Not_A Brand";v="24"` → brand/version pairs. */
export function parseBrandList(value: string | undefined): { brand: string; version: string }[] {
  if (!value) return [];
  const brands: { brand: string; version: string }[] = [];
  for (const match of value.matchAll(/"([^"]{1,64})"\s*;\s*v\s*=\s*"([^"]{0,32})"/g)) {
    brands.push({ brand: match[1]!, version: match[2]! });
  }
  return brands;
}

// GREASE brands ("Not_A Brand", "Not)A;Brand") exist only to keep parsers honest.
const isGrease = (brand: string) => /not.a.brand/i.test(brand);

function browserFromHints(hints: ClientHints) {
  const brands = parseBrandList(hints["sec-ch-ua-full-version-list"] ?? hints["sec-ch-ua"]).filter((b) => !isGrease(b.brand));
  const specific = brands.find((b) => b.brand !== "Chromium") ?? brands[0];
  if (!specific) return undefined;
  const name = specific.brand.replace(/^Google /, "").replace(/^Microsoft /, "");
  return { name, version: specific.version.split(".")[0] || undefined };
}

function windowsFromPlatformVersion(version: string): string | undefined {
  const [major, minor] = version.split(".").map(Number);
  if (major === undefined || Number.isNaN(major)) return undefined;
  if (major >= 13) return "11";
  if (major >= 1) return "10";
  return { 1: "7", 2: "8", 3: "8.1" }[minor ?? 0];
}

function osFromHints(hints: ClientHints) {
  const platform = unquote(hints["sec-ch-ua-platform"]);
  if (!platform) return undefined;
  const version = unquote(hints["sec-ch-ua-platform-version"]);
  if (platform === "Windows") return { name: "Windows", version: version ? windowsFromPlatformVersion(version) : undefined };
  if (platform === "macOS" || platform === "Android" || platform === "iOS" || platform === "Chrome OS") {
    const major = version?.split(".")[0];
    return { name: platform, version: major && major !== "0" ? major : undefined };
  }
  return { name: platform };
}

function osFromUserAgent(name: string | undefined, version: string | undefined) {
  if (!name) return undefined;
  // Browsers freeze these values, so they no longer tell the real version.
  if (name === "Windows" && version === "10") return { name, version: "10/11" };
  if (name === "Mac OS") return { name: "macOS", version: version && version !== "10.15.7" ? version : undefined };
  if (name === "Android" && version === "10") return { name };
  return { name, version };
}

// Chrome's reduced user agent says "Android 10; K" whatever the device is.
const reducedModel = (model: string | undefined) => (model === "K" ? undefined : model);

function label(part: { name?: string; version?: string } | undefined): string | undefined {
  if (!part?.name) return undefined;
  return part.version ? `${part.name} ${part.version}` : part.name;
}

/**
 * Browser, OS and device from the user agent, improved by client hints where sent:
 * "Chrome 131 · Windows 11". Only what the client tells is shown; frozen values are not guessed.
 */
export function describeClient({ userAgent, hints = {} }: { userAgent?: string; hints?: ClientHints }): ClientDescription {
  const boundedHints: Record<string, string> = {};
  for (const name of CLIENT_HINT_HEADERS) {
    const value = hints[name];
    if (value) boundedHints[name] = value.slice(0, HINT_MAX);
  }
  const ua = userAgent ? userAgent.slice(0, USER_AGENT_STORED_MAX) : undefined;
  // Parsing only the stored prefix bounds the regex work a hostile 10 KB user agent can cause.
  const parsed = ua ? new UAParser(ua).getResult() : undefined;

  const browser =
    browserFromHints(boundedHints) ??
    (parsed?.browser.name ? { name: parsed.browser.name, version: parsed.browser.major } : undefined);
  const os = osFromHints(boundedHints) ?? osFromUserAgent(parsed?.os.name, parsed?.os.version);
  const hintedModel = unquote(boundedHints["sec-ch-ua-model"]);
  const deviceType = parsed?.device.type ?? (boundedHints["sec-ch-ua-mobile"] === "?1" ? "mobile" : undefined);
  const device =
    deviceType || hintedModel
      ? { type: deviceType, vendor: parsed?.device.vendor, model: hintedModel ?? reducedModel(parsed?.device.model) }
      : undefined;

  const parts = [label(browser), label(os), device ? (device.model ?? device.type) : undefined].filter(Boolean);
  return {
    summary: parts.length > 0 ? parts.join(" · ") : userAgent ? "Unrecognized client" : "No user agent",
    ...(browser && { browser }),
    ...(os && { os }),
    ...(device && { device }),
    ...(userAgent !== undefined && {
      userAgent: { value: ua!, length: userAgent.length, truncated: userAgent.length > USER_AGENT_STORED_MAX },
    }),
    ...(Object.keys(boundedHints).length > 0 && { clientHints: boundedHints }),
  };
}
