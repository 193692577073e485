import { randomBytes } from "node:crypto";
import net, { type AddressInfo } from "node:net";
import tls from "node:tls";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb, rowsOf, type Database } from "@/db";
import { logStreams } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { sealPending } from "@/lib/audit/sealer";
import { sendStream, sendTestEvent } from "@/lib/streams/sender";
import { addSyslogStream, listStreams, StreamDestinationError, type StreamActor } from "@/lib/streams/store";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";
import { browserContext } from "../support/accounts";
import { selfSignedCertificate } from "../support/certificates";

const ADMIN: StreamActor = { userId: null, username: "syslog-admin", via: "command line" };

/** One RFC 5424 message, as a receiver parses it. */
type SyslogMessage = { priority: number; timestamp: string; hostname: string; appName: string; procId: string; msgId: string; structuredData: string; message: string };

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*\])+) (.*)$/s;

function parseRfc5424(frame: string): SyslogMessage {
  const match = RFC5424.exec(frame);
  if (!match) throw new Error(`not an RFC 5424 message: ${frame.slice(0, 120)}`);
  const [, priority, timestamp, hostname, appName, procId, msgId, structuredData, message] = match;
  return { priority: Number(priority), timestamp: timestamp!, hostname: hostname!, appName: appName!, procId: procId!, msgId: msgId!, structuredData: structuredData!, message: message! };
}

/**
 * A local syslog receiver (TLS per RFC 5425, or plain TCP): reads octet-counted frames, parses
 * each as RFC 5424, and closes when the sender does. `cutAfter` drops the connection after that
 * many frames of one connection, as a receiver going away mid-batch would.
 */
class SyslogReceiver {
  messages: SyslogMessage[] = [];
  cutAfter = Number.POSITIVE_INFINITY;
  refusedHandshakes = 0;
  private server?: net.Server;
  port = 0;

  constructor(private readonly options: { tls?: tls.TlsOptions }) {}

  async start(port = 0): Promise<void> {
    const handle = (socket: net.Socket) => {
      let buffer = Buffer.alloc(0);
      let frames = 0;
      socket.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) return;
          const length = Number(buffer.subarray(0, space).toString("ascii"));
          if (!Number.isInteger(length) || length <= 0) throw new Error("not octet counting");
          if (buffer.length < space + 1 + length) return;
          const frame = buffer.subarray(space + 1, space + 1 + length).toString("utf8");
          buffer = buffer.subarray(space + 1 + length);
          if (++frames > this.cutAfter) {
            socket.destroy();
            return;
          }
          this.messages.push(parseRfc5424(frame));
        }
      });
      socket.on("end", () => socket.end());
      socket.on("error", () => {});
    };
    this.server = this.options.tls ? tls.createServer(this.options.tls, handle) : net.createServer(handle);
    this.server.on("tlsClientError", () => this.refusedHandshakes++);
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The seq of each row received, from its `meta sequenceId`. */
  seqs(): number[] {
    return this.messages.map((message) => Number(/sequenceId="(\d+)"/.exec(message.structuredData)?.[1] ?? -1));
  }
}

async function writeSealed(db: Database, rows: { username: string; result: "login_failed_wrong_password" | "account_locked" | "login_successful"; ip: string }[]) {
  for (const row of rows) await appendAccountLog(db, [row]);
  await sealPending(db);
}

async function sealedSeqs(db: Database, after: number): Promise<number[]> {
  return rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_logs where seq > ${after} order by seq`)).map((row) => row.seq);
}

async function headSeq(db: Database): Promise<number> {
  return rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_log_seal_state`))[0]!.seq;
}

describe.each(DATABASE_KINDS)("syslog streams on %s", (kind) => {
  useFreshDatabase(kind);
  const server = selfSignedCertificate();
  const client = selfSignedCertificate({ commonName: "account-logs", altNames: "DNS:account-logs" });
  // A receiver that asks every sender for a certificate it trusts (mutual TLS).
  const receiver = new SyslogReceiver({ tls: { ...server, requestCert: true, rejectUnauthorized: true, ca: [client.cert] } });

  beforeAll(async () => {
    process.env.STREAM_SECRET_KEY = randomBytes(32).toString("base64");
    resetEnvCache();
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    delete process.env.STREAM_SECRET_KEY;
    resetEnvCache();
  });

  const addStream = (input: { url?: string; format?: "json" | "cef" | "ocsf" | "ecs"; clientCert?: string; clientKey?: string; ca?: string }) =>
    addSyslogStream({
      actor: ADMIN,
      context: browserContext,
      input: { name: `syslog ${randomBytes(3).toString("hex")}`, url: input.url ?? `tls://localhost:${receiver.port}`, format: input.format ?? "cef", ca: "ca" in input ? input.ca : server.cert, clientCert: input.clientCert, clientKey: input.clientKey },
    });

  it("delivers every sealed row as RFC 5424 over TLS, octet-counted, in seq order, as CEF with a client certificate; keeps the key sealed", async () => {
    const db = await getDb();
    receiver.messages = [];
    const start = await headSeq(db);
    const { id } = await addStream({ clientCert: client.cert, clientKey: client.key });
    await writeSealed(db, [
      ...Array.from({ length: 1_203 }, (_, i) => ({ username: `sprayed-${i}`, result: "login_failed_wrong_password" as const, ip: "192.0.2.77" })),
      { username: "locked|user=x", result: "account_locked", ip: "2001:db8::7" },
      { username: "alice", result: "login_successful", ip: "198.51.100.9" },
    ]);
    const expected = await sealedSeqs(db, start);
    expect(await sendStream(db, id)).toEqual({ delivered: expected.length });
    expect(receiver.seqs()).toEqual(expected);

    const failed = receiver.messages.find((message) => message.msgId === "login_failed_wrong_password")!;
    // authpriv (10) × 8 + notice (5); the row's own time, with microseconds.
    expect(failed).toMatchObject({ priority: 85, appName: "account-logs", procId: "-" });
    expect(failed.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(failed.message.startsWith("\uFEFFCEF:0|Account Logs|Account Logs|1|login_failed_wrong_password|Authentication: Logon|3|")).toBe(true);
    expect(failed.message).toContain(" src=192.0.2.77 ");
    expect(failed.message).toMatch(/ outcome=failure /);

    const lock = receiver.messages.find((message) => message.msgId === "account_locked")!;
    expect(lock.priority).toBe(84);
    // Header and extension escaping: a pipe and an equals sign in the username stay data.
    expect(lock.message).toContain("suser=locked|user\\=x");
    expect(lock.message).toContain("c6a2=2001:db8::7 c6a2Label=Source IPv6 Address");
    const lockSeq = Number(/sequenceId="(\d+)"/.exec(lock.structuredData)![1]);
    expect(lock.message).toContain(` cn1=${lockSeq} cn1Label=seq `);
    expect(receiver.messages.find((message) => message.msgId === "login_successful")!.priority).toBe(86);

    const [stored] = rowsOf<{ dump: string }>(await db.execute(sql`select row_to_json(s)::text as dump from log_streams s where id = ${id}`));
    expect(stored!.dump).not.toContain(client.key.split("\n")[1]!);
    const [summary] = (await listStreams()).filter((stream) => stream.id === id);
    expect(summary).toMatchObject({ kind: "syslog", url: `tls://localhost:${receiver.port}`, lagRows: 0, failures: 0, lastError: null });
  });

  it("fails without the client certificate the receiver asks for, shows why, and sends nothing", async () => {
    const db = await getDb();
    receiver.messages = [];
    const { id } = await addStream({});
    await writeSealed(db, [{ username: "no-cert", result: "login_failed_wrong_password", ip: "192.0.2.78" }]);
    const outcome = await sendStream(db, id);
    expect(outcome.delivered).toBe(0);
    expect(outcome.failed).toBeTruthy();
    expect(receiver.messages).toEqual([]);
    const [summary] = (await listStreams()).filter((stream) => stream.id === id);
    expect(summary!.failures).toBe(1);
    expect(summary!.lastError).toBeTruthy();
    expect(summary!.lagRows).toBeGreaterThan(0);
  });

  it("refuses a receiver whose certificate it cannot trust", async () => {
    const db = await getDb();
    const { id } = await addStream({ clientCert: client.cert, clientKey: client.key, ca: undefined });
    await writeSealed(db, [{ username: "untrusted", result: "login_failed_wrong_password", ip: "192.0.2.79" }]);
    const outcome = await sendStream(db, id);
    expect(outcome.failed).toMatch(/self[- ]signed|certificate/i);
  });

  it("survives the receiver dropping the connection mid-batch: every row arrives in order, duplicates only from the batch in flight", async () => {
    const db = await getDb();
    receiver.messages = [];
    const start = await headSeq(db);
    const { id } = await addStream({ clientCert: client.cert, clientKey: client.key });
    await writeSealed(db, Array.from({ length: 1_500 }, (_, i) => ({ username: `cut-${i}`, result: "login_failed_wrong_password" as const, ip: "192.0.2.80" })));
    const expected = await sealedSeqs(db, start);
    receiver.cutAfter = 300;
    const first = await sendStream(db, id);
    expect(first.failed).toBeTruthy();
    receiver.cutAfter = Number.POSITIVE_INFINITY;
    await db.update(logStreams).set({ nextAttemptAt: null }).where(eq(logStreams.id, id));
    await sendStream(db, id);
    const received = receiver.seqs();
    // The first try's 300 rows, then the whole batch again and the rest.
    expect(received.slice(0, 300)).toEqual(expected.slice(0, 300));
    expect(received.slice(300)).toEqual(expected);
  });

  it("fails a batch when the receiver closes the connection without reading it, and keeps its rows for the next try", async () => {
    // A relay at its connection limit, or a proxy with no backend: it accepts, then closes.
    const closing = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => closing.listen(0, "127.0.0.1", resolve));
    const port = (closing.address() as AddressInfo).port;
    try {
      const db = await getDb();
      const { id } = await addStream({ url: `tcp://127.0.0.1:${port}`, format: "json", ca: undefined });
      await writeSealed(db, Array.from({ length: 1_000 }, (_, i) => ({ username: `dropped-${i}`, result: "login_failed_wrong_password" as const, ip: "192.0.2.81" })));
      const outcome = await sendStream(db, id);
      expect(outcome.delivered).toBe(0);
      expect(outcome.failed).toMatch(/ECONNRESET|EPIPE|closed/);
      const [summary] = (await listStreams()).filter((stream) => stream.id === id);
      expect(summary).toMatchObject({ failures: 1, deliveredRows: 0 });
      expect(summary!.lagRows).toBeGreaterThanOrEqual(1_000);
    } finally {
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    }
  });

  it("sends plain TCP to a local relay in JSON, and a test event", async () => {
    const relay = new SyslogReceiver({});
    await relay.start();
    try {
      const db = await getDb();
      const start = await headSeq(db);
      const { id } = await addStream({ url: `tcp://127.0.0.1:${relay.port}`, format: "json", ca: undefined });
      await writeSealed(db, [{ username: "relayed", result: "login_successful", ip: "198.51.100.10" }]);
      expect((await sendStream(db, id)).delivered).toBe((await sealedSeqs(db, start)).length);
      const relayed = relay.messages.map((message) => JSON.parse(message.message.slice(1)) as { username: string; seq: number; hash: string });
      expect(relayed.find((row) => row.username === "relayed")).toMatchObject({ seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

      relay.messages = [];
      expect(await sendTestEvent(db, id)).toEqual({ ok: true, status: 0 });
      expect(relay.messages).toEqual([expect.objectContaining({ msgId: "test", structuredData: "-" })]);
    } finally {
      await relay.stop();
    }
  });

  it("refuses plain TCP off this network, a URL with a path, and a client certificate without its key", async () => {
    const before = (await listStreams()).length;
    await expect(addStream({ url: "tcp://203.0.113.10:514" })).rejects.toThrow("Plain TCP sends the log unencrypted");
    await expect(addStream({ url: "tls://localhost:6514/collector" })).rejects.toBeInstanceOf(StreamDestinationError);
    await expect(addStream({ url: "tls://169.254.169.254" })).rejects.toThrow("never a destination");
    await expect(addStream({ clientCert: client.cert })).rejects.toThrow("Give the client certificate and its key together.");
    expect((await listStreams()).length).toBe(before);
  });
});
