export const USERNAME_STORED_MAX = 256;

/**
 * Text PostgreSQL can store: lone surrogates become U+FFFD and NUL, which text and jsonb
 * reject, becomes U+2400 (␀) so the attempt is still one visible row.
 */
export function storableText(value: string): string {
  return value.toWellFormed().replaceAll("\u0000", "\u2400");
}

/** The username as typed, bounded by code points so a cut never splits a character. */
export function boundUsername(raw: string): { username: string; truncated: boolean } {
  const clean = storableText(raw);
  const codePoints = [...clean.slice(0, USERNAME_STORED_MAX * 2)];
  if (codePoints.length <= USERNAME_STORED_MAX && clean.length <= USERNAME_STORED_MAX * 2) {
    return { username: clean, truncated: false };
  }
  return { username: codePoints.slice(0, USERNAME_STORED_MAX).join(""), truncated: true };
}
