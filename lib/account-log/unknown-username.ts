import { createHmac, randomBytes } from "node:crypto";
import { env } from "@/lib/env";

/**
 * When an unknown username's failure count starts over.
 *
 * An account's count starts over when its owner signs in or an admin unlocks it: events an
 * attacker can neither see nor time. A name without an account has no owner and no admin, so
 * if its count never started over, "locked" long after the attempts (or locked on the sixth
 * failure spread over weeks, which an active account never is) would say the name is unknown.
 * Instead each unknown name starts over at reset points that look like those events: one in
 * every period, at an offset given by a keyed hash of the name and the period. Intervals between
 * resets vary from nothing to two periods, differ from name to name, and cannot be computed
 * without the server's secret.
 */
export function lastResetPoint({
  name,
  at,
  periodMs,
  key,
}: {
  /** The normalized username. */
  name: string;
  /** Milliseconds since the epoch. */
  at: number;
  periodMs: number;
  key: string | Buffer;
}): number {
  const period = Math.floor(at / periodMs);
  const point = (index: number) => index * periodMs + offsetWithinPeriod(name, index, periodMs, key);
  const current = point(period);
  // The previous period's point is before this period began, so it is always in the past.
  return current <= at ? current : point(period - 1);
}

function offsetWithinPeriod(name: string, period: number, periodMs: number, key: string | Buffer): number {
  const digest = createHmac("sha256", key).update(`unknown-username-reset\n${period}\n${name}`).digest();
  // 48 bits: far more than any period in milliseconds, so the modulo's bias is negligible.
  return digest.readUIntBE(0, 6) % periodMs;
}

let processKey: Buffer | undefined;

/**
 * The session secret keys the schedule, so every app process on one database computes the same
 * reset points. Without one (only in tests), a random key for this process.
 */
export function resetScheduleKey(): string | Buffer {
  const secret = env().NEXTAUTH_SECRET;
  if (secret) return secret;
  processKey ??= randomBytes(32);
  return processKey;
}
