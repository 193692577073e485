import { spawnSync } from "node:child_process";
import path from "node:path";
import { findPostgresBin, startPostgresCluster } from "../../support/postgres-cluster";

/** Stops the suite's fault cluster as an operator would (fast: sessions are cut, data kept). */
export function stopPostgres(dataDir: string): void {
  const bin = findPostgresBin();
  if (!bin) throw new Error("pg_ctl not found");
  const pgCtl = path.join(bin, "pg_ctl");
  const args = ["-D", dataDir, "-m", "fast", "-w", "stop"];
  const asRoot = process.getuid?.() === 0;
  const result = asRoot ? spawnSync("runuser", ["-u", "postgres", "--", pgCtl, ...args], { encoding: "utf8" }) : spawnSync(pgCtl, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`pg_ctl stop failed: ${result.stderr || result.stdout}`);
}

/** Starts it again on the same folder and port. */
export async function startPostgres(dataDir: string, port: number): Promise<void> {
  await startPostgresCluster({ dataDir, port });
}
