import { env } from "@/lib/env";

type HeaderReader = { get(name: string): string | null };

/**
 * Server actions change state, so they accept only requests whose Origin is this site: the
 * configured public URL, or the Host the request was sent to. A missing or `null` Origin
 * (sandboxed frames, some redirects) is refused.
 */
export function isSameOriginRequest(headers: HeaderReader, publicUrl = env().NEXTAUTH_URL): boolean {
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

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Requests the app's server refuses before Next.js unless they come from this site: anything
 * but GET/HEAD/OPTIONS outside NextAuth's routes, which are server actions. (Next.js would
 * answer a foreign Origin with a 500 and a stack trace in the server log; NextAuth's own POSTs
 * are guarded by its CSRF token.)
 */
export function requiresSameOrigin(method: string | undefined, path: string | undefined): boolean {
  if (SAFE_METHODS.has((method ?? "GET").toUpperCase())) return false;
  return !(path ?? "/").startsWith("/api/auth/");
}
