import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The app's Prometheus metrics. Labels never carry a username or an address: their number
 * would grow with the traffic, and they would copy the log's personal data into another system.
 */
function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "account_logs_process_" });
  return {
    registry,
    signInAttempts: new Counter({
      name: "account_logs_sign_in_attempts_total",
      help: "Sign-in attempts, by the result the log recorded.",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    lockouts: new Counter({
      name: "account_logs_lockouts_total",
      help: "Accounts locked, by who locked them: the lockout rule (threshold) or an admin.",
      labelNames: ["by"] as const,
      registers: [registry],
    }),
    throttleRefusals: new Counter({
      name: "account_logs_throttle_refusals_total",
      help: "Sign-ins refused because their address made too many failed attempts or too many at once.",
      registers: [registry],
    }),
    signInDuration: new Histogram({
      name: "account_logs_sign_in_duration_seconds",
      help: "Time from a sign-in request reaching the credentials check to its answer, by outcome.",
      labelNames: ["outcome"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    logWriteFailures: new Counter({
      name: "account_logs_log_write_failures_total",
      help: "Account log writes that failed (the sign-in or action they belonged to was refused).",
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: "account_logs_api_requests_total",
      help: "Requests to the log API, by the status answered.",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    apiTokenRefusals: new Counter({
      name: "account_logs_api_token_refusals_total",
      help: "API requests refused for their token: unknown, revoked or expired, or from an address refused too often (throttled).",
      labelNames: ["why"] as const,
      registers: [registry],
    }),
    oversizedRequests: new Counter({
      name: "account_logs_oversized_requests_total",
      help: "Requests refused with 413 because their body was over the route's limit.",
      labelNames: ["route"] as const,
      registers: [registry],
    }),
    databasePoolMax: new Gauge({
      name: "account_logs_database_pool_max_connections",
      help: "Connections this process may open to the database.",
      registers: [registry],
    }),
    databasePoolConnections: new Gauge({
      name: "account_logs_database_pool_connections",
      help: "This process's open database connections, by the server's state for them (active, idle, idle in transaction).",
      labelNames: ["state"] as const,
      registers: [registry],
    }),
    databaseUp: new Gauge({
      name: "account_logs_database_up",
      help: "1 when the database answered the last scrape, else 0.",
      registers: [registry],
    }),
    sealedThroughSeq: new Gauge({
      name: "account_logs_sealed_seq",
      help: "The newest sealed position in the log's chain (seq).",
      registers: [registry],
    }),
    unsealedRows: new Gauge({
      name: "account_logs_unsealed_rows",
      help: "Log rows committed and waiting to be sealed, on the whole database.",
      registers: [registry],
    }),
    sealLagSeconds: new Gauge({
      name: "account_logs_seal_lag_seconds",
      help: "How long the oldest row waiting to be sealed has waited (0 when none waits). Alert when it stays above a few seconds.",
      registers: [registry],
    }),
    checkpointAgeSeconds: new Gauge({
      name: "account_logs_checkpoint_age_seconds",
      help: "Seconds since the newest signed checkpoint; absent before the first.",
      registers: [registry],
    }),
    streamBatches: new Counter({
      name: "account_logs_stream_batches_total",
      help: "Log stream batches this process sent, by outcome (delivered, failed).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    streamLagRows: new Gauge({
      name: "account_logs_stream_lag_rows",
      help: "Sealed rows a log stream has not delivered yet, by stream (ID and name). Alert when it keeps growing.",
      labelNames: ["stream_id", "stream"] as const,
      registers: [registry],
    }),
    streamFailures: new Gauge({
      name: "account_logs_stream_failures",
      help: "Consecutive failed sends of a log stream, by stream (ID and name); 0 once it delivers again.",
      labelNames: ["stream_id", "stream"] as const,
      registers: [registry],
    }),
    alertDeliveries: new Counter({
      name: "account_logs_alert_deliveries_total",
      help: "Alert sends this process tried, by channel (webhook, email) and outcome (sent, failed). Failed ones are retried.",
      labelNames: ["channel", "outcome"] as const,
      registers: [registry],
    }),
    alertsPending: new Gauge({
      name: "account_logs_alerts_pending",
      help: "Alerts made and not sent yet, by rule (ID and name); state failing counts those whose last try failed. Alert when failing stays above 0.",
      labelNames: ["rule_id", "rule", "state"] as const,
      registers: [registry],
    }),
    retentionRuns: new Counter({
      name: "account_logs_retention_runs_total",
      help: "Daily retention runs of this process, by outcome: retained, nothing, refused (a stream behind, rows not sealed), failed.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    partitionsAheadSeconds: new Gauge({
      name: "account_logs_partitions_ahead_seconds",
      help: "How far ahead of now the log's monthly partitions reach. The sealer keeps about two months; alert under 30 days, as sealing stops when a row has no partition.",
      registers: [registry],
    }),
    httpRequestsInFlight: gaugeReadAtScrape(registry, {
      name: "account_logs_http_requests_in_flight",
      help: "HTTP requests being answered by this process.",
    }),
  };
}

/** A gauge whose value is read from its owner when scraped, so the owner keeps the only count. */
function gaugeReadAtScrape(registry: Registry, { name, help }: { name: string; help: string }) {
  let read: () => number = () => 0;
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
  return { readFrom: (source: () => number) => void (read = source) };
}

export type Metrics = ReturnType<typeof createMetrics>;

// One set per process: the custom server and the Next.js bundle load separate copies of this module.
const shared = globalThis as unknown as { __accountLogsMetrics?: Metrics };

export function metrics(): Metrics {
  shared.__accountLogsMetrics ??= createMetrics();
  return shared.__accountLogsMetrics;
}
