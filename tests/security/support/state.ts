import fs from "node:fs";
import path from "node:path";

/** A running app server of the suite, as the specs see it. */
export type ServerInfo = {
  name: string;
  url: string;
  port: number;
  /** The public URL it was given (NEXTAUTH_URL). */
  publicUrl: string;
  databaseUrl: string;
  logFile: string;
  env: Record<string, string>;
  pid: number;
};

/**
 * Written by the global setup, read by every spec:
 * - `main`, `second`: two app processes on one PostgreSQL database, behind a trusted loopback
 *   proxy (X-Forwarded-For from 127.0.0.1 names the client), default throttle;
 * - `direct`: no trusted proxy, an https public URL (Secure cookies), a throttle of 10 failures
 *   in 8 seconds;
 * - `fault`: its own PostgreSQL server, which the fault spec stops, and an app it kills.
 */
export type SuiteState = {
  workDir: string;
  servers: { main: ServerInfo; second: ServerInfo; direct: ServerInfo; fault: ServerInfo };
  faultCluster: { dataDir: string; port: number };
  findingsFile: string;
};

export const STATE_ENV = "ACCOUNT_LOGS_SECURITY_STATE";

export function suiteState(): SuiteState {
  const file = process.env[STATE_ENV];
  if (!file) throw new Error(`${STATE_ENV} is not set: run the suite with npm run test:security.`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as SuiteState;
}

export function writeSuiteState(state: SuiteState): string {
  const file = path.join(state.workDir, "state.json");
  fs.writeFileSync(file, JSON.stringify(state, null, 2));
  return file;
}

/** Updates one server's entry (the fault spec restarts its app under a new pid). */
export function updateServer(name: keyof SuiteState["servers"], info: Partial<ServerInfo>): void {
  const file = process.env[STATE_ENV]!;
  const state = suiteState();
  state.servers[name] = { ...state.servers[name], ...info };
  fs.writeFileSync(file, JSON.stringify(state, null, 2));
}

/** The server's output since `offset` bytes: for checks on what it logged during an attack. */
export function serverOutput(server: ServerInfo, offset = 0): string {
  const text = fs.readFileSync(server.logFile);
  return text.subarray(offset).toString("utf8");
}

export function serverOutputSize(server: ServerInfo): number {
  return fs.statSync(server.logFile).size;
}

/** One line of the closing table: the attack, how often it was tried, what happened. */
export function recordFinding(attack: string, tries: string, outcome: string): void {
  fs.appendFileSync(suiteState().findingsFile, `${JSON.stringify({ attack, tries, outcome })}\n`);
}
