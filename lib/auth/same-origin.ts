/**
 * Server actions change state, so they accept only requests whose Origin is this site: the
 * configured public URL, or the Host the request was sent to. A missing or `null` Origin
 * (sandboxed frames, some redirects) is refused.
 */
export function isSameOriginRequest(headers: Headers, publicUrl = process.env.NEXTAUTH_URL): boolean {
  const origin = headers.get("origin");
  if (!origin || origin === "null") return false;
  let originUrl: URL;
  try {
    originUrl = new URL(origin);
  } catch {
    return false;
  }
  if (publicUrl) {
    try {
      if (new URL(publicUrl).origin === originUrl.origin) return true;
    } catch {
      // An invalid public URL matches nothing.
    }
  }
  const host = headers.get("host");
  return Boolean(host) && originUrl.host === host && (originUrl.protocol === "http:" || originUrl.protocol === "https:");
}
