import os from "node:os";
import path from "node:path";
import { freePort } from "../../tests/support/postgres-cluster";
import { newClientIp, newSignInClient, postCredentials, signIn } from "../../tests/support/http";
import { startServer, stopServer } from "../../tests/support/servers";
import { BENCH_ADMIN } from "./fill";
import { summarize, type Stats } from "./stats";

/** Concurrent flooding connections, spread over the two processes. */
const FLOOD_CONNECTIONS = 48;
const SIGN_INS = 15;

export type FloodResult = {
  processes: number;
  quiet: Stats;
  flood: Stats;
  ratio_p50: number;
  ratio_p95: number;
  flood_requests_per_second: number;
  flood_addresses: number;
};

/**
 * A real sign-in (production hash cost) against two app processes on one PostgreSQL, first quiet,
 * then while a flood of cheap refused requests (credentials posts without the CSRF token, each
 * one logged) comes from many addresses at both processes as fast as they answer.
 */
export async function measureFlood(
  databaseUrl: string,
  user: { username: string; password: string },
  log: (message: string) => void,
): Promise<FloodResult> {
  const ports = [await freePort(), await freePort()];
  const servers = [];
  try {
    for (const port of ports) {
      servers.push(
        await startServer({
          name: `flood-${port}`,
          port,
          logFile: path.join(os.tmpdir(), `account-logs-bench-flood-${port}.log`),
          // Clients are told apart by X-Forwarded-For from the loopback "proxy"; the flood's
          // addresses are many, so the per-address throttle does not simply absorb it.
          env: { DATABASE_URL: databaseUrl, SCRYPT_LOG2_N: "17", TRUST_PROXY: "loopback", ADMIN_USERNAME: BENCH_ADMIN.username, ADMIN_PASSWORD: BENCH_ADMIN.password },
        }),
      );
    }
    const bases = ports.map((port) => `http://127.0.0.1:${port}`);
    const signInOnce = async (i: number) => {
      const client = await newSignInClient(bases[i % 2]!, { ip: "198.51.100.200", userAgent: "bench real user" });
      const started = performance.now();
      const result = await signIn(client, user.username, user.password);
      const ms = performance.now() - started;
      if (!result.session) throw new Error(`the real sign-in failed: ${result.status} ${result.error}`);
      return ms;
    };
    await signInOnce(0);
    await signInOnce(1);
    const quietTimes: number[] = [];
    for (let i = 0; i < SIGN_INS; i++) quietTimes.push(await signInOnce(i));
    const quiet = summarize(quietTimes);
    log(`flood: quiet sign-in ${quiet.p50_ms} ms p50 / ${quiet.p95_ms} ms p95`);

    let flooding = true;
    let sent = 0;
    const addresses = new Set<string>();
    const floodClients = await Promise.all(bases.map((base) => newSignInClient(base)));
    const floodStarted = performance.now();
    const flooders = Array.from({ length: FLOOD_CONNECTIONS }, async (_, i) => {
      while (flooding) {
        const ip = newClientIp();
        addresses.add(ip);
        await postCredentials({ ...floodClients[i % 2]!, ip, userAgent: "bench flood" }, { username: `flood-${i}`, password: "x" }, { csrf: false }).catch(() => undefined);
        sent += 1;
      }
    });
    // The flood settles first; the real user then signs in during it.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const floodTimes: number[] = [];
    for (let i = 0; i < SIGN_INS; i++) floodTimes.push(await signInOnce(i));
    flooding = false;
    await Promise.all(flooders);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const flood = summarize(floodTimes);
    const result: FloodResult = {
      processes: 2,
      quiet,
      flood,
      ratio_p50: Math.round((flood.p50_ms / quiet.p50_ms) * 100) / 100,
      ratio_p95: Math.round((flood.p95_ms / quiet.p95_ms) * 100) / 100,
      flood_requests_per_second: Math.round(sent / floodSeconds),
      flood_addresses: addresses.size,
    };
    log(`flood: ${result.flood_requests_per_second} refused requests/s from ${addresses.size} addresses; sign-in ${flood.p50_ms} ms p50 / ${flood.p95_ms} ms p95 (×${result.ratio_p50} p50)`);
    return result;
  } finally {
    await Promise.all(servers.map((server) => stopServer(server)));
  }
}
