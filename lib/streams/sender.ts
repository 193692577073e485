import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { getDb, rowsOf, type Executor } from "@/db";
import { logStreams, type LogStream } from "@/db/schema";
import { apiRow, formatRow, type ApiFormat } from "@/lib/api/formats";
import { CHAIN_COLUMNS, toChainRow, type ChainRow } from "@/lib/audit/verify";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";
import { logServerError } from "@/lib/server-log";
import { checkWebhookDestination, StreamDestinationError } from "./destination";
import { openSecret } from "./secrets";
import { postWebhook, webhookSignature, type Delivery } from "./webhook";

/** Rows per batch: one POST, one JSON array. */
export const STREAM_BATCH_ROWS = 1_000;
/** How long an instance holds a stream: far longer than one send may take, so two never overlap. */
const LEASE_SECONDS = 30;
const SEND_TIMEOUT_MS = 10_000;
const POLL_MS = 1_000;
/** Retries wait 1 s, 2 s, 4 s … up to 5 minutes, each with up to a quarter more at random. */
export function retryDelayMs(failures: number, random = Math.random): number {
  const base = Math.min(300_000, 1_000 * 2 ** Math.min(failures - 1, 20));
  return Math.round(base * (1 + random() / 4));
}

/** This process, as named in a stream's lease. */
const INSTANCE = `${process.pid}-${randomUUID().slice(0, 8)}`;

type Leased = LogStream;

/**
 * Takes the stream for this instance if nobody holds it (or the holder's lease ran out) and it is
 * due: one statement, so two instances cannot both take it.
 */
async function lease(executor: Executor, streamId: number): Promise<Leased | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await executor.execute(sql`
      update log_streams set lease_owner = ${INSTANCE}, lease_until = now() + ${LEASE_SECONDS}::int * interval '1 second'
      where id = ${streamId} and enabled
        and (lease_owner is null or lease_owner = ${INSTANCE} or lease_until < now())
        and (next_attempt_at is null or next_attempt_at <= now())
      returning id`),
  );
  if (!row) return undefined;
  const [stream] = await executor.select().from(logStreams).where(eq(logStreams.id, streamId));
  return stream;
}

async function release(executor: Executor, streamId: number): Promise<void> {
  await executor.execute(sql`update log_streams set lease_owner = null, lease_until = null where id = ${streamId} and lease_owner = ${INSTANCE}`);
}

/** The rows of a batch: the one in flight, read again, or the next ones after the cursor. */
async function batchRows(executor: Executor, stream: Leased): Promise<ChainRow[]> {
  const through = stream.batchThrough;
  const rows = rowsOf<Parameters<typeof toChainRow>[0]>(
    await executor.execute(
      through === null
        ? sql`select ${CHAIN_COLUMNS} from account_logs where seq > ${stream.cursorSeq} order by seq limit ${STREAM_BATCH_ROWS}`
        : sql`select ${CHAIN_COLUMNS} from account_logs where seq > ${stream.cursorSeq} and seq <= ${through} order by seq`,
    ),
  );
  return rows.map(toChainRow);
}

/** The body a batch is: a JSON array of rows in the stream's format. */
export function batchBody(format: LogStream["format"], rows: ChainRow[]): string {
  return JSON.stringify(rows.map((row) => formatRow(format as ApiFormat, apiRow(row))));
}

async function deliverWebhook(stream: Leased, id: string, body: string): Promise<Delivery> {
  let destination;
  try {
    // Checked at every send, after DNS: a name that moved to a forbidden address is refused.
    destination = await checkWebhookDestination(stream.url, { allowPrivate: env().STREAM_ALLOW_PRIVATE });
  } catch (error) {
    if (error instanceof StreamDestinationError) return { ok: false, error: error.message };
    throw error;
  }
  const secret = openSecret(stream.secret!, `stream ${stream.id} secret`);
  const headers = stream.headers ? (JSON.parse(openSecret(stream.headers, `stream ${stream.id} headers`)) as Record<string, string>) : {};
  const timestamp = Math.floor(Date.now() / 1000);
  return postWebhook(destination, {
    body,
    headers: { ...headers, "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": webhookSignature(secret, id, timestamp, body) },
    ca: stream.ca ?? undefined,
    timeoutMs: SEND_TIMEOUT_MS,
  });
}

/**
 * A test event to a stream's destination, signed like a batch but never a log row and not moving
 * the cursor: what the page's "Send test event" does.
 */
export async function sendTestEvent(executor: Executor, streamId: number): Promise<Delivery | undefined> {
  const [stream] = await executor.select().from(logStreams).where(eq(logStreams.id, streamId));
  if (!stream) return undefined;
  const body = JSON.stringify([{ test: true, message: "Account Logs test event", stream: stream.name, sent_at: new Date().toISOString() }]);
  return stream.kind === "webhook" ? deliverWebhook(stream, `test-${randomUUID()}`, body) : { ok: false, error: "syslog streams are not sent yet" };
}

/** Sends one stream's pending batches until it is caught up, fails, or another instance holds it. */
export async function sendStream(executor: Executor, streamId: number): Promise<{ delivered: number; failed?: string }> {
  let delivered = 0;
  for (;;) {
    const stream = await lease(executor, streamId);
    if (!stream) return { delivered };
    const rows = await batchRows(executor, stream);
    if (rows.length === 0) {
      await release(executor, streamId);
      return { delivered };
    }
    const first = rows[0]!.seq;
    const last = rows.at(-1)!.seq;
    // The batch's ID is fixed before the first try, with its rows: a retry sends the same ID.
    const batchId = stream.batchId ?? `stream-${stream.id}-${first}-${last}`;
    if (stream.batchThrough === null) {
      await executor.execute(sql`update log_streams set batch_through = ${last}, batch_id = ${batchId} where id = ${stream.id} and lease_owner = ${INSTANCE}`);
    }
    const outcome = stream.kind === "webhook" ? await deliverWebhook(stream, batchId, batchBody(stream.format, rows)) : { ok: false as const, error: "syslog streams are not sent yet" };
    metrics().streamBatches.inc({ outcome: outcome.ok ? "delivered" : "failed" });
    if (!outcome.ok) {
      const failures = stream.failures + 1;
      await executor.execute(sql`
        update log_streams set failures = ${failures}, last_error = ${outcome.error.slice(0, 500)}, last_error_at = now(),
          next_attempt_at = now() + ${retryDelayMs(failures)}::int * interval '1 millisecond', lease_owner = null, lease_until = null
        where id = ${stream.id} and lease_owner = ${INSTANCE}`);
      return { delivered, failed: outcome.error };
    }
    // Delivered: the cursor moves past the batch, only if this instance still holds the stream
    // and nobody replayed it meanwhile (a replay drops the batch in flight).
    const moved = rowsOf<{ id: number }>(
      await executor.execute(sql`
        update log_streams set cursor_seq = ${last}, batch_through = null, batch_id = null, failures = 0, next_attempt_at = null,
          delivered_rows = delivered_rows + ${rows.length}, last_success_at = now()
        where id = ${stream.id} and lease_owner = ${INSTANCE} and batch_id = ${batchId}
        returning id`),
    );
    if (moved.length === 0) return { delivered };
    delivered += rows.length;
  }
}

let nudged: (() => void) | undefined;

/** Asks the sender loop to look at the streams now (after rows were sealed), not at its next poll. */
export function nudgeStreams(): void {
  nudged?.();
}

/**
 * Every app instance runs this loop; each stream is sent by the instance that holds its lease.
 * A stream that fails waits its backoff; the others go on. Returns the stop, which finishes the
 * send in progress.
 */
export function startStreamSender({ pollMs = POLL_MS }: { pollMs?: number } = {}): { stop: () => Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  let running: Promise<void> = Promise.resolve();
  nudged = () => wake?.();
  const loop = async () => {
    while (!stopped) {
      try {
        const db = await getDb();
        const due = rowsOf<{ id: number }>(
          await db.execute(sql`
            select s.id from log_streams s cross join account_log_seal_state st
            where s.enabled and (s.next_attempt_at is null or s.next_attempt_at <= now())
              and (s.lease_owner is null or s.lease_until < now() or s.lease_owner = ${INSTANCE})
              and (s.batch_through is not null or s.cursor_seq < st.seq)
            order by s.id`),
        );
        for (const { id } of due) {
          if (stopped) break;
          const outcome = await sendStream(db, Number(id));
          if (outcome.failed) logServerError("log stream delivery failed", new Error(outcome.failed), { streamId: Number(id) });
        }
      } catch (error) {
        logServerError("log streams could not be sent", error);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };
  running = loop();
  return {
    stop: async () => {
      stopped = true;
      wake?.();
      nudged = undefined;
      await running;
      const db = await getDb().catch(() => undefined);
      if (db) await db.execute(sql`update log_streams set lease_owner = null, lease_until = null where lease_owner = ${INSTANCE}`).catch(() => {});
    },
  };
}
