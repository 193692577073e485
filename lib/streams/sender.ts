import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import { eq, sql } from "drizzle-orm";
import { getDb, rowsOf, type Executor } from "@/db";
import { logStreams, type LogStream } from "@/db/schema";
import { apiRow, formatRow, type ApiFormat } from "@/lib/api/formats";
import { CHAIN_COLUMNS, toChainRow, type ChainRow } from "@/lib/audit/verify";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";
import { logServerError } from "@/lib/server-log";
import { startPollLoop } from "@/lib/service/background";
import { withDeadline } from "@/lib/service/deadline";
import { checkSyslogDestination, checkWebhookDestination, StreamDestinationError, type CheckedDestination } from "./destination";
import { openStreamValues } from "./store";
import { sendSyslog, syslogMessage, syslogTestMessage } from "./syslog";
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

/**
 * Takes the stream for this instance if nobody holds it (or the holder's lease ran out) and it is
 * due: one statement, so two instances cannot both take it.
 */
async function lease(executor: Executor, streamId: number): Promise<LogStream | undefined> {
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
async function batchRows(executor: Executor, stream: LogStream): Promise<ChainRow[]> {
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

/** Checked destinations, kept briefly: a name is not looked up for every batch (DNS shares a thread pool with password hashing). */
const checkedDestinations = new Map<string, { at: number; destination: CheckedDestination }>();
const DESTINATION_KEPT_MS = 30_000;
const LOOKUP_TIMEOUT_MS = 3_000;

export async function destinationOf(kind: LogStream["kind"], target: string): Promise<CheckedDestination> {
  const kept = checkedDestinations.get(target);
  if (kept && Date.now() - kept.at < DESTINATION_KEPT_MS) return kept.destination;
  const check = kind === "syslog" ? checkSyslogDestination : checkWebhookDestination;
  const destination = await check(target, {
    allowPrivate: env().STREAM_ALLOW_PRIVATE,
    resolve: (host) => withDeadline(lookup(host, { all: true, verbatim: true }), LOOKUP_TIMEOUT_MS, () => Object.assign(new Error("lookup timed out"), { code: "ETIMEOUT" })),
  });
  checkedDestinations.set(target, { at: Date.now(), destination });
  return destination;
}

/** What goes out: a batch of rows, or the page's test event. */
type Payload = { rows: ChainRow[] } | { test: Record<string, unknown> };

/** Sends a batch (or a test event) to the stream's destination, checked after DNS (and again every 30 s): a name that moved to a forbidden address is refused. */
async function deliver(stream: LogStream, id: string, payload: Payload, signal?: AbortSignal): Promise<Delivery> {
  const opened = openStreamValues(stream);
  let destination;
  try {
    destination = await destinationOf(stream.kind, opened.target);
  } catch (error) {
    if (error instanceof StreamDestinationError) return { ok: false, error: error.message };
    throw error;
  }
  if (stream.kind === "syslog") {
    const messages = "rows" in payload ? payload.rows.map((row) => syslogMessage(apiRow(row), stream.format)) : [syslogTestMessage(JSON.stringify(payload.test))];
    return sendSyslog(destination, messages, { tls: { ca: stream.ca ?? undefined, cert: stream.tlsCert ?? undefined, key: opened.tlsKey }, timeoutMs: SEND_TIMEOUT_MS, signal });
  }
  if (!opened.secret) return { ok: false, error: "the stream has no signing secret: remove it and add it again" };
  const body = "rows" in payload ? batchBody(stream.format, payload.rows) : JSON.stringify([payload.test]);
  return deliverWebhook(destination, opened, id, body, signal, stream.ca ?? undefined);
}

function deliverWebhook(destination: CheckedDestination, { secret, headers }: { secret: string; headers: Record<string, string> }, id: string, body: string, signal: AbortSignal | undefined, ca: string | undefined): Promise<Delivery> {
  const timestamp = Math.floor(Date.now() / 1000);
  return postWebhook(destination, {
    body,
    headers: { ...headers, "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": webhookSignature(secret, id, timestamp, body) },
    ca,
    timeoutMs: SEND_TIMEOUT_MS,
    signal,
  });
}

/**
 * A test event to a stream's destination, signed like a batch but never a log row and not moving
 * the cursor: what the page's "Send test event" does.
 */
export async function sendTestEvent(executor: Executor, streamId: number): Promise<Delivery | undefined> {
  const [stream] = await executor.select().from(logStreams).where(eq(logStreams.id, streamId));
  if (!stream) return undefined;
  const test = { test: true, message: "Account Logs test event", stream: stream.name, sent_at: new Date().toISOString() };
  try {
    return await deliver(stream, `test-${randomUUID()}`, { test });
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Records a failed try of the batch in flight (if the stream is still this instance's, with that batch) and when to try again. */
async function recordFailure(executor: Executor, stream: LogStream, batchId: string | null, error: string): Promise<void> {
  const failures = stream.failures + 1;
  await executor.execute(sql`
    update log_streams set failures = ${failures}, last_error = ${error.slice(0, 500)}, last_error_at = now(),
      next_attempt_at = now() + ${retryDelayMs(failures)}::int * interval '1 millisecond', lease_owner = null, lease_until = null
    where id = ${stream.id} and lease_owner = ${INSTANCE} and batch_id is not distinct from ${batchId}`);
}

/** At most this many batches per stream in one turn, so one busy stream does not hold the others back. */
const BATCHES_PER_TURN = 50;

export type SendOptions = { signal?: AbortSignal; maxBatches?: number };

/**
 * Sends one stream's pending batches until it is caught up, fails, has had its turn, or another
 * instance holds it. Each batch renews the lease first and must finish well within it (one
 * deadline of 10 s for the whole exchange against a 30 s lease), so two instances never send
 * for one stream at once. Anything that throws (a secret that no longer opens, a database error)
 * is recorded as the stream's failure, not left to stall the loop.
 */
export async function sendStream(executor: Executor, streamId: number, { signal, maxBatches = Number.POSITIVE_INFINITY }: SendOptions = {}): Promise<{ delivered: number; failed?: string }> {
  let delivered = 0;
  for (let batches = 0; batches < maxBatches && !signal?.aborted; batches++) {
    const stream = await lease(executor, streamId);
    if (!stream) return { delivered };
    let batchId = stream.batchId;
    try {
      const rows = await batchRows(executor, stream);
      if (rows.length === 0) {
        await release(executor, streamId);
        return { delivered };
      }
      const first = rows[0]!.seq;
      const last = rows.at(-1)!.seq;
      if (first !== stream.cursorSeq + 1) {
        throw new Error(`rows ${stream.cursorSeq + 1} to ${first - 1} are no longer in the log; replay from ${first} to go on`);
      }
      if (batchId === null) {
        // Fixed with its rows before the first try, so a retry sends the same ID; random, so a
        // replay's batches never reuse an ID a receiver has already seen.
        batchId = `stream-${stream.id}-${first}-${last}-${randomUUID().slice(0, 8)}`;
        const fixed = rowsOf<{ id: number }>(
          await executor.execute(sql`update log_streams set batch_through = ${last}, batch_id = ${batchId}
            where id = ${stream.id} and lease_owner = ${INSTANCE} and batch_id is null returning id`),
        );
        if (fixed.length === 0) return { delivered };
      }
      const outcome = await deliver(stream, batchId, { rows }, signal);
      metrics().streamBatches.inc({ outcome: outcome.ok ? "delivered" : "failed" });
      if (!outcome.ok && signal?.aborted) {
        // Stopped mid-send, not failed: the batch goes out again later, with the same ID.
        await release(executor, streamId);
        return { delivered };
      }
      if (!outcome.ok) {
        await recordFailure(executor, stream, batchId, outcome.error);
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
    } catch (error) {
      const message = (error as Error).message;
      metrics().streamBatches.inc({ outcome: "failed" });
      await recordFailure(executor, stream, batchId, message).catch(() => {});
      return { delivered, failed: message };
    }
  }
  await release(executor, streamId);
  return { delivered };
}

/**
 * Every app instance runs this loop; each stream is sent by the instance that holds its lease,
 * a turn of at most 50 batches at a time. A stream that fails waits its backoff; the others go
 * on. The stop aborts the send in flight (its batch is sent again later, with the same ID) and
 * gives the streams up to the other instances.
 */
export function startStreamSender({ pollMs = POLL_MS }: { pollMs?: number } = {}): { stop: () => Promise<void> } {
  const loop = startPollLoop(
    async (signal) => {
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
        if (signal.aborted) break;
        const outcome = await sendStream(db, Number(id), { signal, maxBatches: BATCHES_PER_TURN }).catch((error: Error) => ({ delivered: 0, failed: error.message }));
        if (outcome.failed && !signal.aborted) logServerError("log stream delivery failed", new Error(outcome.failed), { streamId: Number(id) });
      }
    },
    { pollMs, failure: "log streams could not be sent" },
  );
  return {
    stop: async () => {
      await loop.stop();
      const db = await getDb().catch(() => undefined);
      if (db) await db.execute(sql`update log_streams set lease_owner = null, lease_until = null where lease_owner = ${INSTANCE}`).catch(() => {});
    },
  };
}
