import { createPublicKey, createPrivateKey, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountName, BENCH_PASSWORD, fillLog } from "../../scripts/bench/fill";
import { getDb, openDatabase, rowsOf, type Database } from "@/db";
import { logStreams } from "@/db/schema";
import { answerLogRequest } from "@/lib/api/log-endpoint";
import { createApiToken } from "@/lib/api/tokens";
import { attemptSignIn } from "@/lib/account-log/sign-in";
import { latestBoundary, parseMonth, planRetention, retainMonths, RetentionRefused, type RetentionRequest } from "@/lib/audit/retention";
import { restoreArchives, RestoreRefused } from "@/lib/audit/restore";
import { sealPending, startSealer } from "@/lib/audit/sealer";
import { appendAccountLog } from "@/lib/account-log/record";
import { canonicalEncoding, chainHash } from "@/lib/audit/canonical";
import { ndjsonRow } from "@/lib/audit/export";
import { ndjsonChainRow } from "@/lib/audit/verify-export";
import { newSigningKeyPem } from "@/lib/audit/checkpoints";
import { checkArchive } from "@/lib/audit/verify-archive";
import { verifyChain } from "@/lib/audit/verify";
import { addWebhookStream } from "@/lib/streams/store";
import { browserContext } from "../support/accounts";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";

/**
 * Every counter against the rows it counts: each statement lists the groups where they differ,
 * so an empty result for all of them means the counts equal count(*).
 */
async function counterMismatches(db: Database): Promise<Record<string, number>> {
  const failed = sql.raw(`('login_failed_wrong_password', 'login_failed_unknown_user', 'login_failed_account_locked', 'login_failed_rate_limited')`);
  const checks: Record<string, ReturnType<typeof sql>> = {
    totals: sql`select 1 where (select sum(row_count) from account_log_totals) <> (select count(*) from account_logs)`,
    usernames: sql`select u.id from account_log_usernames u left join (select username_key, count(*) n from account_logs group by 1) c on c.username_key = u.id
      where u.row_count <> coalesce(c.n, 0)`,
    username_results: sql`(select username_key, result, row_count from account_log_username_results)
      except (select username_key, result, count(*) from account_logs group by 1, 2)`,
    username_results_missing: sql`(select username_key, result, count(*) from account_logs group by 1, 2)
      except (select username_key, result, row_count from account_log_username_results)`,
    address_results: sql`((select ip, result, row_count from account_log_address_results)
      except (select ip, result, count(*) from account_logs where ip is not null group by 1, 2))
      union all ((select ip, result, count(*) from account_logs where ip is not null group by 1, 2)
      except (select ip, result, row_count from account_log_address_results))`,
    hours: sql`((select hour, result, row_count from account_log_hours)
      except (select date_trunc('hour', occurred_at, 'UTC'), result, count(*) from account_logs group by 1, 2))
      union all ((select date_trunc('hour', occurred_at, 'UTC'), result, count(*) from account_logs group by 1, 2)
      except (select hour, result, row_count from account_log_hours))`,
    country_hours: sql`((select country, result, hour, row_count from account_log_country_hours)
      except (select metadata->'location'->>'country', result, date_trunc('hour', occurred_at, 'UTC'), count(*) from account_logs
        where metadata->'location'->>'country' is not null group by 1, 2, 3))`,
    country_results: sql`((select country, result, row_count from account_log_country_results)
      except (select coalesce(metadata->'location'->>'country', ''), result, count(*) from account_logs group by 1, 2))
      union all ((select coalesce(metadata->'location'->>'country', ''), result, count(*) from account_logs group by 1, 2)
      except (select country, result, row_count from account_log_country_results))`,
    failure_hours: sql`((select hour, username_key, ip, failures from account_log_failure_hours)
      except (select date_trunc('hour', occurred_at, 'UTC'), username_key, ip, count(*) from account_logs where result in ${failed} group by 1, 2, 3))
      union all ((select date_trunc('hour', occurred_at, 'UTC'), username_key, ip, count(*) from account_logs where result in ${failed} group by 1, 2, 3)
      except (select hour, username_key, ip, failures from account_log_failure_hours))`,
    months: sql`((select month, min_seq, max_seq, row_count from account_log_months)
      except (select date_trunc('month', sealed_at, 'UTC'), min(seq), max(seq), count(*) from account_logs group by 1))`,
    // The newest row each counter names is a row still there, and the newest of its kind.
    username_results_last_id: sql`select r.* from account_log_username_results r
      where r.last_id <> (select max(l.id) from account_logs l where l.username_key = r.username_key and l.result = r.result)`,
    address_results_last_id: sql`select r.* from account_log_address_results r
      where r.last_id <> (select max(l.id) from account_logs l where l.ip = r.ip and l.result = r.result)`,
    country_results_last_id: sql`select r.* from account_log_country_results r
      where r.last_id <> (select max(l.id) from account_logs l where coalesce(l.metadata->'location'->>'country', '') = r.country and l.result = r.result)`,
    usernames_last_id: sql`select u.id from account_log_usernames u where u.last_id is not null and not exists (select from account_logs l where l.id = u.last_id)`,
  };
  const mismatches: Record<string, number> = {};
  for (const [name, query] of Object.entries(checks)) {
    const rows = rowsOf<unknown>(await db.execute(query));
    if (rows.length > 0) mismatches[name] = rows.length;
  }
  return mismatches;
}

const request = (overrides: Partial<RetentionRequest>): RetentionRequest => ({
  before: new Date("2026-01-01T00:00:00Z"),
  actor: { userId: null, username: "retention-test", via: "command line" },
  context: browserContext,
  ...overrides,
});

async function firstSeq(db: Database): Promise<number> {
  return Number(rowsOf<{ seq: number | string }>(await db.execute(sql`select min(seq) as seq from account_logs`))[0]!.seq);
}

describe.each(DATABASE_KINDS)("retention on %s", (kind) => {
  const database = useFreshDatabase(kind);
  const signingKeyPem = newSigningKeyPem();
  const publicKey = createPublicKey(createPrivateKey(signingKeyPem));
  const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-archive-"));
  let rowsBefore = 0;

  beforeAll(async () => {
    process.env.AUDIT_SIGNING_KEY = signingKeyPem;
    process.env.STREAM_SECRET_KEY = randomBytes(32).toString("base64");
    resetEnvCache();
    // A year of log sealed month by month, with exact counters, as the benchmark's data set.
    await fillLog(await getDb(), 3_000, () => {});
    rowsBefore = Number(rowsOf<{ n: number | string }>(await (await getDb()).execute(sql`select count(*) as n from account_logs`))[0]!.n);
  }, 120_000);
  afterAll(() => {
    delete process.env.AUDIT_SIGNING_KEY;
    delete process.env.STREAM_SECRET_KEY;
    resetEnvCache();
    fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it("starts from exact counters and an intact chain", async () => {
    const db = await getDb();
    expect(await counterMismatches(db)).toEqual({});
    expect(await verifyChain(db)).toMatchObject({ intact: true, rowsVerified: rowsBefore });
  });

  it("refuses without an archive, for the month still sealed into, with unsealed rows older than the cut, and with a stream behind", async () => {
    const db = await getDb();
    await expect(retainMonths(request({}), db)).rejects.toThrow("Give an archive folder (--archive DIR), or --no-archive");
    const [sealing] = rowsOf<{ next: string }>(await db.execute(sql`select to_char(date_trunc('month', sealed_at, 'UTC') + interval '1 month', 'YYYY-MM') as next from account_log_seal_state`));
    await expect(retainMonths(request({ before: parseMonth(sealing!.next)!, archiveDir }), db)).rejects.toThrow("is still being sealed into");

    // A row written late on 31 December and not sealed yet: its month cannot go.
    await db.execute(sql`insert into account_log_inbox (username, username_normalized, result, occurred_at)
      values ('late-writer', 'late-writer', 'login_successful', '2025-12-31T23:59:59Z')`);
    await expect(retainMonths(request({ archiveDir }), db)).rejects.toThrow("1 rows written before 2026-01 are not sealed yet");
    await sealPending(db);

    const stream = await addWebhookStream({
      actor: { userId: null, username: "retention-test", via: "command line" },
      context: browserContext,
      input: { name: "slow shipper", url: "http://127.0.0.1:9/in", format: "json" },
    });
    await db.update(logStreams).set({ cursorSeq: 10 }).where(sql`${logStreams.id} = ${stream.id}`);
    await expect(retainMonths(request({ archiveDir }), db)).rejects.toThrow(/Streams have not delivered these rows yet: slow shipper \(sent through seq 10/);
    await expect(retainMonths(request({ archiveDir, force: ["no such stream"] }), db)).rejects.toBeInstanceOf(RetentionRefused);
    expect(await latestBoundary(db)).toBeUndefined();
    expect(await firstSeq(db)).toBe(1);
  });

  it("archives the oldest months, removes them whole with the counters' share, and logs it; a sign-in meanwhile is logged", async () => {
    const db = await getDb();
    const [planned] = rowsOf<{ last: number | string; rows: number | string }>(
      await db.execute(sql`select max(seq) as last, count(*) as rows from account_logs where sealed_at < '2026-01-01T00:00:00Z'`),
    );
    // The app goes on meanwhile: its sealer runs, rows are written, a user signs in.
    const sealer = startSealer({ idleMs: 5 });
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await appendAccountLog(db, [{ username: `during-${written}`, result: "login_failed_unknown_user", ip: "192.0.2.90" }]);
        written += 1;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    let outcome, signIn;
    try {
      [outcome, signIn] = await Promise.all([
        retainMonths(request({ archiveDir, force: ["slow shipper"] }), db),
        attemptSignIn({ username: accountName(1), password: BENCH_PASSWORD }, browserContext),
      ]);
    } finally {
      writing = false;
      await writer;
      await sealer.stop();
    }
    expect(signIn.status).toBe("signed_in");
    expect(outcome).toMatchObject({ status: "retained", months: ["2025-11", "2025-12"], rows: Number(planned!.rows), boundarySeq: Number(planned!.last), forcedStreams: ["slow shipper"] });
    await sealPending(db);

    expect(await counterMismatches(db)).toEqual({});
    expect(await firstSeq(db)).toBe(Number(planned!.last) + 1);
    const [left] = rowsOf<{ n: number | string }>(await db.execute(sql`select count(*) as n from account_logs where sealed_at < '2026-01-01T00:00:00Z'`));
    expect(Number(left!.n)).toBe(0);
    // The sign-in during the drop is in the log, after the boundary.
    const [signedIn] = rowsOf<{ seq: number | string }>(await db.execute(sql`select seq from account_logs where id = ${"logId" in signIn ? signIn.logId : 0}`));
    expect(Number(signedIn!.seq)).toBeGreaterThan(Number(planned!.last));

    const [logged] = rowsOf<{ metadata: string; username: string }>(await db.execute(sql`select username, metadata::text from account_logs where result = 'logs_retained'`));
    const retention = JSON.parse(logged!.metadata).retention;
    expect(logged!.username).toBe("retention-test");
    expect(retention).toMatchObject({ months: ["2025-11", "2025-12"], rows: Number(planned!.rows), boundarySeq: Number(planned!.last), firstSeq: 1 });
    // Every row written meanwhile is sealed, after the boundary.
    const [during] = rowsOf<{ n: number | string }>(await db.execute(sql`select count(*) as n from account_logs where username like 'during-%'`));
    expect(Number(during!.n)).toBe(written);
    // The boundary is evidence: not even the owner changes or removes it.
    await expect(db.execute(sql`delete from account_log_boundaries`)).rejects.toThrow(/retention boundaries are never changed or removed|Failed query/);
    expect(retention.archives[0]).toMatch(/^account-log-[0-9a-f]{8}-2025-11\.ndjson sha256:[0-9a-f]{64}$/);
    expect(retention.forcedStreams).toEqual([expect.stringMatching(/^slow shipper \(\d+\), sent through seq 10$/)]);
    expect(retention).toMatchObject({ archiveNames: [expect.stringMatching(/2025-11\.ndjson$/), expect.stringMatching(/2025-12\.ndjson$/)], databaseRole: expect.any(String) });
  });

  it("verifies from the signed boundary, and each archive offline; a changed archive is caught", async () => {
    const db = await getDb();
    const evidence = { checkpoints: [], publicKeys: [publicKey] };
    const verified = await verifyChain(db, () => {}, { checkpoints: evidence });
    expect(verified).toMatchObject({ intact: true });
    const files = fs.readdirSync(archiveDir).filter((file) => file.endsWith(".ndjson")).sort();
    expect(files).toHaveLength(2);
    const checks = await Promise.all(files.map((file) => checkArchive(path.join(archiveDir, file), [publicKey])));
    expect(checks.map((check) => check.intact && check.signature)).toEqual(["held", "held"]);
    // The months link up: December starts where November ends.
    const [november, december] = checks as Extract<(typeof checks)[number], { intact: true }>[];
    expect(december!.header.prev_hash).toBe(november!.headHash);
    expect(december!.boundarySeq).toBe((await latestBoundary(db))!.seq);

    const tampered = path.join(archiveDir, "tampered.ndjson.txt");
    const lines = fs.readFileSync(path.join(archiveDir, files[1]!), "utf8").split("\n");
    lines[3] = lines[3]!.replace(/"result":"[a-z_]+"/, '"result":"login_successful"').replace(/"username":"[^"]+"/, '"username":"someone-else"');
    fs.writeFileSync(tampered, lines.join("\n"));
    expect(await checkArchive(tampered, [publicKey])).toMatchObject({ intact: false, problem: expect.stringMatching(/does not match its hash/) });
    // November edited and re-hashed from the edit on, its trailer made to match: the signed span catches it.
    const rehashed = path.join(archiveDir, "rehashed.ndjson.txt");
    const novemberLines = fs.readFileSync(path.join(archiveDir, files[0]!), "utf8").trimEnd().split("\n");
    const rows = novemberLines.slice(1, -1).map((line, i) => ({ ...ndjsonChainRow(JSON.parse(line), i + 2), seq: (JSON.parse(line) as { seq: number }).seq }));
    let previous = rows[2]!.prevHash;
    for (const row of rows.slice(2)) {
      if (row === rows[2]) row.username = "someone-else";
      row.prevHash = previous;
      row.hash = chainHash(previous, canonicalEncoding(row));
      previous = row.hash;
    }
    const trailer = JSON.parse(novemberLines.at(-1)!) as { archive_end: { head_hash: string } };
    trailer.archive_end.head_hash = previous;
    fs.writeFileSync(rehashed, [novemberLines[0], ...rows.map((row) => ndjsonRow(row).trimEnd()), JSON.stringify(trailer)].join("\n") + "\n");
    expect(await checkArchive(rehashed, [publicKey])).toMatchObject({ intact: false, problem: expect.stringMatching(/not the span of 2025-11 that the boundary signs/) });
    const cut = path.join(archiveDir, "cut.ndjson.txt");
    fs.writeFileSync(cut, fs.readFileSync(path.join(archiveDir, files[1]!), "utf8").split("\n").slice(0, -3).join("\n"));
    expect(await checkArchive(cut, [publicKey])).toMatchObject({ intact: false, problem: expect.stringMatching(/trailer is missing/) });
  });

  it("restores the archives into a scratch database for an investigation", async () => {
    const scratch = new PGlite();
    try {
      const scratchDb = drizzle(scratch) as unknown as Database;
      const files = fs.readdirSync(archiveDir).filter((file) => file.endsWith(".ndjson")).map((file) => path.join(archiveDir, file));
      const boundary = (await latestBoundary(await getDb()))!;
      expect(await restoreArchives(scratchDb, files, [publicKey])).toEqual({ archives: 2, rows: boundary.rowsRemoved });
      const [span] = rowsOf<{ first: number; last: number; n: number }>(await scratchDb.execute(sql`select min(seq)::int as first, max(seq)::int as last, count(*)::int as n from restored_account_logs`));
      expect(span).toEqual({ first: 1, last: boundary.seq, n: boundary.rowsRemoved });
      // A damaged archive among them: nothing is loaded from any.
      await expect(restoreArchives(scratchDb, [files[1]!, path.join(archiveDir, "tampered.ndjson.txt")], [publicKey])).rejects.toBeInstanceOf(RestoreRefused);
    } finally {
      await scratch.close();
    }
  });

  it("answers 410 for an API cursor below the boundary, with where the log goes on", async () => {
    const db = await getDb();
    const { token } = await createApiToken({ name: "siem", scopes: ["logs:read"], actor: { userId: null, username: "retention-test", via: "command line" }, context: browserContext });
    const boundary = (await latestBoundary(db))!;
    const gone = await answerLogRequest(db, { url: new URL("http://logs.test/api/v1/account-logs?after=0"), authorization: `Bearer ${token}`, context: browserContext });
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: "retained", first_after: boundary.seq });
    expect(gone.headers.get("Link")).toContain(`after=${boundary.seq}`);
    for (const url of [`http://logs.test/api/v1/account-logs?after=${boundary.seq}&limit=1`, "http://logs.test/api/v1/account-logs?limit=1"]) {
      // From the boundary, or with no cursor at all: the log as it starts now.
      const goesOn = await answerLogRequest(db, { url: new URL(url), authorization: `Bearer ${token}`, context: browserContext });
      expect(goesOn.status, url).toBe(200);
      expect(((await goesOn.json()) as { data: { seq: number }[] }).data[0]!.seq).toBe(boundary.seq + 1);
    }
  });

  it("the owner's function checks what it is given, whoever calls it", async () => {
    const db = await getDb();
    const before = parseMonth("2026-02")!;
    const plan = (await planRetention(db, before))!;
    const streamId = rowsOf<{ id: number }>(await db.execute(sql`select id from log_streams order by id limit 1`))[0]!.id;
    const call = (spans: unknown, signedAt = new Date(), seq = plan.boundarySeq) =>
      db.execute(sql`select account_log_retain(${before.toISOString()}::timestamptz, ${seq}::bigint, decode(${plan.headHash}, 'hex'),
        ${signedAt.toISOString()}::timestamptz, 'key', decode('00', 'hex'), ${JSON.stringify(spans)}::jsonb, array['a.ndjson']::text[],
        array[${sql.raw(String(Number(streamId)))}]::integer[],
        '{"username": "direct", "username_normalized": "direct"}'::jsonb)`);
    const message = (promise: Promise<unknown>) => promise.then(() => "removed", (error: Error & { cause?: Error }) => error.cause?.message ?? error.message);
    expect(await message(call(plan.spans.map((span) => ({ ...span, rows: span.rows + 1 }))))).toMatch(/the signed span of 2026-01 is not the database's/);
    expect(await message(call(plan.spans, new Date(Date.now() - 3_600_000)))).toMatch(/was signed at .*, not for this run/);
    expect(await message(call(plan.spans, new Date(), plan.boundarySeq - 1))).toMatch(/end at seq \d+, not \d+/);
    expect(await firstSeq(db)).toBe((await latestBoundary(db))!.seq + 1);
  });

  it.runIf(kind === "postgres")("retains as the app's own role, through the owner's function only", async () => {
    const owner = await getDb();
    await owner.execute(sql`do $$ begin create role account_logs_app login password 'app-role-password';
      exception when duplicate_object then null; end $$`);
    await owner.execute(sql.raw(fs.readFileSync("db/roles/app-role.sql", "utf8")));
    const url = new URL(database.url()!);
    url.username = "account_logs_app";
    url.password = "app-role-password";
    const app = await openDatabase({ kind: "postgres", url: url.toString() });
    try {
      const refused = await app.db.execute(sql`alter table account_logs detach partition account_logs_2026_01`).then(
        () => "detached",
        (error: { code?: string; cause?: { code?: string } }) => error.cause?.code ?? error.code,
      );
      expect(refused).toBe("42501");
      // The owner's floor keeps the app's role from younger months, and from any without archives.
      const february = request({ before: new Date("2026-02-01T00:00:00Z"), archiveDir, force: ["slow shipper"] });
      await owner.execute(sql`update account_log_retention_floor set months = 1200`);
      await expect(retainMonths(february, app.db)).rejects.toThrow("older than 1200 months only");
      await owner.execute(sql`update account_log_retention_floor set months = 0`);
      const denied = async (statement: ReturnType<typeof sql>) =>
        app.db.execute(statement).then(
          () => "done",
          (error: { code?: string; cause?: { code?: string } }) => error.cause?.code ?? error.code,
        );
      expect(await denied(sql`update account_log_retention_floor set months = 0`)).toBe("42501");
      // Nor may it write the row verify requires beside a boundary.
      expect(await denied(sql`insert into account_log_inbox (username, username_normalized, result) values ('forged', 'forged', 'logs_retained')`)).toBe("42501");
      await expect(retainMonths({ ...february, archiveDir: undefined, noArchive: true }, app.db)).rejects.toThrow("only with their archives");
      const outcome = await retainMonths(february, app.db);
      expect(outcome).toMatchObject({ status: "retained", months: ["2026-01"] });
    } finally {
      await app.close();
    }
    await sealPending(owner);
    expect(await counterMismatches(owner)).toEqual({});
    expect(await verifyChain(owner, () => {}, { checkpoints: { checkpoints: [], publicKeys: [publicKey] } })).toMatchObject({ intact: true });
  });

  it("catches a month removed behind the app's back", async () => {
    const db = await getDb();
    // A superuser detaches and drops the oldest month left, as retention would, without it.
    const oldest = kind === "postgres" ? "account_logs_2026_02" : "account_logs_2026_01";
    await db.execute(sql.raw(`alter table account_logs detach partition ${oldest}`));
    await db.execute(sql.raw(`drop table ${oldest}`));
    const outcome = await verifyChain(db, () => {}, { checkpoints: { checkpoints: [], publicKeys: [publicKey] } });
    expect(outcome).toMatchObject({ intact: false, broken: { kind: "removed", detail: expect.stringMatching(/retention removed rows through seq \d+, but the log starts at seq \d+: rows \d+ to \d+ were removed behind the app's back/) } });
    // Nor will retention sign for the hole.
    const next = kind === "postgres" ? "2026-04" : "2026-03";
    await expect(retainMonths(request({ before: parseMonth(next)!, archiveDir, force: ["slow shipper"] }), db)).rejects.toThrow(/does not follow on from seq \d+/);
  });
});
