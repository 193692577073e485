import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, rowsOf, type Executor } from "@/db";
import { logStreams, STREAM_FORMATS, type LogStream, type StreamFormat } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { checkSyslogDestination, checkWebhookDestination, displayUrl, StreamDestinationError } from "./destination";
import { openSecret, sealSecret } from "./secrets";
import { isWebhookSecret, newWebhookSecret } from "./webhook";

/** Who changed a stream: an admin on the page, or someone on the command line. */
export type StreamActor = { userId: number | null; username: string; via: "admin page" | "command line" };

export const streamNameSchema = z
  .string()
  .trim()
  .min(1, "Give the stream a name.")
  .max(100, "A stream name has at most 100 characters.")
  .refine((name) => !/[\u0000-\u001f\u007f-\u009f]|\p{Cf}/u.test(name), "A stream name cannot hold control or formatting characters.");

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Headers a destination may not set: the request's framing and its signature are ours. */
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "transfer-encoding", "connection", "webhook-id", "webhook-timestamp", "webhook-signature"]);

/** "Name: value" lines, as typed on the page or given with --header; at most 20. */
export const headerLinesSchema = z
  .array(z.string())
  .max(20, "At most 20 custom headers.")
  .transform((lines, context) => {
    const headers: Record<string, string> = {};
    for (const line of lines.map((text) => text.trim()).filter(Boolean)) {
      const colon = line.indexOf(":");
      const name = colon > 0 ? line.slice(0, colon).trim() : "";
      const value = colon > 0 ? line.slice(colon + 1).trim() : "";
      if (!HEADER_NAME.test(name)) {
        context.addIssue({ code: "custom", message: `"${line.slice(0, 40)}" is not a header: write Name: value.` });
        return z.NEVER;
      }
      if (RESERVED_HEADERS.has(name.toLowerCase())) {
        context.addIssue({ code: "custom", message: `${name} is set by the stream itself.` });
        return z.NEVER;
      }
      // Visible ASCII only: what HTTP allows everywhere, and nothing Node would refuse at send time.
      if (value.length > 4096 || !/^[\t\x20-\x7e]*$/.test(value)) {
        context.addIssue({ code: "custom", message: `The value of ${name} is too long or holds characters other than printable ASCII.` });
        return z.NEVER;
      }
      headers[name] = value;
    }
    return headers;
  });

const certificateSchema = z
  .string()
  .trim()
  .max(64 * 1024, "A certificate file is at most 64 KB.")
  .refine((pem) => pem === "" || /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/.test(pem), "Paste PEM certificates (-----BEGIN CERTIFICATE-----).")
  .transform((pem) => pem || undefined);

export const newWebhookSchema = z.object({
  name: streamNameSchema,
  url: z.string().trim().max(2048, "A URL has at most 2,048 characters."),
  format: z.enum(STREAM_FORMATS.filter((format) => format !== "cef") as [StreamFormat, ...StreamFormat[]], { error: "A webhook sends json, ocsf or ecs." }),
  headers: headerLinesSchema.default({}),
  ca: certificateSchema.optional(),
  /** A `whsec_` secret to use; one is made when none is given. */
  secret: z
    .string()
    .trim()
    .refine(isWebhookSecret, "A webhook secret is whsec_ and at least 24 bytes, base64.")
    .optional(),
});
export type NewWebhook = z.input<typeof newWebhookSchema>;

const privateKeySchema = z
  .string()
  .trim()
  .max(64 * 1024, "A key file is at most 64 KB.")
  .refine((pem) => pem === "" || /^-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----$/.test(pem), "Paste the client key as PEM (-----BEGIN PRIVATE KEY-----).")
  .refine((pem) => !pem.includes("ENCRYPTED"), "Paste the client key without a passphrase: it is kept encrypted here.")
  .transform((pem) => pem || undefined);

export const newSyslogSchema = z
  .object({
    name: streamNameSchema,
    url: z.string().trim().max(2048, "A URL has at most 2,048 characters."),
    format: z.enum(STREAM_FORMATS, { error: "A syslog stream sends json, ocsf, ecs or cef." }),
    ca: certificateSchema.optional(),
    /** A client certificate and its key, for a receiver that asks for one (mutual TLS). */
    clientCert: certificateSchema.optional(),
    clientKey: privateKeySchema.optional(),
  })
  .refine((input) => !input.clientCert === !input.clientKey, { message: "Give the client certificate and its key together.", path: ["clientKey"] })
  .refine((input) => !input.clientCert || /^tls:\/\//i.test(input.url), { message: "A client certificate needs tls://.", path: ["clientCert"] });
export type NewSyslog = z.input<typeof newSyslogSchema>;

export type StreamSummary = Pick<
  LogStream,
  "id" | "name" | "kind" | "url" | "format" | "enabled" | "cursorSeq" | "failures" | "nextAttemptAt" | "deliveredRows" | "lastSuccessAt" | "lastError" | "lastErrorAt" | "createdAt"
> & {
  /** Sealed rows not delivered yet, and how long the oldest of them has waited. */
  lagRows: number;
  lagSeconds: number;
};

function logStreamEvent(executor: Executor, result: "stream_created" | "stream_changed" | "stream_removed" | "stream_replayed", stream: Pick<LogStream, "id" | "name" | "kind" | "url">, request: { actor: StreamActor; context: RequestContext }, change: Record<string, unknown>) {
  return appendAccountLog(executor, [
    {
      username: `stream:${stream.name}`,
      userId: null,
      result,
      ip: request.context.ip ?? null,
      metadata: { ...requestMetadata(request.context), actor: request.actor, stream: { id: stream.id, kind: stream.kind, url: stream.url, ...change } },
    },
  ]);
}

/**
 * Adds a webhook stream, checked (the URL after DNS, the headers, the secret) and logged; it
 * starts from the newest sealed row, so it sends what happens from now on (replay sends older
 * rows). Returns the secret, shown once: the receiver needs it to check signatures.
 */
export async function addWebhookStream(request: { actor: StreamActor; context: RequestContext; input: NewWebhook }): Promise<{ id: number; secret: string }> {
  const input = newWebhookSchema.parse(request.input);
  await checkWebhookDestination(input.url, { allowPrivate: env().STREAM_ALLOW_PRIVATE });
  const secret = input.secret ?? newWebhookSecret();
  const db = await getDb();
  const url = displayUrl(input.url);
  return db.transaction(async (tx) => {
    const [stream] = await tx
      .insert(logStreams)
      .values({
        name: input.name,
        kind: "webhook",
        url,
        target: "",
        format: input.format,
        ca: input.ca ?? null,
        createdBy: request.actor.userId,
        cursorSeq: sql`(select seq from account_log_seal_state)`,
      })
      .returning();
    // Sealed with the stream's ID bound in, and the secrets with its URL too: a sealed value
    // cannot be moved to another stream, nor a stream's secrets sent to another URL.
    const sealed = sealedStreamValues(stream!.id, { target: input.url, secret, headers: input.headers });
    await tx.update(logStreams).set(sealed).where(eq(logStreams.id, stream!.id));
    await logStreamEvent(tx, "stream_created", stream!, request, { format: input.format, headers: Object.keys(input.headers), from: stream!.cursorSeq });
    return { id: stream!.id, secret };
  });
}

/**
 * Adds a syslog stream (`tls://` or `tcp://`), checked after DNS and logged; like a webhook it
 * starts from the newest sealed row. A client key is kept sealed like a webhook's secret.
 */
export async function addSyslogStream(request: { actor: StreamActor; context: RequestContext; input: NewSyslog }): Promise<{ id: number }> {
  const input = newSyslogSchema.parse(request.input);
  // Stored with its port, as it is sent to.
  const target = (await checkSyslogDestination(input.url, { allowPrivate: env().STREAM_ALLOW_PRIVATE })).url.href;
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [stream] = await tx
      .insert(logStreams)
      .values({
        name: input.name,
        kind: "syslog",
        url: displayUrl(target),
        target: "",
        format: input.format,
        ca: input.ca ?? null,
        tlsCert: input.clientCert ?? null,
        createdBy: request.actor.userId,
        cursorSeq: sql`(select seq from account_log_seal_state)`,
      })
      .returning();
    const sealed = sealedStreamValues(stream!.id, { target, tlsKey: input.clientKey });
    await tx.update(logStreams).set(sealed).where(eq(logStreams.id, stream!.id));
    await logStreamEvent(tx, "stream_created", stream!, request, { format: input.format, clientCertificate: Boolean(input.clientCert), from: stream!.cursorSeq });
    return { id: stream!.id };
  });
}

/** What a stream keeps sealed, each bound to the stream (and the secrets to its URL). */
export function sealedStreamValues(id: number, { target, secret, headers, tlsKey }: { target: string; secret?: string; headers?: Record<string, string>; tlsKey?: string }) {
  return {
    target: sealSecret(target, `stream ${id} target`),
    secret: secret === undefined ? null : sealSecret(secret, `stream ${id} secret ${target}`),
    headers: headers === undefined ? null : sealSecret(JSON.stringify(headers), `stream ${id} headers ${target}`),
    tlsKey: tlsKey === undefined ? null : sealSecret(tlsKey, `stream ${id} tls key ${target}`),
  };
}

/** The stream's URL, signing secret, custom headers and client key, opened. */
export function openStreamValues(stream: Pick<LogStream, "id" | "target" | "secret" | "headers" | "tlsKey">): { target: string; secret: string; headers: Record<string, string>; tlsKey?: string } {
  const target = openSecret(stream.target, `stream ${stream.id} target`);
  return {
    target,
    secret: stream.secret ? openSecret(stream.secret, `stream ${stream.id} secret ${target}`) : "",
    headers: stream.headers ? (JSON.parse(openSecret(stream.headers, `stream ${stream.id} headers ${target}`)) as Record<string, string>) : {},
    ...(stream.tlsKey && { tlsKey: openSecret(stream.tlsKey, `stream ${stream.id} tls key ${target}`) }),
  };
}

/** Every stream with its lag, oldest first. */
export async function listStreams(executor?: Executor): Promise<StreamSummary[]> {
  const db = executor ?? (await getDb());
  const rows = rowsOf<{ id: number; lag_rows: number | string; oldest: string | Date | null }>(
    await db.execute(sql`
      select s.id, greatest(st.seq - s.cursor_seq, 0) as lag_rows,
        (select l.sealed_at from account_logs l where l.seq = s.cursor_seq + 1) as oldest
      from log_streams s cross join account_log_seal_state st order by s.id`),
  );
  const lag = new Map(rows.map((row) => [Number(row.id), row]));
  const streams = await db.select().from(logStreams).orderBy(asc(logStreams.id));
  const now = Date.now();
  return streams.map((stream) => {
    const own = lag.get(stream.id);
    const oldest = own?.oldest ? new Date(own.oldest).getTime() : undefined;
    // What the page may show: never the sealed secrets, the lease or the batch in flight.
    const { id, name, kind, url, format, enabled, cursorSeq, failures, nextAttemptAt, deliveredRows, lastSuccessAt, lastError, lastErrorAt, createdAt } = stream;
    return {
      ...{ id, name, kind, url, format, enabled, cursorSeq, failures, nextAttemptAt, deliveredRows, lastSuccessAt, lastError, lastErrorAt, createdAt },
      lagRows: Number(own?.lag_rows ?? 0),
      lagSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((now - oldest) / 1000)),
    };
  });
}

/**
 * Sends the stream again from a position (`fromSeq`, or the first row sealed at or after a
 * time): the cursor moves back, the batch in flight is dropped, failures are forgotten. Rows
 * are delivered again: receivers see duplicates, by design (at least once).
 */
export async function replayStream(request: { actor: StreamActor; context: RequestContext; streamId: number; from: { seq: number } | { time: Date } }): Promise<{ status: "replaying"; fromSeq: number } | { status: "not_found" } | { status: "nothing"; reason: string }> {
  const db = await getDb();
  let fromSeq: number;
  if ("seq" in request.from) {
    fromSeq = request.from.seq;
  } else {
    // A row is sealed after it is written, so rows written since the time were sealed since it
    // too: the partitions sealed before it are not read. Looked up before the stream is locked.
    const at = request.from.time.toISOString();
    const [first] = rowsOf<{ seq: number | string | null }>(
      await db.execute(sql`select seq from account_logs where sealed_at >= ${at}::timestamptz and occurred_at >= ${at}::timestamptz order by seq limit 1`),
    );
    if (first?.seq == null) return { status: "nothing", reason: "No sealed row is that recent." };
    fromSeq = Number(first.seq);
  }
  return db.transaction(async (tx) => {
    const [stream] = await tx.select().from(logStreams).where(eq(logStreams.id, request.streamId)).for("update");
    if (!stream) return { status: "not_found" };
    const [range] = rowsOf<{ first: number | string | null; head: number | string }>(
      await tx.execute(sql`select (select min(seq) from account_logs) as first, (select seq from account_log_seal_state) as head`),
    );
    const head = Number(range?.head ?? 0);
    if (fromSeq < 1 || fromSeq > head) return { status: "nothing", reason: `Replay starts at a sealed position, 1 to ${head.toLocaleString("en-US")}.` };
    if (range?.first != null && fromSeq < Number(range.first)) return { status: "nothing", reason: `Rows before ${Number(range.first).toLocaleString("en-US")} are no longer in the log.` };
    await tx
      .update(logStreams)
      .set({ cursorSeq: fromSeq - 1, batchThrough: null, batchId: null, failures: 0, nextAttemptAt: null })
      .where(eq(logStreams.id, stream.id));
    await logStreamEvent(tx, "stream_replayed", stream, request, { from: fromSeq, previousCursor: stream.cursorSeq });
    return { status: "replaying", fromSeq };
  });
}

/** Pauses or resumes a stream; a paused stream keeps its cursor and catches up when resumed. */
export async function setStreamEnabled(request: { actor: StreamActor; context: RequestContext; streamId: number; enabled: boolean }): Promise<"changed" | "unchanged" | "not_found"> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [stream] = await tx.select().from(logStreams).where(eq(logStreams.id, request.streamId)).for("update");
    if (!stream) return "not_found";
    if (stream.enabled === request.enabled) return "unchanged";
    await tx.update(logStreams).set({ enabled: request.enabled, failures: 0, nextAttemptAt: null }).where(eq(logStreams.id, stream.id));
    await logStreamEvent(tx, "stream_changed", stream, request, { enabled: request.enabled });
    return "changed";
  });
}

/** Removes a stream (its cursor with it), logged. */
export async function removeStream(request: { actor: StreamActor; context: RequestContext; streamId: number }): Promise<"removed" | "not_found"> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [stream] = await tx.delete(logStreams).where(and(eq(logStreams.id, request.streamId))).returning();
    if (!stream) return "not_found";
    await logStreamEvent(tx, "stream_removed", stream, request, { cursor: stream.cursorSeq });
    return "removed";
  });
}

export { StreamDestinationError };
