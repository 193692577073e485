import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIfNeeded } from "../../scripts/build-if-needed";
import { getDb, rowsOf } from "@/db";
import { appendAccountLog } from "@/lib/account-log/record";
import { addWebhookStream } from "@/lib/streams/store";
import { webhookSignatureHolds } from "@/lib/streams/webhook";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";
import { browserContext } from "../support/accounts";
import { freePort } from "../support/postgres-cluster";
import { startServer, stopServer } from "../support/servers";

/** Two app processes on one PostgreSQL, one stream: one sender at a time, every row delivered, in order. */

const STREAM_SECRET_KEY = randomBytes(32).toString("base64");

beforeAll(() => buildIfNeeded(), 300_000);

describe.runIf(DATABASE_KINDS.includes("postgres"))("a stream sent by two app instances", () => {
  const database = useFreshDatabase("postgres");
  const servers: ChildProcess[] = [];
  let receiver: http.Server;
  let inFlight = 0;
  let mostInFlight = 0;
  const batches: { id: string; seqs: number[]; signed: boolean }[] = [];
  let secret = "";
  /** While set, the receiver holds every request unanswered: a batch stays in flight. */
  let holding: (() => void)[] | undefined;

  beforeAll(async () => {
    process.env.STREAM_SECRET_KEY = STREAM_SECRET_KEY;
    resetEnvCache();
    receiver = http.createServer((request, response) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const id = String(request.headers["webhook-id"]);
        batches.push({
          id,
          seqs: (JSON.parse(body) as { seq: number }[]).map((row) => row.seq),
          signed: webhookSignatureHolds(secret, id, Number(request.headers["webhook-timestamp"]), body, String(request.headers["webhook-signature"])),
        });
        // A slow receiver: each batch takes a while, so the two senders would overlap if both sent.
        const answer = () => {
          inFlight -= 1;
          if (!response.destroyed) response.writeHead(204).end();
        };
        if (holding) holding.push(answer);
        else setTimeout(answer, 150);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      servers.push(
        await startServer({
          name: `streams-${i}`,
          port,
          logFile: path.join(os.tmpdir(), `account-logs-streams-${port}.log`),
          env: { DATABASE_URL: database.url()!, STREAM_SECRET_KEY },
        }),
      );
    }
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => stopServer(server)));
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    delete process.env.STREAM_SECRET_KEY;
    resetEnvCache();
  });

  it("never has two batches in flight, and delivers every row once in seq order", async () => {
    const db = await getDb();
    const added = await addWebhookStream({
      actor: { userId: null, username: "instances-test", via: "command line" },
      context: browserContext,
      input: { name: "two senders", url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`, format: "json" },
    });
    secret = added.secret;
    const [start] = rowsOf<{ seq: number }>(await db.execute(sql`select cursor_seq::int as seq from log_streams where id = ${added.id}`));
    // Written here, sealed by the two servers' sealers, sent by whichever holds the stream.
    for (let i = 0; i < 60; i++) {
      await appendAccountLog(db, Array.from({ length: 50 }, (_, j) => ({ username: `burst-${i}-${j}`, result: "login_failed_unknown_user" as const, ip: "192.0.2.77" })));
    }
    const deadline = Date.now() + 90_000;
    let expected: number[] = [];
    for (;;) {
      expected = rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_logs where seq > ${start!.seq} order by seq`)).map((row) => row.seq);
      const delivered = new Set(batches.flatMap((batch) => batch.seqs));
      const inbox = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from account_log_inbox`))[0]!.n;
      if (inbox === 0 && expected.length >= 3_000 && expected.every((seq) => delivered.has(seq))) break;
      if (Date.now() > deadline) throw new Error(`not delivered in time: ${delivered.size} of ${expected.length} rows, ${inbox} unsealed`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(mostInFlight).toBe(1);
    expect(batches.every((batch) => batch.signed)).toBe(true);
    const seqs = batches.flatMap((batch) => batch.seqs);
    expect(seqs).toEqual(expected.slice(0, seqs.length));
    expect(new Set(batches.map((batch) => batch.id)).size).toBe(batches.length);
  }, 120_000);

  it("goes on from another instance when the one sending is killed mid-batch (kill -9), once its lease runs out", async () => {
    const db = await getDb();
    await db.execute(sql`update log_streams set enabled = false`);
    batches.length = 0;
    holding = [];
    const added = await addWebhookStream({
      actor: { userId: null, username: "instances-test", via: "command line" },
      context: browserContext,
      input: { name: "sender killed", url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`, format: "json" },
    });
    secret = added.secret;
    const [start] = rowsOf<{ seq: number }>(await db.execute(sql`select cursor_seq::int as seq from log_streams where id = ${added.id}`));
    await appendAccountLog(db, Array.from({ length: 2_500 }, (_, j) => ({ username: `killed-${j}`, result: "login_failed_unknown_user" as const, ip: "192.0.2.78" })));
    // The first batch arrives and is held: its sender is found by its lease, and killed.
    const waitFor = async (what: string, done: () => Promise<boolean> | boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`${what} did not happen in time`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await waitFor("a first batch", () => batches.length === 1, 30_000);
    const [lease] = rowsOf<{ owner: string; batch_id: string }>(await db.execute(sql`select lease_owner as owner, batch_id from log_streams where id = ${added.id}`));
    const pid = Number(lease!.owner.split("-")[0]);
    const killed = servers.find((server) => server.pid === pid);
    expect(killed, `lease ${lease!.owner} names one of the servers`).toBeDefined();
    const killedAt = Date.now();
    killed!.kill("SIGKILL");
    await new Promise<void>((resolve) => (killed!.exitCode !== null || killed!.signalCode !== null ? resolve() : killed!.once("exit", () => resolve())));
    const released = holding;
    holding = undefined;
    for (const answer of released) answer();

    // Whichever sealed the rows, the one left seals what remains.
    await waitFor("sealing", async () => rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from account_log_inbox`))[0]!.n === 0, 30_000);
    const expected = rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_logs where seq > ${start!.seq} order by seq`)).map((row) => row.seq);
    await waitFor("delivery by the other instance", () => new Set(batches.flatMap((batch) => batch.seqs)).size >= expected.length && batches.length > 1, 60_000);
    const tookOverAfter = Date.now() - killedAt;
    // Not before the lease (30 s) ran out, and soon after it.
    expect(tookOverAfter).toBeGreaterThan(20_000);
    expect(tookOverAfter).toBeLessThan(45_000);
    // The batch in flight came again with its ID; after it, every row once, in order.
    expect(batches[0]!.id).toBe(lease!.batch_id);
    expect(batches[1]!.id).toBe(batches[0]!.id);
    expect(batches.slice(1).flatMap((batch) => batch.seqs)).toEqual(expected);
    expect(batches.every((batch) => batch.signed)).toBe(true);
  }, 120_000);
});
