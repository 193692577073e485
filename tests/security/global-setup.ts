import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { buildIfNeeded } from "../../scripts/build-if-needed";
import { createDatabase, freePort, startPostgresCluster, type PostgresCluster } from "../support/postgres-cluster";
import { CLIENT_IP_COUNTER_ENV } from "../support/http";
import { migrate, startServer, stopServer, type ServerSpec } from "../support/servers";
import { STATE_ENV, writeSuiteState, type ServerInfo, type SuiteState } from "./support/state";

/**
 * The attack suite's world: a production build served by the app's own server, four times, on
 * two throwaway PostgreSQL servers (one of which the fault spec stops and starts), on free ports
 * of 127.0.0.1.
 */
export default async function globalSetup() {
  buildIfNeeded();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-security-"));
  const servers: ChildProcess[] = [];
  const clusters: PostgresCluster[] = [];
  const teardown = async () => {
    await Promise.all(servers.map((server) => stopServer(server)));
    for (const cluster of clusters) cluster.stop();
    printFindings(path.join(workDir, "findings.jsonl"));
    if (!process.env.SECURITY_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
  };

  try {
    const mainCluster = await startPostgresCluster();
    clusters.push(mainCluster);
    // The fault cluster's data folder is ours, so it survives the stops the fault spec makes.
    const faultRoot = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-security-pg-"));
    const faultCluster = await startPostgresCluster({ dataDir: path.join(faultRoot, "data") });
    clusters.push({ ...faultCluster, stop: () => stopKeptCluster(faultCluster, faultRoot) });

    const [mainDb, directDb, faultDb] = await Promise.all([
      createDatabase(mainCluster.url, "security_main"),
      createDatabase(mainCluster.url, "security_direct"),
      createDatabase(faultCluster.url, "security_fault"),
    ]);
    // Migrated before any server starts: the two processes on one database start together.
    for (const url of [mainDb, directDb, faultDb]) migrate(url);

    const [mainPort, secondPort, directPort, faultPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const behindLoopbackProxy = { TRUST_PROXY: "loopback" };
    const specs: (ServerSpec & { publicUrl: string; databaseUrl: string })[] = [
      server("main", mainPort, mainDb, behindLoopbackProxy),
      // A shorter window for held-back access denials, so the flooding attack sees its window close.
      server("second", secondPort, mainDb, { ...behindLoopbackProxy, ACCESS_DENIED_WINDOW_SECONDS: "20" }),
      server("direct", directPort, directDb, {
        TRUST_PROXY: "false",
        SIGN_IN_RATE_LIMIT_FAILURES: "10",
        SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: "8",
        NEXTAUTH_URL: "https://account-logs.test",
      }),
      server("fault", faultPort, faultDb, { ...behindLoopbackProxy, SIGN_IN_RATE_LIMIT_FAILURES: "1000000" }),
    ];
    // The first on the shared database creates its admin; then the others start together.
    // Every server that did start is kept for the teardown, even when another failed.
    const started = [await startServer(specs[0]!)];
    servers.push(started[0]!);
    const rest = await Promise.allSettled(specs.slice(1).map((spec) => startServer(spec)));
    for (const outcome of rest) if (outcome.status === "fulfilled") servers.push(outcome.value);
    const failed = rest.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    started.push(...rest.map((outcome) => (outcome as PromiseFulfilledResult<ChildProcess>).value));

    const info = (index: number): ServerInfo => {
      const spec = specs[index]!;
      return {
        name: spec.name,
        url: `http://127.0.0.1:${spec.port}`,
        port: spec.port,
        publicUrl: spec.publicUrl,
        databaseUrl: spec.databaseUrl,
        logFile: spec.logFile,
        env: spec.env,
        pid: started[index]!.pid!,
      };
    };
    const state: SuiteState = {
      workDir,
      servers: { main: info(0), second: info(1), direct: info(2), fault: info(3) },
      faultCluster: { dataDir: faultCluster.dataDir, port: faultCluster.port },
      findingsFile: path.join(workDir, "findings.jsonl"),
    };
    process.env[STATE_ENV] = writeSuiteState(state);
    process.env[CLIENT_IP_COUNTER_ENV] = path.join(workDir, "next-client-ip");
  } catch (error) {
    await teardown();
    throw error;
  }
  return async () => {
    // The fault spec may have replaced its app process: stop whatever runs under that name now.
    stopReplacedFaultServer();
    await teardown();
  };

  function server(name: string, port: number, databaseUrl: string, env: Record<string, string>) {
    const publicUrl = env.NEXTAUTH_URL ?? `http://127.0.0.1:${port}`;
    return {
      name,
      port,
      publicUrl,
      databaseUrl,
      logFile: path.join(workDir, `${name}-server.log`),
      env: { DATABASE_URL: databaseUrl, NEXTAUTH_URL: publicUrl, ...env },
    };
  }
}

function stopKeptCluster(cluster: PostgresCluster, root: string) {
  try {
    cluster.stop();
  } catch {
    // Already stopped by the fault spec.
  }
  fs.rmSync(root, { recursive: true, force: true });
}

function stopReplacedFaultServer() {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) return;
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as SuiteState;
  try {
    process.kill(state.servers.fault.pid, "SIGTERM");
  } catch {
    // Not running.
  }
}

function printFindings(file: string) {
  if (!fs.existsSync(file)) return;
  const rows = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { attack: string; tries: string; outcome: string });
  const table = [
    "| attack | tries | outcome |",
    "| --- | --- | --- |",
    ...rows.map((row) => `| ${row.attack} | ${row.tries} | ${row.outcome} |`),
  ].join("\n");
  fs.mkdirSync("test-results", { recursive: true });
  fs.writeFileSync(path.join("test-results", "security-findings.md"), `${table}\n`);
  console.log(`\nAttack suite findings (also in test-results/security-findings.md):\n${table}\n`);
}
