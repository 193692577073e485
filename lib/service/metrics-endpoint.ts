import { createHash, timingSafeEqual } from "node:crypto";
import { getDb, poolState } from "@/db";
import { chainStatus } from "@/lib/audit/verify";
import { listAlertRules } from "@/lib/alerts/rules";
import { listStreams } from "@/lib/streams/store";
import { metrics } from "@/lib/metrics/registry";

export type MetricsAnswer = { status: 200 | 401 | 403 | 404; headers: Record<string, string>; body: string };

/** How an API token presented to /metrics fared: scope `metrics:read` lets it in. */
export type ApiTokenVerdict = "allowed" | "lacks scope" | "refused";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** `Authorization: Bearer <token>` against METRICS_TOKEN, in constant time. */
export function hasMetricsToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return Boolean(match) && timingSafeEqual(digest(match![1]!), digest(token));
}

const API_TOKEN_BEARER = /^Bearer\s+(alog_\S+)\s*$/i;

/**
 * `/metrics` in Prometheus text, for METRICS_TOKEN or an API token with `metrics:read`
 * (checked by `checkApiToken`, which counts refusals as the log API does). Without
 * METRICS_TOKEN, a request without an API token is answered 404, as if the endpoint did not exist.
 */
export async function answerMetrics(
  authorization: string | undefined,
  token: string | undefined,
  checkApiToken?: (presented: string) => Promise<ApiTokenVerdict>,
): Promise<MetricsAnswer> {
  const plain = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" };
  const apiToken = API_TOKEN_BEARER.exec(authorization ?? "")?.[1];
  if (!token && !apiToken) return { status: 404, headers: plain, body: "Not found\n" };
  const allowed = token !== undefined && hasMetricsToken(authorization, token);
  if (!allowed) {
    const verdict = apiToken && checkApiToken ? await checkApiToken(apiToken) : "refused";
    if (verdict === "lacks scope") {
      return { status: 403, headers: { ...plain, "WWW-Authenticate": 'Bearer realm="metrics", error="insufficient_scope", scope="metrics:read"' }, body: "This token lacks the metrics:read scope.\n" };
    }
    if (verdict === "refused") {
      return { status: 401, headers: { ...plain, "WWW-Authenticate": 'Bearer realm="metrics"' }, body: "A bearer token is required.\n" };
    }
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
  try {
    const streams = await listStreams();
    counters.streamLagRows.reset();
    counters.streamFailures.reset();
    for (const stream of streams) {
      const labels = { stream_id: String(stream.id), stream: stream.name };
      counters.streamLagRows.set(labels, stream.lagRows);
      counters.streamFailures.set(labels, stream.failures);
    }
  } catch {
    // As above: the streams' gauges keep their last values.
  }
  try {
    const rules = await listAlertRules();
    counters.alertsPending.reset();
    for (const rule of rules) {
      const labels = { rule_id: String(rule.id), rule: rule.name };
      counters.alertsPending.set({ ...labels, state: "waiting" }, rule.pending - rule.failing);
      counters.alertsPending.set({ ...labels, state: "failing" }, rule.failing);
    }
  } catch {
    // As above.
  }
  return {
    status: 200,
    headers: { "Content-Type": counters.registry.contentType, "Cache-Control": "no-store" },
    body: await counters.registry.metrics(),
  };
}
