import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../tests/support/postgres-cluster";
import { newSignInClient, sessionFor, signIn } from "../../tests/support/http";
import { startServer, stopServer } from "../../tests/support/servers";
import { buildIfNeeded } from "../build-if-needed";
import { copyDatabase } from "./copy-database";
import { summarize, type Stats } from "./stats";

export type UpgradeResult = {
  rows: number;
  /** `npm run db:migrate -- --prepare`, while the earlier release serves: the copy, then the indexes. */
  prepare_seconds: number;
  copy_seconds: number;
  index_seconds: number;
  /** Migration 0014 on the prepared copy: the one transaction that holds the log. */
  switch_seconds: number;
  /** The migrations after 0014. */
  later_migrations_seconds: number;
  /** From the earlier release's last answer to the new release's first sign-in: stop, switch, start. */
  unavailable_seconds: number;
  quiet: { sign_in: Stats & { slowest_ms: number }; page: Stats & { slowest_ms: number } };
  during: { sign_in: Stats & { slowest_ms: number }; page: Stats & { slowest_ms: number } };
  sign_in_p95_ratio: number;
  page_p95_ratio: number;
  /** Sign-ins and page loads that failed at any time before the earlier release stopped. */
  failed_requests: number;
  after: { sign_in: Stats };
};

const QUIET_SECONDS = 30;
/** How long the preparation follows new rows before the deploy. */
const FOLLOW_SECONDS = 10;
const RELEASE_ADMIN = { username: "release-admin", password: "release-admin-password" } as const;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status})`);
  return result.stdout.trim();
}

/**
 * The release before the ledger (the parent of the commit that added migration 0014), checked
 * out and built once: the app the upgrade starts from.
 */
function earlierRelease(log: (message: string) => void): string {
  const added = run("git", ["log", "--diff-filter=A", "--format=%H", "--", "db/migrations/0014_sealed_ledger.sql"], process.cwd());
  const commit = run("git", ["rev-parse", `${added.split("\n").at(-1)}^`], process.cwd());
  // Outside this checkout: Next.js would take this one's lockfile for the release's workspace.
  const dir = path.join(os.tmpdir(), `account-logs-release-${commit.slice(0, 8)}`);
  if (!fs.existsSync(dir)) {
    log(`upgrade: checking out the release before the ledger (${commit.slice(0, 8)})…`);
    run("git", ["worktree", "add", "--detach", dir, commit], process.cwd());
    // Hard links: the same packages, without a download.
    run("cp", ["-al", path.join(process.cwd(), "node_modules"), path.join(dir, "node_modules")], process.cwd());
  }
  buildIfNeeded(dir);
  return dir;
}

/**
 * The data set as the release before the ledger stores it (one unpartitioned table, chained by
 * its triggers), filled by that release's own bench: made once per size, beside the bench database.
 */
async function legacyDataSet(admin: import("postgres").Sql, clusterUrl: URL, name: string, release: string, rows: number, log: (message: string) => void) {
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  const { default: postgres } = await import("postgres");
  const [exists] = await admin<{ found: boolean }[]>`select exists (select from pg_database where datname = ${name}) as found`;
  if (exists!.found) {
    const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const [meta] = await client<{ rows: string }[]>`select rows::text from bench_meta`.catch(() => []);
    await client.end();
    if (Number(meta?.rows) === rows) return url.toString();
    await admin.unsafe(`drop database "${name}" with (force)`);
  }
  await admin.unsafe(`create database "${name}"`);
  log(`upgrade: filling ${rows.toLocaleString("en-US")} rows with the earlier release's bench (minutes at 10 M rows)…`);
  const fill = path.join(release, "bench-fill.ts");
  fs.writeFileSync(
    fill,
    `import { openAppDatabase, closeDb } from "@/db";
import { fillLog } from "./scripts/bench/fill";
async function main() {
  const db = await openAppDatabase();
  await fillLog(db, ${rows}, (message) => console.error(message));
  await closeDb();
}
main().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
`,
  );
  run(process.execPath, ["--import", "tsx", fill], release, { ...process.env, DATABASE_URL: url.toString() });
  return url.toString();
}

type Timing = { started: number; ms: number; ok: boolean };

/** One user signing in after another, and one admin loading the page after another, until stopped. */
function load(base: string, user: { username: string; password: string }, cookie: string) {
  const signIns: Timing[] = [];
  const pages: Timing[] = [];
  let running = true;
  const timed = async (into: Timing[], work: () => Promise<boolean>) => {
    const started = performance.now();
    let ok = false;
    try {
      ok = await work();
    } catch {
      ok = false;
    }
    into.push({ started, ms: performance.now() - started, ok });
    if (!ok) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  const loops = [
    (async () => {
      while (running) {
        await timed(signIns, async () => {
          const client = await newSignInClient(base, { ip: "198.51.100.202", userAgent: "bench real user" });
          return (await signIn(client, user.username, user.password)).session !== undefined;
        });
      }
    })(),
    (async () => {
      while (running) {
        await timed(pages, async () => {
          const response = await fetch(`${base}/admin/account-logs?q=user04`, { headers: { cookie } });
          return response.status === 200 && (await response.text()).includes("Number of Logs");
        });
      }
    })(),
  ];
  return {
    signIns,
    pages,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Requests that ran at all between `from` and `to`. */
const within = (timings: Timing[], from: number, to: number) => timings.filter((t) => t.started < to && t.started + t.ms > from);
/** Requests that ran wholly between `from` and `to`. */
const inside = (timings: Timing[], from: number, to: number) => timings.filter((t) => t.started >= from && t.started + t.ms <= to);
const okTimes = (timings: Timing[]): Stats & { slowest_ms: number } => {
  const times = timings.filter((t) => t.ok).map((t) => t.ms);
  return { ...summarize(times), slowest_ms: Math.round(Math.max(...times)) };
};

/**
 * Partitioning a log of the data set's size while the app serves (docs/operations.md, "Upgrading
 * a large log to partitions"), on a copy of the earlier release's data set: that release serves
 * real sign-ins and page loads, quiet, then while `--prepare --follow` copies and indexes the log
 * and follows it; then it stops, the migration switches to the copy, and this release starts.
 */
export async function measureUpgrade(benchUrl: string, user: { username: string; password: string }, rows: number, log: (message: string) => void): Promise<UpgradeResult> {
  const { default: postgres } = await import("postgres");
  const clusterUrl = new URL(benchUrl);
  const source = clusterUrl.pathname.slice(1);
  clusterUrl.pathname = "/postgres";
  const admin = postgres(clusterUrl.toString(), { max: 1, onnotice: () => {} });
  const legacyName = `${source}_before_ledger`;
  const copyName = `${legacyName}_upgrade`;
  const copyUrl = new URL(clusterUrl);
  copyUrl.pathname = `/${copyName}`;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let db: import("postgres").Sql | undefined;
  const follower = new AbortController();
  try {
    // This release is built before the clock starts: its start is part of the time unavailable.
    buildIfNeeded();
    const release = earlierRelease(log);
    await legacyDataSet(admin, clusterUrl, legacyName, release, rows, log);
    await copyDatabase(admin, legacyName, copyName);
    db = postgres(copyUrl.toString(), { max: 2, onnotice: () => {}, connection: { statement_timeout: 0, TimeZone: "UTC" } });
    const { hashPassword } = await import("@/lib/auth/password");
    await db`insert into users (username, username_normalized, password_hash, role)
      values (${RELEASE_ADMIN.username}, ${RELEASE_ADMIN.username}, ${await hashPassword(RELEASE_ADMIN.password)}, 'admin')`;

    const serverEnv = { DATABASE_URL: copyUrl.toString(), SCRYPT_LOG2_N: "17", TRUST_PROXY: "loopback" };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = await startServer({ name: "earlier release", port, cwd: release, logFile: path.join(os.tmpdir(), `account-logs-bench-release-${port}.log`), env: serverEnv });
    const cookie = await sessionFor(base, RELEASE_ADMIN.username, RELEASE_ADMIN.password);
    const traffic = load(base, user, cookie);
    const quietFrom = performance.now();
    await new Promise((resolve) => setTimeout(resolve, QUIET_SECONDS * 1000));
    const prepareFrom = performance.now();
    const { prepareLogPartitioning, switchToPreparedLog } = await import("@/db/online-partitioning");
    const { MIGRATIONS_FOLDER } = await import("@/db");
    // As docs/operations.md has it: --prepare --follow while the earlier release serves.
    let readyAt = 0;
    const preparing = prepareLogPartitioning(db, {
      migrationsFolder: MIGRATIONS_FOLDER,
      follow: true,
      signal: follower.signal,
      log: (message) => {
        log(`upgrade: ${message}`);
        if (message.startsWith("Ready at seq")) readyAt = performance.now();
      },
    });
    while (!readyAt) {
      const ended = await Promise.race([preparing.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]);
      if (ended && !readyAt) throw new Error("the preparation ended without being ready");
    }
    const prepareTo = readyAt;
    // Followed for a while, then the deploy: the earlier release stops, the migration switches.
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_SECONDS * 1000));
    await traffic.stop();
    const lastAnswer = Math.max(...[...traffic.signIns, ...traffic.pages].map((t) => t.started + t.ms));
    await stopServer(server);
    server = undefined;

    const switchFrom = performance.now();
    if (!(await switchToPreparedLog(db, MIGRATIONS_FOLDER))) throw new Error("the switch found no prepared copy");
    const switchSeconds = (performance.now() - switchFrom) / 1000;
    const preparation = await preparing;
    follower.abort();
    const laterFrom = performance.now();
    const { openDatabase } = await import("@/db");
    await (await openDatabase({ kind: "postgres", url: copyUrl.toString() })).close();
    const laterSeconds = (performance.now() - laterFrom) / 1000;
    const [counts] = await db<{ sealed: string; months: string; total: string }[]>`
      select s.seq::text as sealed, (select sum(row_count)::text from account_log_months) as months,
        (select sum(row_count)::text from account_log_totals) as total
      from account_log_seal_state s`;
    if (counts!.sealed !== counts!.months || counts!.sealed !== counts!.total) throw new Error(`after the upgrade the counts disagree: ${JSON.stringify(counts)}`);

    server = await startServer({ name: "this release", port, logFile: path.join(os.tmpdir(), `account-logs-bench-upgraded-${port}.log`), env: serverEnv });
    const after: number[] = [];
    let unavailableSeconds = 0;
    for (let i = 0; i < 10; i++) {
      const client = await newSignInClient(base, { ip: "198.51.100.202", userAgent: "bench real user" });
      const started = performance.now();
      if (!(await signIn(client, user.username, user.password)).session) throw new Error("the sign-in after the upgrade failed");
      after.push(performance.now() - started);
      if (i === 0) unavailableSeconds = (performance.now() - lastAnswer) / 1000;
    }

    const quiet = { sign_in: okTimes(inside(traffic.signIns, quietFrom, prepareFrom)), page: okTimes(inside(traffic.pages, quietFrom, prepareFrom)) };
    const during = { sign_in: okTimes(within(traffic.signIns, prepareFrom, prepareTo)), page: okTimes(within(traffic.pages, prepareFrom, prepareTo)) };
    const result: UpgradeResult = {
      rows: preparation.rows,
      prepare_seconds: round(preparation.seconds),
      copy_seconds: round(preparation.copySeconds),
      index_seconds: round(preparation.indexSeconds),
      switch_seconds: round(switchSeconds),
      later_migrations_seconds: round(laterSeconds),
      unavailable_seconds: round(unavailableSeconds),
      quiet,
      during,
      sign_in_p95_ratio: round(during.sign_in.p95_ms / quiet.sign_in.p95_ms),
      page_p95_ratio: round(during.page.p95_ms / quiet.page.p95_ms),
      failed_requests: [...traffic.signIns, ...traffic.pages].filter((t) => !t.ok).length,
      after: { sign_in: summarize(after) },
    };
    log(
      `upgrade: ${result.rows.toLocaleString("en-US")} rows prepared in ${result.prepare_seconds} s (copy ${result.copy_seconds} s, indexes ${result.index_seconds} s) ` +
        `while serving ${during.sign_in.samples} sign-ins (p95 ×${result.sign_in_p95_ratio}) and ${during.page.samples} pages (p95 ×${result.page_p95_ratio}), ` +
        `${result.failed_requests} failed; switch ${result.switch_seconds} s, later migrations ${result.later_migrations_seconds} s, unavailable ${result.unavailable_seconds} s`,
    );
    return result;
  } finally {
    follower.abort();
    if (server) await stopServer(server);
    await db?.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists "${copyName}" with (force)`).catch(() => {});
    await admin.end();
  }
}

const round = (value: number) => Math.round(value * 100) / 100;
