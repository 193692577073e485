import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type PostgresCluster = { url: string; port: number; dataDir: string; reused: boolean; stop: () => void };

/** initdb and pg_ctl from PG_BIN, Debian's /usr/lib/postgresql/<newest>/bin, or PATH. */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const debian = "/usr/lib/postgresql";
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debian, v, "bin")));
  }
  for (const dir of (process.env.PATH ?? "").split(":")) candidates.push(dir);
  return candidates.find((dir) => fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "pg_ctl")));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root). */
function runAsOwner(bin: string, args: string[]) {
  const [command, finalArgs] = isRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  const result = spawnSync(command, finalArgs, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${path.basename(bin)} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

/**
 * Whether the `postgres` user can enter `dir` (or, with `write`, create files in it): initdb and
 * the server run as that user when we are root, so every folder above the cluster must let it
 * through, and a clone in /root does not.
 */
export function postgresCanUse(dir: string, { write = false } = {}): boolean {
  if (!isRoot) return true;
  return spawnSync("runuser", ["-u", "postgres", "--", "test", write ? "-w" : "-x", dir]).status === 0;
}

/**
 * A PostgreSQL server on a free port bound to 127.0.0.1, with trust authentication for the
 * `postgres` user. By default a throwaway cluster in a temporary folder that `stop()` removes;
 * with `dataDir`, a kept cluster that later runs reuse (the benchmark's data set).
 */
export async function startPostgresCluster({
  durable = false,
  dataDir: keptDataDir,
  port: requestedPort,
}: { durable?: boolean; dataDir?: string; port?: number } = {}): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql, or set PG_BIN.");
  const root = keptDataDir ? path.dirname(keptDataDir) : fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-pg-"));
  fs.mkdirSync(root, { recursive: true });
  if (isRoot) execFileSync("chown", ["postgres:postgres", root]);
  if (!postgresCanUse(root, { write: true })) {
    throw new Error(
      `The postgres user cannot reach ${root}: a folder above it is closed to other users (${ancestorsClosedToOthers(root).join(", ")}). ` +
        `Run from a clone outside such a folder, or open the folders to others for traversal (chmod o+x FOLDER).`,
    );
  }
  const dataDir = keptDataDir ?? path.join(root, "data");
  const reused = fs.existsSync(path.join(dataDir, "PG_VERSION"));
  if (!reused) {
    runAsOwner(path.join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  }
  const port = requestedPort ?? (await freePort());
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${root}`,
    "-c max_connections=300",
    // Throwaway test data: durability buys nothing here and costs time on a small machine.
    ...(durable ? ["-c shared_buffers=1GB", "-c work_mem=32MB", "-c max_wal_size=4GB"] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
  ].join(" ");
  runAsOwner(path.join(bin, "pg_ctl"), ["-D", dataDir, "-o", options, "-l", path.join(root, "server.log"), "-w", "-t", "120", "start"]);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    reused,
    stop: () => {
      if (stopped) return;
      stopped = true;
      try {
        runAsOwner(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", keptDataDir ? "fast" : "immediate", "-w", "stop"]);
      } finally {
        if (!keptDataDir) fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

function ancestorsClosedToOthers(dir: string): string[] {
  const closed: string[] = [];
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    if ((fs.statSync(current).mode & 0o001) === 0) closed.push(current);
    if (current === path.dirname(current)) return closed;
  }
}

/** Creates a fresh database on the cluster and returns its URL. */
export async function createDatabase(clusterUrl: string, name: string): Promise<string> {
  const { default: postgres } = await import("postgres");
  const admin = postgres(clusterUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name.replace(/"/g, "")}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
