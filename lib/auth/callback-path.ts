/**
 * Where to go after sign-in: a path on this site only. Absolute, protocol-relative (`//x`)
 * and backslash (`/\x`) forms, which browsers may treat as another host, become "/".
 */
export function safeCallbackPath(value: unknown): string {
  if (typeof value !== "string" || value.length > 2048) return "/";
  let candidate = value;
  try {
    const url = new URL(value, "http://placeholder.invalid");
    if (url.origin !== "http://placeholder.invalid") {
      // An absolute URL: keep only its path, which the caller checks below like any other.
      candidate = `${url.pathname}${url.search}${url.hash}`;
    }
  } catch {
    return "/";
  }
  if (!candidate.startsWith("/") || candidate.startsWith("//") || candidate.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f\\]/.test(candidate)) return "/";
  return candidate.startsWith("/login") ? "/" : candidate;
}
