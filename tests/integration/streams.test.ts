import { randomBytes } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb, rowsOf, type Database } from "@/db";
import { logStreams } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { sealPending } from "@/lib/audit/sealer";
import { sendStream, startStreamSender } from "@/lib/streams/sender";
import { addWebhookStream, listStreams, replayStream, StreamDestinationError, type StreamActor } from "@/lib/streams/store";
import { webhookSignatureHolds } from "@/lib/streams/webhook";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";
import { browserContext } from "../support/accounts";
import { selfSignedCertificate } from "../support/certificates";

const ADMIN: StreamActor = { userId: null, username: "stream-admin", via: "command line" };

type Received = { id: string; timestamp: number; seqs: number[]; headers: Record<string, string | string[] | undefined>; signed: boolean };

/** A local HTTPS receiver that checks every signature and keeps every batch; `answer` decides the status. */
class Receiver {
  batches: Received[] = [];
  answer: (batch: Received) => number = () => 204;
  secret = "";
  private server?: https.Server;
  port = 0;

  constructor(private readonly tls: { key: string; cert: string }) {}

  async start(port = 0): Promise<void> {
    this.server = https.createServer(this.tls, (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const id = String(request.headers["webhook-id"]);
        const timestamp = Number(request.headers["webhook-timestamp"]);
        const rows = JSON.parse(body) as { seq?: number; metadata?: { sequence: number }; event?: { sequence: number } }[];
        const batch: Received = {
          id,
          timestamp,
          seqs: rows.map((row) => row.seq ?? row.metadata?.sequence ?? row.event?.sequence ?? -1),
          headers: request.headers,
          signed: webhookSignatureHolds(this.secret, id, timestamp, body, String(request.headers["webhook-signature"])),
        };
        this.batches.push(batch);
        const status = this.answer(batch);
        response.writeHead(status, status >= 300 && status < 400 ? { Location: "https://elsewhere.example/" } : {});
        response.end(status >= 400 ? "receiver says no" : "");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Every seq received, in arrival order. */
  seqs(): number[] {
    return this.batches.flatMap((batch) => batch.seqs);
  }
}

async function writeSealed(db: Database, count: number, prefix: string) {
  for (let i = 0; i < count; i++) await appendAccountLog(db, [{ username: `${prefix}-${i}`, result: "login_failed_wrong_password", ip: "192.0.2.31" }]);
  await sealPending(db);
}

async function sealedSeqs(db: Database, after: number): Promise<number[]> {
  return rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_logs where seq > ${after} order by seq`)).map((row) => row.seq);
}

/** Lets a failed stream be tried again now instead of after its backoff. */
async function dueNow(db: Database, streamId: number) {
  await db.update(logStreams).set({ nextAttemptAt: null }).where(eq(logStreams.id, streamId));
}

describe.each(DATABASE_KINDS)("webhook streams on %s", (kind) => {
  useFreshDatabase(kind);
  const tls = selfSignedCertificate();
  let receiver: Receiver;

  beforeAll(async () => {
    process.env.STREAM_SECRET_KEY = randomBytes(32).toString("base64");
    resetEnvCache();
    receiver = new Receiver(tls);
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    delete process.env.STREAM_SECRET_KEY;
    resetEnvCache();
  });

  async function newStream(db: Database, format: "json" | "ocsf" | "ecs" = "json") {
    const start = rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_log_seal_state`))[0]!.seq;
    const { id, secret } = await addWebhookStream({
      actor: ADMIN,
      context: browserContext,
      input: { name: `receiver ${format} ${randomBytes(3).toString("hex")}`, url: `https://localhost:${receiver.port}/hook`, format, ca: tls.cert, headers: ["Authorization: Splunk hec-token-123"] },
    });
    receiver.secret = secret;
    receiver.batches = [];
    receiver.answer = () => 204;
    return { id, secret, start };
  }

  it("delivers every sealed row after it was added, in seq order, signed, with the custom headers; keeps its secrets sealed", async () => {
    const db = await getDb();
    await writeSealed(db, 5, "before-stream");
    const { id, secret, start } = await newStream(db);
    await writeSealed(db, 2_300, "streamed");
    const expected = await sealedSeqs(db, start);
    const outcome = await sendStream(db, id);
    expect(outcome).toEqual({ delivered: expected.length });
    expect(receiver.seqs()).toEqual(expected);
    expect(receiver.batches.map((batch) => batch.seqs.length)).toEqual([1_000, 1_000, expected.length - 2_000]);
    expect(receiver.batches.every((batch) => batch.signed)).toBe(true);
    expect(receiver.batches[0]!.id).toMatch(new RegExp(`^stream-${id}-${expected[0]}-${expected[999]}-[0-9a-f]{8}$`));
    expect(receiver.batches[0]!.headers.authorization).toBe("Splunk hec-token-123");
    const [stored] = rowsOf<{ dump: string }>(await db.execute(sql`select row_to_json(s)::text as dump from log_streams s where id = ${id}`));
    expect(stored!.dump).not.toContain(secret.slice(6));
    expect(stored!.dump).not.toContain("hec-token-123");
    const [summary] = (await listStreams()).filter((stream) => stream.id === id);
    expect(summary).toMatchObject({ lagRows: 0, lagSeconds: 0, deliveredRows: expected.length, failures: 0, lastError: null });
    // Its own creation row was sealed after its start, so it was delivered too.
    await sealPending(db);
    const created = rowsOf<{ result: string; metadata: string }>(await db.execute(sql`select result, metadata::text from account_logs where result = 'stream_created' order by seq desc limit 1`));
    expect(JSON.parse(created[0]!.metadata).stream).toMatchObject({ id, kind: "webhook", format: "json", headers: ["Authorization"] });
    expect(created[0]!.metadata).not.toContain("hec-token-123");
  });

  it("retries a refused batch with the same webhook-id, backing off, and shows the error; a redirect is not followed", async () => {
    const db = await getDb();
    const { id, start } = await newStream(db, "ocsf");
    await writeSealed(db, 40, "retried");
    const expected = await sealedSeqs(db, start);
    receiver.answer = () => 503;
    const failed = await sendStream(db, id);
    expect(failed).toEqual({ delivered: 0, failed: "HTTP 503: receiver says no" });
    let [stream] = await db.select().from(logStreams).where(eq(logStreams.id, id));
    expect(stream).toMatchObject({ failures: 1, lastError: "HTTP 503: receiver says no", cursorSeq: start });
    expect(stream!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    // Not due yet: nothing is sent.
    expect(await sendStream(db, id)).toEqual({ delivered: 0 });
    expect(receiver.batches).toHaveLength(1);

    receiver.answer = () => 302;
    await dueNow(db, id);
    expect((await sendStream(db, id)).failed).toBe("HTTP 302: redirect to https://elsewhere.example/ not followed");
    receiver.answer = () => 200;
    await dueNow(db, id);
    expect(await sendStream(db, id)).toEqual({ delivered: expected.length });
    const ids = receiver.batches.map((batch) => batch.id);
    expect(new Set(ids).size).toBe(1);
    expect(receiver.batches.at(-1)!.seqs).toEqual(expected);
    [stream] = await db.select().from(logStreams).where(eq(logStreams.id, id));
    expect(stream).toMatchObject({ failures: 0, batchId: null, cursorSeq: expected.at(-1) });
  });

  it("survives the receiver going away mid-stream: every row arrives in order, duplicates only from the batch in flight", async () => {
    const db = await getDb();
    const { id, start } = await newStream(db, "ecs");
    await writeSealed(db, 3_500, "outage");
    const expected = await sealedSeqs(db, start);
    const port = receiver.port;
    // The receiver dies while the second batch is being answered.
    receiver.answer = (batch) => {
      if (receiver.batches.length === 2) {
        setImmediate(() => void receiver.stop());
        return 500;
      }
      return batch ? 204 : 204;
    };
    const first = await sendStream(db, id);
    expect(first.delivered).toBe(1_000);
    expect(first.failed).toBeDefined();
    await dueNow(db, id);
    const down = await sendStream(db, id);
    // Refused, or reset while the receiver was closing.
    expect(down.failed).toMatch(/ECONNREFUSED|ECONNRESET/);
    const [stream] = await db.select().from(logStreams).where(eq(logStreams.id, id));
    expect(stream!.failures).toBe(2);
    await receiver.start(port);
    receiver.answer = () => 204;
    await dueNow(db, id);
    expect(await sendStream(db, id)).toEqual({ delivered: expected.length - 1_000 });
    const seqs = receiver.seqs();
    // In order, each row at least once; the only repeats are the batch that was in flight.
    expect([...new Set(seqs)]).toEqual(expected);
    const repeated = seqs.filter((seq, index) => seqs.indexOf(seq) !== index);
    expect(repeated).toEqual(expected.slice(1_000, 2_000));
  });

  it("replays from a position or a time still in the log, logged; refuses a position that is not", async () => {
    const db = await getDb();
    const { id, start } = await newStream(db);
    await writeSealed(db, 10, "replay");
    await sendStream(db, id);
    const sent = receiver.seqs();
    receiver.batches = [];
    const from = sent[3]!;
    expect(await replayStream({ actor: ADMIN, context: browserContext, streamId: id, from: { seq: from } })).toEqual({ status: "replaying", fromSeq: from });
    await sealPending(db);
    await sendStream(db, id);
    expect(receiver.seqs().slice(0, sent.length - 3)).toEqual(sent.slice(3));
    expect(receiver.seqs().at(-1)).toBe((await sealedSeqs(db, start)).at(-1));
    expect(await replayStream({ actor: ADMIN, context: browserContext, streamId: id, from: { seq: 10_000_000 } })).toMatchObject({ status: "nothing" });
    expect(await replayStream({ actor: ADMIN, context: browserContext, streamId: id, from: { time: new Date(Date.now() + 3_600_000) } })).toMatchObject({ status: "nothing" });
    const logged = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from account_logs where result = 'stream_replayed'`));
    expect(logged[0]!.n).toBe(1);
  });

  it("shows and logs the URL without the credential it carries, and keeps the whole URL sealed", async () => {
    const db = await getDb();
    const { id } = await addWebhookStream({
      actor: ADMIN,
      context: browserContext,
      input: { name: "slack-like", url: `https://localhost:${receiver.port}/services/T0001/B0001/abcdefghijklmnopqrstuvwx?dd-api-key=key-in-query`, format: "json", ca: tls.cert },
    });
    const [stream] = await db.select().from(logStreams).where(eq(logStreams.id, id));
    expect(stream!.url).toBe(`https://localhost:${receiver.port}/services/T0001/B0001/…?…`);
    const [dump] = rowsOf<{ text: string }>(await db.execute(sql`select row_to_json(s)::text as text from log_streams s where id = ${id}`));
    expect(dump!.text).not.toContain("abcdefghijklmnopqrstuvwx");
    expect(dump!.text).not.toContain("key-in-query");
    await sealPending(db);
    const logged = rowsOf<{ metadata: string }>(await db.execute(sql`select metadata::text from account_logs where username = 'stream:slack-like'`));
    expect(logged[0]!.metadata).toContain("/services/T0001/B0001/…?…");
    expect(logged[0]!.metadata).not.toContain("key-in-query");
    // A sealed value moved to another stream does not open there.
    const other = await newStream(db);
    await db.execute(sql`update log_streams set secret = (select secret from log_streams where id = ${id}) where id = ${other.id}`);
    await writeSealed(db, 3, "moved-secret");
    expect((await sendStream(db, other.id)).failed).toMatch(/does not open/);
    await db.execute(sql`delete from log_streams where id in (${id}, ${other.id})`);
  });

  it("keeps sending the other streams when one cannot be sent at all, and shows why on the broken one", async () => {
    const db = await getDb();
    const broken = await newStream(db);
    await db.execute(sql`update log_streams set headers = 'v1.bm9uZQ==.bm9uZQ==.bm9uZQ==' where id = ${broken.id}`);
    const healthy = await newStream(db);
    // Only these two are sent: the earlier tests' streams are paused.
    await db.execute(sql`update log_streams set enabled = false where id not in (${broken.id}, ${healthy.id})`);
    await writeSealed(db, 20, "isolated");
    const last = (await sealedSeqs(db, healthy.start)).at(-1)!;
    const sender = startStreamSender({ pollMs: 50 });
    try {
      const deadline = Date.now() + 10_000;
      const cursorOf = async () => (await db.select().from(logStreams).where(eq(logStreams.id, healthy.id)))[0]!.cursorSeq;
      while ((await cursorOf()) < last) {
        if (Date.now() > deadline) throw new Error("the healthy stream was not sent");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await sender.stop();
    }
    const [stream] = await db.select().from(logStreams).where(eq(logStreams.id, broken.id));
    expect(stream!.failures).toBeGreaterThanOrEqual(1);
    expect(stream!.lastError).toMatch(/not in a known form|does not open/);
    expect(stream!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() - 1_000);
    expect(stream!.leaseOwner).toBeNull();
    await db.execute(sql`delete from log_streams where id in (${broken.id}, ${healthy.id})`);
  });

  it("refuses a destination it must never reach, before anything is stored", async () => {
    const before = (await listStreams()).length;
    for (const url of ["https://169.254.169.254/latest/meta-data/", "http://203.0.113.10/hook", "https://10.0.0.1/hook", "https://user:pw@localhost/hook"]) {
      await expect(addWebhookStream({ actor: ADMIN, context: browserContext, input: { name: "bad", url, format: "json" } }), url).rejects.toBeInstanceOf(StreamDestinationError);
    }
    expect((await listStreams()).length).toBe(before);
  });
});
