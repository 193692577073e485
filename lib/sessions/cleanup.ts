import { sql } from "drizzle-orm";
import { getDb, type Executor } from "@/db";
import { userSessions } from "@/db/schema";
import { env } from "@/lib/env";
import { logServerError, logServerInfo } from "@/lib/server-log";

/** Ended session records stay this long, then go; the log keeps what happened to them. */
export const ENDED_SESSION_RETENTION_HOURS = 24;

/** How often `startSessionCleanup` runs. */
export const SESSION_CLEANUP_INTERVAL_MS = 15 * 60_000;

/**
 * Deletes session records that ended (revoked, expired or idle) more than `retentionHours` ago;
 * the log keeps the sign-in, sign-out and revocation rows. Safe on any number of processes at
 * once: a row deleted twice is deleted once. Returns how many it deleted.
 */
export async function deleteEndedSessions(
  { retentionHours = ENDED_SESSION_RETENTION_HOURS }: { retentionHours?: number } = {},
  executor?: Executor,
): Promise<number> {
  const db = executor ?? (await getDb());
  const before = sql`now() - make_interval(hours => ${retentionHours}::int)`;
  // A session ended by a lock or a raised session version is gone once it would have expired.
  const deleted = await db
    .delete(userSessions)
    .where(
      sql`${userSessions.expiresAt} < ${before}
        or ${userSessions.revokedAt} < ${before}
        or ${userSessions.lastSeenAt} < ${before} - make_interval(mins => ${env().SESSION_IDLE_MINUTES}::int)`,
    )
    .returning({ id: userSessions.id });
  return deleted.length;
}

/**
 * Deletes ended sessions now and then every `intervalMs`, beside the requests, until the
 * returned `stop` is called. For the server to call once at start-up.
 */
export function startSessionCleanup({ intervalMs = SESSION_CLEANUP_INTERVAL_MS }: { intervalMs?: number } = {}): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => {
    if (running) return;
    running = deleteEndedSessions()
      .then((deleted) => {
        if (deleted > 0) logServerInfo("ended sessions deleted", { deleted });
      })
      .catch((error: unknown) => logServerError("ended sessions could not be deleted", error))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
