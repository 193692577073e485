import { createHash, randomBytes } from "node:crypto";

/** How long a session lasts after its sign-in, whatever the activity (the JWT's maxAge too). */
export const SESSION_LIFETIME_SECONDS = 8 * 60 * 60;

/** A session's last-seen time is written at most this often. */
export const LAST_SEEN_WRITE_INTERVAL_SECONDS = 60;

/** The random key a session's cookie carries: 256 bits, URL-safe. */
export function newSessionKey(): string {
  return randomBytes(32).toString("base64url");
}

/** What the database keeps of a key: its SHA-256, which cannot be turned back into a cookie. */
export function sessionKeyHash(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
