import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../tests/support/postgres-cluster";
import { newSignInClient, signIn } from "../../tests/support/http";
import { startServer, stopServer } from "../../tests/support/servers";
import { copyDatabase } from "./copy-database";
import { BENCH_ADMIN } from "./fill";
import { summarize, type Stats } from "./stats";

export type RetentionResult = {
  /** The removal itself: the one transaction that adjusts the counters and drops the partitions. */
  seconds: number;
  archive_seconds: number;
  months: string[];
  rows: number;
  quiet: Stats;
  during: Stats;
  sign_ins_during: number;
  sign_in_p95_ratio: number;
};

const QUIET_SIGN_INS = 15;
/** The months before this leave: the data set's first, partial month and its first full one. */
const CUT = "2026-01";

/**
 * Retention at the data set's size, on a copy of the bench database (the copy is dropped after,
 * so the data set stays as it is): real sign-ins against an app process, one after another, quiet,
 * then while the oldest months are archived and removed. `seconds` is the removal; the ratio
 * compares the sign-ins that ran during it with the quiet ones.
 */
export async function measureRetention(benchUrl: string, user: { username: string; password: string }, log: (message: string) => void): Promise<RetentionResult> {
  const { default: postgres } = await import("postgres");
  const adminUrl = new URL(benchUrl);
  const source = adminUrl.pathname.slice(1);
  adminUrl.pathname = "/postgres";
  const copyName = `${source}_retention`;
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  const copyUrl = new URL(benchUrl);
  copyUrl.pathname = `/${copyName}`;
  const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-bench-archive-"));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const copyStarted = Date.now();
    await copyDatabase(admin, source, copyName);
    log(`retention: copied the data set in ${Math.round((Date.now() - copyStarted) / 1000)} s`);
    const port = await freePort();
    server = await startServer({
      name: `retention-${port}`,
      port,
      logFile: path.join(os.tmpdir(), `account-logs-bench-retention-${port}.log`),
      env: { DATABASE_URL: copyUrl.toString(), SCRYPT_LOG2_N: "17", TRUST_PROXY: "loopback", ADMIN_USERNAME: BENCH_ADMIN.username, ADMIN_PASSWORD: BENCH_ADMIN.password },
    });
    const base = `http://127.0.0.1:${port}`;
    const signInOnce = async () => {
      const client = await newSignInClient(base, { ip: "198.51.100.201", userAgent: "bench real user" });
      const started = performance.now();
      const result = await signIn(client, user.username, user.password);
      const ms = performance.now() - started;
      if (!result.session) throw new Error(`the real sign-in failed: ${result.status} ${result.error}`);
      return { started, ms };
    };
    await signInOnce();
    const quietTimes: number[] = [];
    for (let i = 0; i < QUIET_SIGN_INS; i++) quietTimes.push((await signInOnce()).ms);

    // The retention runs in this process against the copy, as `npm run audit:retain` would.
    process.env.DATABASE_URL = copyUrl.toString();
    process.env.AUDIT_SIGNING_KEY ??= (await import("@/lib/audit/checkpoints")).newSigningKeyPem();
    const { resetEnv } = await import("@/lib/env");
    resetEnv();
    const { closeDb, openAppDatabase } = await import("@/db");
    await closeDb();
    const db = await openAppDatabase();
    const { retainMonths, parseMonth } = await import("@/lib/audit/retention");
    let running = true;
    const timings: { started: number; ms: number }[] = [];
    // One user signing in after another, as in the quiet run: the same load, so the ratio is the removal's alone.
    const loops = [0].map(async () => {
      while (running) timings.push(await signInOnce());
    });
    const outcome = await retainMonths(
      { before: parseMonth(CUT)!, archiveDir, actor: { userId: null, username: "bench", via: "command line" }, context: { ip: undefined, userAgent: undefined, hints: {}, forwardedHeaders: undefined } },
      db,
    );
    const dropEnded = performance.now();
    running = false;
    await Promise.all(loops);
    await closeDb();
    if (outcome.status !== "retained") throw new Error(`retention removed nothing: ${outcome.reason}`);
    const dropStarted = dropEnded - outcome.dropSeconds * 1000;
    // A sign-in ran during the removal when it overlapped it at all.
    const during = timings.filter((timing) => timing.started < dropEnded && timing.started + timing.ms > dropStarted).map((timing) => timing.ms);
    const quiet = summarize(quietTimes);
    const duringStats = summarize(during.length ? during : [Number.NaN]);
    const result: RetentionResult = {
      seconds: Math.round(outcome.dropSeconds * 100) / 100,
      archive_seconds: Math.round(outcome.archiveSeconds * 100) / 100,
      months: outcome.months,
      rows: outcome.rows,
      quiet,
      during: duringStats,
      sign_ins_during: during.length,
      sign_in_p95_ratio: Math.round((duringStats.p95_ms / quiet.p95_ms) * 100) / 100,
    };
    log(
      `retention: ${outcome.months.join(", ")} (${outcome.rows} rows) archived in ${result.archive_seconds} s, removed in ${result.seconds} s; ` +
        `sign-in p95 ${duringStats.p95_ms} ms during (${during.length} sign-ins) against ${quiet.p95_ms} ms quiet: ×${result.sign_in_p95_ratio}`,
    );
    return result;
  } finally {
    if (server) await stopServer(server);
    process.env.DATABASE_URL = benchUrl;
    await admin.unsafe(`drop database if exists "${copyName}" with (force)`).catch(() => {});
    await admin.end();
    fs.rmSync(archiveDir, { recursive: true, force: true });
  }
}
