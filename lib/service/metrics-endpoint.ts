import { createHash, timingSafeEqual } from "node:crypto";
import { getDb, poolState } from "@/db";
import { chainStatus } from "@/lib/audit/verify";
import { metrics } from "@/lib/metrics/registry";

export type MetricsAnswer = { status: 200 | 401 | 404; headers: Record<string, string>; body: string };

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** `Authorization: Bearer <token>` against METRICS_TOKEN, in constant time. */
export function hasMetricsToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return Boolean(match) && timingSafeEqual(digest(match![1]!), digest(token));
}

/**
 * `/metrics` in Prometheus text. Without METRICS_TOKEN the endpoint does not exist (404); with
 * it, a request without that bearer token gets 401.
 */
export async function answerMetrics(authorization: string | undefined, token: string | undefined): Promise<MetricsAnswer> {
  const plain = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" };
  if (!token) return { status: 404, headers: plain, body: "Not found\n" };
  if (!hasMetricsToken(authorization, token)) {
    return { status: 401, headers: { ...plain, "WWW-Authenticate": 'Bearer realm="metrics"' }, body: "A bearer token is required.\n" };
  }
  const counters = metrics();
  try {
    const pool = await poolState();
    counters.databasePoolMax.set(pool.max);
    counters.databasePoolConnections.reset();
    for (const [state, count] of Object.entries(pool.connections)) counters.databasePoolConnections.set({ state }, count);
    counters.databaseUp.set(1);
  } catch {
    counters.databaseUp.set(0);
  }
  try {
    // What the admin page's chain panel shows, read the same way.
    const { head, unsealed, lastCheckpoint, partitionsUntil } = await chainStatus(await getDb());
    counters.sealedThroughSeq.set(head?.seq ?? 0);
    counters.unsealedRows.set(unsealed.rows);
    counters.sealLagSeconds.set(unsealed.oldestAt ? Math.max(0, (Date.now() - unsealed.oldestAt.getTime()) / 1000) : 0);
    counters.checkpointAgeSeconds.reset();
    if (lastCheckpoint) counters.checkpointAgeSeconds.set((Date.now() - lastCheckpoint.signedAt.getTime()) / 1000);
    counters.partitionsAheadSeconds.reset();
    if (partitionsUntil) counters.partitionsAheadSeconds.set((partitionsUntil.getTime() - Date.now()) / 1000);
  } catch {
    // The ledger's state could not be read (a grant missing after an upgrade): its gauges keep their last values.
  }
  return {
    status: 200,
    headers: { "Content-Type": counters.registry.contentType, "Cache-Control": "no-store" },
    body: await counters.registry.metrics(),
  };
}
