import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { env, resetEnv } from "@/lib/env";
import { sessionFor } from "../../tests/support/http";
import { startPostgresCluster, freePort, createDatabase, postgresCanUse } from "../../tests/support/postgres-cluster";
import { startServer, stopServer } from "../../tests/support/servers";
import { measure, summarize, table, type Stats } from "./stats";
import { accountName, BENCH_ADMIN, BENCH_PASSWORD, fillLog } from "./fill";

/**
 * `npm run bench [-- --rows N] [-- --skip-http] [-- --queries-only] [-- --http-only] [-- --flood-only] [-- --retention-only] [-- --upgrade-only] [-- --naive-samples N]`: fills (or reuses)
 * a realistic log on a real PostgreSQL and measures the admin page's queries, the page over HTTP,
 * the naive versions of the same queries, the sign-in path, the log's write and seal rates, and a
 * real sign-in under a flood against two app processes. The last line is JSON.
 */

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "10000000" },
    samples: { type: "string", default: "50" },
    "skip-http": { type: "boolean", default: false },
    "queries-only": { type: "boolean", default: false },
    "flood-only": { type: "boolean", default: false },
    "http-only": { type: "boolean", default: false },
    "retention-only": { type: "boolean", default: false },
    "upgrade-only": { type: "boolean", default: false },
    "naive-samples": { type: "string", default: "10" },
  },
});
const rows = Number(args.rows);
const samples = Number(args.samples);
if (!Number.isInteger(rows) || rows < 100_000) throw new Error("--rows must be a whole number of at least 100000");

const log = (message: string) => console.error(`[bench] ${message}`);

async function benchDatabaseUrl(): Promise<{ url: string; stop: () => void }> {
  const configured = env().DATABASE_URL;
  if (configured) return { url: configured, stop: () => {} };
  // One cluster per data-set size, kept so the next run reuses the rows: in .data/bench, or in
  // /var/tmp when the postgres user cannot reach this clone (a clone in root's home folder).
  const local = path.resolve(".data", "bench");
  fs.mkdirSync(local, { recursive: true });
  const root = postgresCanUse(local) ? local : path.join(os.tmpdir() === "/tmp" ? "/var/tmp" : os.tmpdir(), "account-logs-bench");
  if (root !== local) log(`the postgres user cannot reach ${local}; keeping the benchmark cluster in ${root}`);
  const dataDir = path.join(root, `pg-${rows}`);
  const cluster = await startPostgresCluster({ durable: true, dataDir, port: await freePort() });
  const url = new URL(cluster.url);
  if (!cluster.reused) await createDatabase(cluster.url, "bench");
  url.pathname = "/bench";
  return { url: url.toString(), stop: cluster.stop };
}

type Params = Record<string, string | string[]>;
type Shape = { name: string; params: Params; naive?: (db: import("@/db").Database) => Promise<unknown> };

function searchParamsOf(params: Params): URLSearchParams {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const item of [value].flat()) search.append(key, item);
  return search;
}

async function main() {
  const target = await benchDatabaseUrl();
  process.env.DATABASE_URL = target.url;
  resetEnv();
  const { openAppDatabase, closeDb, rowsOf } = await import("@/db");
  const db = await openAppDatabase();
  try {
    await fillLog(db, rows, log);
    const floodUser = { username: accountName(4242), password: BENCH_PASSWORD };
    if (args["flood-only"]) {
      const { measureFlood } = await import("./flood");
      console.log(JSON.stringify({ rows, flood: await measureFlood(target.url, floodUser, log) }));
      return;
    }
    if (args["retention-only"]) {
      // The copy the measurement works on needs the data set without this process's connections.
      await closeDb();
      const { measureRetention } = await import("./retention");
      console.log(JSON.stringify({ rows, retention: await measureRetention(target.url, floodUser, log) }));
      return;
    }
    if (args["upgrade-only"]) {
      // Not part of a full run: it needs the data set as the release before the ledger stored it.
      await closeDb();
      const { measureUpgrade } = await import("./upgrade");
      console.log(JSON.stringify({ rows, upgrade: await measureUpgrade(target.url, floodUser, rows, log) }));
      return;
    }
    const { findAccountLogs } = await import("@/lib/account-log/queries");
    const { parseAccountLogQuery } = await import("@/lib/account-log/search-params");
    const { countryIn } = await import("@/lib/account-log/filters");

    const cursorRow = rowsOf<{ id: string }>(await db.execute(sql`select id::text from account_logs order by id desc offset 49950 limit 1`));
    const deepCursor = cursorRow[0]!.id;
    // The same filters as plain SQL on the log and its indexes, with a count(*).
    const naiveFilter = (params: Params) => async (d: import("@/db").Database) => {
      const { query } = parseAccountLogQuery(params);
      const conditions = [sql`true`];
      if (query.q) conditions.push(sql`username ilike ${`%${query.q}%`}`);
      if (query.results.length) conditions.push(sql`result in (${sql.join(query.results.map((r) => sql`${r}`), sql`, `)})`);
      if (query.from) conditions.push(sql`occurred_at >= ${query.from.toISOString()}::timestamptz`);
      if (query.to) conditions.push(sql`occurred_at < ${query.to.toISOString()}::timestamptz`);
      if (query.ip) conditions.push(sql`ip <<= ${query.ip}::inet`);
      if (query.country) conditions.push(countryIn(sql`(metadata->'location'->>'country')`, query.country));
      const condition = sql.join(conditions, sql` and `);
      await Promise.all([
        d.execute(sql`select * from account_logs where ${condition} order by id desc limit 50`),
        d.execute(sql`select count(*) from account_logs where ${condition}`),
      ]);
    };
    const naiveSearch = (term: string) => async (d: import("@/db").Database) => {
      const pattern = `%${term}%`;
      await Promise.all([
        d.execute(sql`select * from account_logs where username ilike ${pattern} order by id desc limit 50`),
        d.execute(sql`select count(*) from account_logs where username ilike ${pattern}`),
      ]);
    };
    const shapes: Shape[] = [
      { name: "first page, no search", params: {}, naive: async (d) => {
        await Promise.all([d.execute(sql`select * from account_logs order by id desc limit 50`), d.execute(sql`select count(*) from account_logs`)]);
      } },
      { name: "1,000th page (keyset)", params: { before: deepCursor }, naive: async (d) => {
        await Promise.all([d.execute(sql`select * from account_logs order by id desc offset 49950 limit 50`), d.execute(sql`select count(*) from account_logs`)]);
      } },
      { name: "exact username, busy", params: { q: accountName(1) }, naive: naiveSearch(accountName(1)) },
      { name: "exact username, quiet", params: { q: accountName(9876) }, naive: naiveSearch(accountName(9876)) },
      { name: "substring, many users", params: { q: "user0" }, naive: naiveSearch("user0") },
      { name: "substring, few users", params: { q: "user0999" }, naive: naiveSearch("user0999") },
      { name: "term matching nothing", params: { q: "no-such-user" }, naive: naiveSearch("no-such-user") },
    ];
    // Filters, on the data set's year (2025-11-26 to 2026-11-26): what an investigation asks.
    const failures = ["login_failed_wrong_password", "login_failed_unknown_user"];
    const lastDay = { from: "2026-11-25T00:00:00Z" };
    const lastWeek = { from: "2026-11-19T00:00:00Z" };
    const midYearWeek = { from: "2026-05-01T10:17:00Z", to: "2026-05-08T16:45:00Z" };
    const busyIp = rowsOf<{ ip: string }>(
      await db.execute(sql`select host(ip) as ip from account_logs where username_normalized = ${accountName(1)} and family(ip) = 4 order by id desc limit 1`),
    )[0]!.ip;
    const busyNetwork = `${busyIp.split(".").slice(0, 2).join(".")}.0.0/16`;
    const filterShapes: Shape[] = [
      { name: "failures, all time", params: { result: failures } },
      { name: "a rare result, all time", params: { result: "login_failed_invalid_request" } },
      { name: "last 24 hours", params: lastDay },
      { name: "a week mid-year, odd minutes", params: midYearWeek },
      { name: "failures in a week mid-year", params: { result: failures, ...midYearWeek } },
      { name: "busy user, last 7 days", params: { q: accountName(1), ...lastWeek } },
      { name: "busy user, failures", params: { q: accountName(1), result: failures } },
      { name: "substring, failures, last 24 hours", params: { q: "user0", result: failures, ...lastDay } },
      { name: "one address (an attacker)", params: { ip: "45.155.205.99" } },
      { name: "a /16 network", params: { ip: busyNetwork } },
      { name: "a /16 network, failures, a week", params: { ip: busyNetwork, result: failures, ...midYearWeek } },
      // The country stored with each row: what investigators ask of sign-ins from abroad.
      { name: "one country, all time", params: { country: "DE" } },
      { name: "outside our countries, failures", params: { country: ["!US", "!DE", "!GB"], result: failures } },
      { name: "outside our countries, a week mid-year", params: { country: ["!US", "!DE"], ...midYearWeek } },
      { name: "a rare country, last 24 hours", params: { country: "CN", ...lastDay } },
    ];
    for (const shape of filterShapes) shape.naive = naiveFilter(shape.params);
    shapes.push(...filterShapes);

    const results: Record<string, Stats & { naive_p95_ms?: number; ratio?: number; count: number; http?: Stats }> = {};
    for (const shape of shapes) {
      const { query } = parseAccountLogQuery(shape.params);
      const count = (await findAccountLogs(query)).numberOfLogs;
      if (args["http-only"]) {
        results[shape.name] = { p50_ms: 0, p95_ms: 0, samples: 0, count };
        continue;
      }
      const ours = await measure(() => findAccountLogs(query), { samples });
      const naive = shape.naive ? await measure(() => shape.naive!(db), { warmup: 1, samples: Math.min(samples, Number(args["naive-samples"])) }) : undefined;
      results[shape.name] = {
        ...ours,
        count,
        ...(naive && { naive_p95_ms: naive.p95_ms, ratio: Math.round((naive.p95_ms / ours.p95_ms) * 10) / 10 }),
      };
      log(`${shape.name}: p95 ${ours.p95_ms} ms, naive p95 ${naive?.p95_ms} ms, count ${count}`);
    }
    if (args["http-only"]) {
      // The page, the other pages and the API over HTTP alone: after a change that only the
      // server's side of the page can show.
      const pages: Record<string, Stats> = {};
      const api: Record<string, Stats> = {};
      await measureHttp(target.url, shapes, results, { "Users page": "/admin/users", "sign-in page": "/login" }, pages, api);
      console.log("\n" + table(["shape", "rows matched", "HTTP p50 ms", "HTTP p95 ms"], Object.entries(results).map(([name, r]) => [name, r.count, r.http?.p50_ms ?? "", r.http?.p95_ms ?? ""])));
      console.log(JSON.stringify({
        rows,
        shapes: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { count: r.count, http_p50_ms: r.http?.p50_ms, http_p95_ms: r.http?.p95_ms }])),
        pages: Object.fromEntries(Object.entries(pages).map(([name, stats]) => [name, { http_p50_ms: stats.p50_ms, http_p95_ms: stats.p95_ms }])),
        api: { page_p50_ms: api.page?.p50_ms, page_p95_ms: api.page?.p95_ms, filtered_page_p50_ms: api.filtered?.p50_ms, filtered_page_p95_ms: api.filtered?.p95_ms },
      }));
      return;
    }
    if (args["queries-only"]) {
      console.log("\n" + table(
        ["shape", "rows matched", "p50 ms", "p95 ms", "naive p95 ms", "naive/ours"],
        Object.entries(results).map(([name, r]) => [name, r.count, r.p50_ms, r.p95_ms, r.naive_p95_ms ?? "", r.ratio ?? ""]),
      ));
      return;
    }

    // The sign-in path at the production hash cost, against the bare hash in the same run.
    const { attemptSignIn } = await import("@/lib/account-log/sign-in");
    const { verifyPassword } = await import("@/lib/auth/password");
    const { findUserByUsername } = await import("@/lib/users/queries");
    const signInUser = accountName(4242);
    const stored = (await findUserByUsername(signInUser))!.passwordHash;
    const context = { ip: "198.51.100.1", userAgent: "bench", hints: {}, forwardedHeaders: undefined };
    // Interleaved pairs, so drift on a busy machine hits both sides alike.
    for (let i = 0; i < 2; i++) await attemptSignIn({ username: signInUser, password: BENCH_PASSWORD }, context);
    const hashTimes: number[] = [];
    const signInTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      let start = performance.now();
      await verifyPassword(BENCH_PASSWORD, stored);
      hashTimes.push(performance.now() - start);
      start = performance.now();
      await attemptSignIn({ username: signInUser, password: BENCH_PASSWORD }, context);
      signInTimes.push(performance.now() - start);
    }
    const hash = summarize(hashTimes);
    const signIn = summarize(signInTimes);
    const overhead = summarize(signInTimes.map((t, i) => t - hashTimes[i]!));
    log(`sign-in ${signIn.p50_ms} ms p50 vs hash ${hash.p50_ms} ms: overhead ${overhead.p50_ms} ms`);

    // The log write alone: 8 concurrent writers for a few seconds, first with nothing sealing
    // (rows wait in the inbox), then with this process's sealer running as the server runs it.
    const unsealed = await measureWrites(db, { sealing: false });
    log(`log writes, sealing off: ${unsealed.perSecond}/s with 8 writers, ${unsealed.written} rows for ${unsealed.attempts} attempts`);
    const sealed = await measureWrites(db, { sealing: true });
    log(`log writes, sealing on: ${sealed.perSecond}/s with 8 writers, ${sealed.written} rows for ${sealed.attempts} attempts, seal lag p99 ${sealed.sealLag.p99_ms} ms`);
    const sealRate = await measureSealRate(db);
    log(`sealer alone: ${sealRate.rows_per_second} rows/s`);
    const audit = await measureAudit(db, accountName(1));
    const streams = await measureStreamDrain(db);
    log(`stream drain: ${streams.rows} rows to a local webhook in ${streams.seconds} s (${streams.webhook_rows_per_second}/s)`);
    log(`verify: ${audit.verify.rows} rows in ${audit.verify.seconds} s; export: ${audit.export.rows} rows in ${audit.export.seconds} s`);

    let peakRssMb: number | undefined;
    // Beside the log's shapes: the Users page over the data set's 10,000 accounts, and the
    // sign-in page, the smallest page: what the framework costs before any query.
    const pages: Record<string, Stats> = {};
    const api: Record<string, Stats> = {};
    let flood: import("./flood").FloodResult | undefined;
    let retention: import("./retention").RetentionResult | undefined;
    if (!args["skip-http"]) {
      peakRssMb = await measureHttp(target.url, shapes, results, { "Users page": "/admin/users", "sign-in page": "/login" }, pages, api);
      const { measureFlood } = await import("./flood");
      flood = await measureFlood(target.url, floodUser, log);
      // Last: it copies the data set, which needs this process's connections closed.
      await closeDb();
      const { measureRetention } = await import("./retention");
      retention = await measureRetention(target.url, floodUser, log);
    }

    console.log("\n" + table(
      ["shape", "rows matched", "p50 ms", "p95 ms", "naive p95 ms", "naive/ours", "HTTP p50 ms", "HTTP p95 ms"],
      Object.entries(results).map(([name, r]) => [name, r.count, r.p50_ms, r.p95_ms, r.naive_p95_ms ?? "", r.ratio ?? "", r.http?.p50_ms ?? "", r.http?.p95_ms ?? ""]),
    ));
    console.log(`\nsign-in: ${signIn.p50_ms} ms p50 / ${signIn.p95_ms} ms p95; bare hash ${hash.p50_ms} / ${hash.p95_ms} ms; overhead ${overhead.p50_ms} ms p50 (${Math.round((overhead.p50_ms / hash.p50_ms) * 1000) / 10}%)`);
    console.log(`log writes: ${sealed.perSecond}/s with 8 concurrent writers and sealing (${unsealed.perSecond}/s with sealing off, ratio ${Math.round((sealed.perSecond / unsealed.perSecond) * 100) / 100}); rows sealed ${sealed.written} = attempts ${sealed.attempts}: ${sealed.written === sealed.attempts}`);
    console.log(`seal lag under that load: ${sealed.sealLag.p50_ms} ms p50 / ${sealed.sealLag.p99_ms} ms p99 / ${sealed.sealLag.max_ms} ms max; the sealer alone ${sealRate.rows_per_second} rows/s`);
    console.log(`audit:verify: ${audit.verify.rows} rows in ${audit.verify.seconds} s (${audit.verify.rows_per_second}/s), peak RSS ${audit.verify.peak_rss_mb} MB, intact: ${audit.verify.intact}`);
    console.log(`export (${audit.export.format}, q=${audit.export.q}): ${audit.export.rows} rows, ${audit.export.megabytes} MB in ${audit.export.seconds} s (${audit.export.rows_per_second}/s), peak RSS ${audit.export.peak_rss_mb} MB`);
    for (const [name, stats] of Object.entries(pages)) console.log(`HTTP ${name}: ${stats.p50_ms} ms p50 / ${stats.p95_ms} ms p95`);
    for (const [name, stats] of Object.entries(api)) console.log(`API ${name}: ${stats.p50_ms} ms p50 / ${stats.p95_ms} ms p95`);
    console.log(`stream drain: a backlog of ${streams.rows} rows to a local webhook at ${streams.webhook_rows_per_second} rows/s (${streams.batches} signed batches)`);
    if (flood) {
      console.log(`sign-in under a flood (2 processes, ${flood.flood_requests_per_second} refused requests/s from ${flood.flood_addresses} addresses): ${flood.flood.p50_ms} ms p50 / ${flood.flood.p95_ms} ms p95, quiet ${flood.quiet.p50_ms} / ${flood.quiet.p95_ms} ms: ×${flood.ratio_p50} p50, ×${flood.ratio_p95} p95`);
    }
    if (peakRssMb) console.log(`server peak RSS during HTTP runs: ${peakRssMb} MB`);
    if (retention) {
      console.log(`retention: ${retention.months.join(", ")} (${retention.rows} rows) removed in ${retention.seconds} s after ${retention.archive_seconds} s of archiving; sign-in p95 during ×${retention.sign_in_p95_ratio} (${retention.sign_ins_during} sign-ins)`);
    }
    console.log(JSON.stringify({
      rows,
      shapes: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, {
        p50_ms: r.p50_ms, p95_ms: r.p95_ms, naive_p95_ms: r.naive_p95_ms, ratio: r.ratio, count: r.count,
        http_p50_ms: r.http?.p50_ms, http_p95_ms: r.http?.p95_ms,
      }])),
      sign_in: { p50_ms: signIn.p50_ms, p95_ms: signIn.p95_ms, hash_p50_ms: hash.p50_ms, hash_p95_ms: hash.p95_ms, overhead_p50_ms: overhead.p50_ms, overhead_p95_ms: overhead.p95_ms, overhead_pct: Math.round((overhead.p50_ms / hash.p50_ms) * 1000) / 10 },
      log_writes: {
        per_second: sealed.perSecond,
        unsealed_per_second: unsealed.perSecond,
        sealed_to_unsealed_ratio: Math.round((sealed.perSecond / unsealed.perSecond) * 100) / 100,
        writers: 8,
        attempts: sealed.attempts,
        rows_written: sealed.written,
        lost: sealed.attempts - sealed.written,
      },
      ledger: { seal_lag_p50_ms: sealed.sealLag.p50_ms, seal_lag_p99_ms: sealed.sealLag.p99_ms, seal_lag_max_ms: sealed.sealLag.max_ms, seal_rows_per_second: sealRate.rows_per_second },
      audit,
      streams,
      pages: Object.fromEntries(Object.entries(pages).map(([name, stats]) => [name, { http_p50_ms: stats.p50_ms, http_p95_ms: stats.p95_ms }])),
      ...(api.page && {
        api: {
          page_p50_ms: api.page.p50_ms,
          page_p95_ms: api.page.p95_ms,
          filtered_page_p50_ms: api.filtered?.p50_ms,
          filtered_page_p95_ms: api.filtered?.p95_ms,
        },
      }),
      peak_rss_mb: peakRssMb,
      flood,
      retention,
    }));
  } finally {
    await closeDb();
    target.stop();
  }
}

/**
 * 8 writers appending one row per transaction for 5 s, as concurrent sign-ins do, with this
 * process's sealer running or not. Every attempt must end up a sealed row; with sealing, the lag
 * is each row's seal time less its write time, for the rows of this run.
 */
async function measureWrites(db: import("@/db").Database, { sealing }: { sealing: boolean }) {
  const { rowsOf } = await import("@/db");
  const { appendAccountLog } = await import("@/lib/account-log/record");
  const { sealPending, startSealer } = await import("@/lib/audit/sealer");
  await sealPending(db);
  const [before] = rowsOf<{ seq: number | string; last_id: number | string }>(
    await db.execute(sql`select seq, (select last_value from account_log_inbox_id_seq) as last_id from account_log_seal_state`),
  );
  const sealer = sealing ? startSealer() : undefined;
  let attempts = 0;
  const deadline = performance.now() + 5000;
  const writeStart = performance.now();
  try {
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (performance.now() < deadline) {
          await appendAccountLog(db, [{ username: `writer-${w}`, result: "login_failed_unknown_user", ip: "198.51.100.2", metadata: { summary: "bench" } }]);
          attempts++;
        }
      }),
    );
  } finally {
    await sealer?.stop();
  }
  const writeSeconds = (performance.now() - writeStart) / 1000;
  await sealPending(db, { timeoutMs: 60_000 });
  const [after] = rowsOf<{ seq: number | string }>(await db.execute(sql`select seq from account_log_seal_state`));
  const [lag] = rowsOf<{ p50: number; p99: number; max: number }>(
    await db.execute(sql`
      select percentile_cont(0.5) within group (order by lag) as p50, percentile_cont(0.99) within group (order by lag) as p99, max(lag) as max
      from (select extract(epoch from sealed_at - occurred_at) * 1000 as lag from account_logs
            where seq > ${Number(before!.seq)} and id > ${Number(before!.last_id)}) l`),
  );
  const round = (value: number | string | null | undefined) => Math.round(Number(value ?? 0) * 10) / 10;
  return {
    perSecond: Math.round(attempts / writeSeconds),
    attempts,
    written: Number(after!.seq) - Number(before!.seq),
    sealLag: { p50_ms: round(lag?.p50), p99_ms: round(lag?.p99), max_ms: round(lag?.max) },
  };
}

/**
 * A webhook stream draining a backlog: up to 1,000,000 sealed rows, sent by this process's sender
 * to a receiver on loopback that reads each batch, as a local shipper would, and answers 204.
 */
async function measureStreamDrain(db: import("@/db").Database) {
  const http = await import("node:http");
  const { addWebhookStream } = await import("@/lib/streams/store");
  const { sendStream } = await import("@/lib/streams/sender");
  const { rowsOf } = await import("@/db");
  let received = 0;
  let batches = 0;
  const receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received += (JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown[]).length;
      batches += 1;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    process.env.STREAM_SECRET_KEY ??= (await import("node:crypto")).randomBytes(32).toString("base64");
    resetEnv();
    const { id } = await addWebhookStream({
      actor: { userId: null, username: "bench", via: "command line" },
      context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined },
      input: { name: `bench drain ${Date.now()}`, url: `http://127.0.0.1:${(receiver.address() as import("node:net").AddressInfo).port}/in`, format: "json" },
    });
    const [head] = rowsOf<{ seq: number }>(await db.execute(sql`select seq::float8 as seq from account_log_seal_state`));
    const backlog = Math.min(1_000_000, Number(head!.seq));
    await db.execute(sql`update log_streams set cursor_seq = ${Number(head!.seq) - backlog} where id = ${id}`);
    const started = performance.now();
    const outcome = await sendStream(db, id);
    const seconds = (performance.now() - started) / 1000;
    await db.execute(sql`delete from log_streams where id = ${id}`);
    if (outcome.failed || received < backlog) throw new Error(`the stream drained ${received} of ${backlog} rows: ${outcome.failed ?? "stopped"}`);
    return { rows: received, batches, seconds: Math.round(seconds * 10) / 10, webhook_rows_per_second: Math.round(received / seconds) };
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

/** The sealer on its own: 20,000 waiting rows sealed in batches, as after a backlog. */
async function measureSealRate(db: import("@/db").Database) {
  const { sealPending } = await import("@/lib/audit/sealer");
  await db.execute(sql`insert into account_log_inbox (username, username_normalized, result, ip, metadata)
    select 'seal-bench-' || (g % 500), 'seal-bench-' || (g % 500), 'login_failed_unknown_user', '198.51.100.4', '{"summary": "bench"}'
    from generate_series(1, 20000) g`);
  const started = performance.now();
  const rows = await sealPending(db, { timeoutMs: 120_000 });
  return { rows, rows_per_second: Math.round(rows / ((performance.now() - started) / 1000)) };
}

/** Peak resident memory of this process while `task` runs, sampled every 50 ms. */
async function withPeakRss<T>(task: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const result = await task();
    return { result, peakRssMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576) };
  } finally {
    clearInterval(timer);
  }
}

/** The whole chain walked by audit:verify's code, and a streamed export of the busiest user. */
async function measureAudit(db: import("@/db").Database, busyUsername: string) {
  const { verifyChain } = await import("@/lib/audit/verify");
  const { exportChunks, recordExport } = await import("@/lib/audit/export");
  let started = performance.now();
  const { copyOutOf, configuredTarget } = await import("@/db");
  const { parallelScanner } = await import("@/lib/audit/parallel-verify");
  const target = configuredTarget();
  const scanner = target.kind === "postgres" ? parallelScanner(target.url, db) : undefined;
  const verified = await withPeakRss(() => verifyChain(db, () => {}, { copy: copyOutOf(), scanner }));
  const verifySeconds = (performance.now() - started) / 1000;

  const filter = { q: busyUsername };
  const context = { ip: "198.51.100.3", userAgent: "bench", hints: {}, forwardedHeaders: undefined };
  const start = await recordExport(db, { admin: { id: 1, username: BENCH_ADMIN.username }, context, filter, format: "csv" });
  started = performance.now();
  const exported = await withPeakRss(async () => {
    let bytes = 0;
    let lines = 0;
    for await (const chunk of exportChunks(db, { filter, format: "csv", ...start })) {
      bytes += Buffer.byteLength(chunk);
      lines += chunk.split("\r\n").length - 1;
    }
    return { bytes, rows: lines - 2 };
  });
  const exportSeconds = (performance.now() - started) / 1000;
  return {
    verify: {
      rows: verified.result.rowsVerified,
      intact: verified.result.intact,
      seconds: Math.round(verifySeconds * 10) / 10,
      rows_per_second: Math.round(verified.result.rowsVerified / verifySeconds),
      peak_rss_mb: verified.peakRssMb,
    },
    export: {
      format: "csv",
      q: busyUsername,
      rows: exported.result.rows,
      megabytes: Math.round(exported.result.bytes / 104857.6) / 10,
      seconds: Math.round(exportSeconds * 10) / 10,
      rows_per_second: Math.round(exported.result.rows / exportSeconds),
      peak_rss_mb: exported.peakRssMb,
    },
  };
}

async function measureHttp(
  url: string,
  shapes: Shape[],
  results: Record<string, { http?: Stats }>,
  otherPages: Record<string, string>,
  pages: Record<string, Stats>,
  api: Record<string, Stats>,
): Promise<number> {
  const { buildIfNeeded } = await import("../build-if-needed");
  buildIfNeeded();
  const port = await freePort();
  const admin = BENCH_ADMIN;
  // The server makes its first admin only on an empty users table: a data set first used by
  // `--flood-only` has another one.
  const { createUser, findUserByUsername } = await import("@/lib/users/queries");
  if (!(await findUserByUsername(admin.username))) await createUser({ ...admin, role: "admin" });
  const server = await startServer({
    name: "bench",
    port,
    logFile: path.join(os.tmpdir(), `account-logs-bench-server-${port}.log`),
    // The production cost: the pages measured do not hash, and the sign-in below is one.
    env: { DATABASE_URL: url, ADMIN_USERNAME: admin.username, ADMIN_PASSWORD: admin.password, SCRYPT_LOG2_N: "17" },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const cookie = await sessionFor(base, admin.username, admin.password);
    for (const shape of shapes) {
      const pageUrl = `${base}/admin/account-logs?${searchParamsOf(shape.params)}`;
      const check = await fetch(pageUrl, { headers: { cookie }, redirect: "manual" });
      if (check.status !== 200 || !(await check.text()).includes("Number of Logs")) throw new Error(`page ${pageUrl} answered ${check.status}`);
      results[shape.name]!.http = await measure(async () => {
        const response = await fetch(pageUrl, { headers: { cookie } });
        await response.arrayBuffer();
      }, { samples });
      log(`HTTP ${shape.name}: p95 ${results[shape.name]!.http!.p95_ms} ms`);
    }
    for (const [name, pagePath] of Object.entries(otherPages)) {
      // The sign-in page is for visitors without a session (a signed-in admin is sent on).
      const headers: Record<string, string> = pagePath === "/login" ? {} : { cookie };
      const check = await fetch(`${base}${pagePath}`, { headers, redirect: "manual" });
      if (check.status !== 200) throw new Error(`page ${pagePath} answered ${check.status}`);
      await check.arrayBuffer();
      pages[name] = await measure(async () => {
        const response = await fetch(`${base}${pagePath}`, { headers });
        await response.arrayBuffer();
      }, { samples });
      log(`HTTP ${name}: p95 ${pages[name]!.p95_ms} ms`);
    }
    // The log API: 1,000-row pages from cursors spread over the whole log, as a collector catching
    // up reads them; and the same with a filter, where each page reads up to 10,000 rows.
    const { createApiToken } = await import("@/lib/api/tokens");
    const { getDb, rowsOf } = await import("@/db");
    const { token } = await createApiToken({
      actor: { userId: null, username: "bench", via: "command line" },
      context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined },
      name: `bench ${new Date().toISOString()}`,
      scopes: ["logs:read"],
    });
    const [head] = rowsOf<{ seq: number }>(await (await getDb()).execute(sql`select seq::float8 as seq from account_log_seal_state`));
    const headSeq = Number(head?.seq ?? 0);
    for (const [name, filter] of [["page", ""], ["filtered", "&result=login_failed_wrong_password"]] as const) {
      const times: number[] = [];
      for (let i = 0; i < Math.min(samples, 30) + 3; i++) {
        const after = Math.floor(Math.random() * Math.max(1, headSeq - 1_000));
        const started = performance.now();
        const response = await fetch(`${base}/api/v1/account-logs?limit=1000&after=${after}${filter}`, { headers: { authorization: `Bearer ${token}` } });
        if (response.status !== 200) throw new Error(`the log API answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
        if (i >= 3) times.push(performance.now() - started);
        // One collector paging at its own pace, within the token's 10 requests a second.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      api[name] = summarize(times);
      log(`API ${name}: p95 ${api[name]!.p95_ms} ms`);
    }
    const status = fs.readFileSync(`/proc/${server.pid}/status`, "utf8");
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024);
  } finally {
    await stopServer(server);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
