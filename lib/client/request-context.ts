import { clientIpFromHeaders, forwardedHeadersFrom, readHeader } from "./ip";
import { CLIENT_HINT_HEADERS, describeClient, type ClientHints } from "./user-agent";
import type { AccountLogMetadata } from "@/db/schema";
import { countryOf } from "@/lib/ip-location/locate";

/** What the log records about where a request came from. */
export type RequestContext = {
  ip: string | undefined;
  userAgent: string | undefined;
  hints: ClientHints;
  forwardedHeaders: Record<string, string> | undefined;
};

type HeaderSource = Parameters<typeof readHeader>[0];

export function requestContextFromHeaders(headers: HeaderSource): RequestContext {
  const hints: ClientHints = {};
  for (const name of CLIENT_HINT_HEADERS) {
    const value = readHeader(headers, name);
    if (value) hints[name] = value;
  }
  return {
    ip: clientIpFromHeaders(headers),
    userAgent: readHeader(headers, "user-agent"),
    hints,
    forwardedHeaders: forwardedHeadersFrom(headers),
  };
}

export function requestMetadata(context: RequestContext): AccountLogMetadata {
  const metadata: AccountLogMetadata = describeClient({ userAgent: context.userAgent, hints: context.hints });
  // The country as the offline database had it at the time: later updates of the database do
  // not rewrite history, and the new-country signal compares these.
  const country = countryOf(context.ip);
  if (country) metadata.location = { country };
  if (context.forwardedHeaders && Object.keys(context.forwardedHeaders).length > 0) {
    metadata.forwardedHeaders = context.forwardedHeaders;
  }
  return metadata;
}
