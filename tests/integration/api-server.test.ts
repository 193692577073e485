import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildIfNeeded } from "../../scripts/build-if-needed";
import { newSignInClient, signIn } from "../support/http";
import { startServer, stopServer, SERVER_DEFAULTS } from "../support/servers";
import { DATABASE_KINDS } from "../support/databases";
import { createDatabase, freePort } from "../support/postgres-cluster";

/** The log API and token-scraped metrics through the real server, with tokens made by `npm run token:create`. */

beforeAll(() => buildIfNeeded(), 300_000);

function createToken(database: Record<string, string>, ...args: string[]): string {
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/token-create.ts", ...args], {
    env: { ...process.env, ...SERVER_DEFAULTS, ...database },
    encoding: "utf8",
  });
  expect(result.status, result.stderr).toBe(0);
  const lines = result.stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^Created API token "/);
  // The last line is the token alone, for `| tail -1`.
  return lines.at(-1)!;
}

describe.each(DATABASE_KINDS)("the log API over HTTP on %s", (kind) => {
  let child: ChildProcess;
  let url: string;
  let logsToken: string;
  let metricsToken: string;

  beforeAll(async () => {
    const database: Record<string, string> =
      kind === "postgres"
        ? { DATABASE_URL: await createDatabase(inject("postgresUrl")!, `api_${randomBytes(5).toString("hex")}`) }
        : { DATABASE_URL: "", PGLITE_DIR: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-api-")), "db") };
    logsToken = createToken(database, "--name", "SIEM poller", "--expires-days", "30");
    metricsToken = createToken(database, "--name", "Prometheus", "--scope", "metrics:read");
    const port = await freePort();
    child = await startServer({ name: `api-${port}`, port, logFile: path.join(os.tmpdir(), `account-logs-api-${port}.log`), env: { ...database, METRICS_TOKEN: "" } });
    url = `http://127.0.0.1:${port}`;
  }, 300_000);
  afterAll(async () => {
    if (child?.exitCode === null) await stopServer(child, "SIGKILL");
  });

  it("refuses a command-line typo: a bad expiry makes no token", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/token-create.ts", "--name", "x", "--expires-days", "0"], {
      env: { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Expiry is at least 1 day.");
  });

  it("answers 401 JSON to a request without a token (no sign-in redirect), and the sealed rows to a token", async () => {
    const anonymous = await fetch(`${url}/api/v1/account-logs`, { redirect: "manual" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="account-logs"');
    expect(await anonymous.json()).toMatchObject({ error: "unauthorized" });

    const client = await newSignInClient(url);
    expect((await signIn(client, SERVER_DEFAULTS.ADMIN_USERNAME, "not-the-password")).session).toBeUndefined();
    // The row is sealed within moments: poll as a consumer would, from the start.
    let rows: { seq: number; result: string; username: string }[] = [];
    for (let tries = 0; tries < 50; tries++) {
      const response = await fetch(`${url}/api/v1/account-logs?limit=1000`, { headers: { authorization: `Bearer ${logsToken}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("link")).toMatch(/^<\/api\/v1\/account-logs\?after=\d+&limit=1000>; rel="next"$/);
      rows = (await response.json()).data;
      if (rows.some((row) => row.result === "login_failed_wrong_password")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rows.map((row) => row.result)).toEqual(expect.arrayContaining(["api_token_created", "login_failed_wrong_password"]));
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(rows.find((row) => row.result === "api_token_created")!.username).toBe("api-token:SIEM poller");
  });

  it("serves /metrics to a metrics:read token without METRICS_TOKEN, 403 to a logs token, 404 to anyone else", async () => {
    const scrape = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^account_logs_sealed_seq \d+$/m);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${logsToken}` } })).status).toBe(403);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer alog_${"z".repeat(43)}` } })).status).toBe(401);
    // The log API refuses the metrics token.
    expect((await fetch(`${url}/api/v1/account-logs`, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(403);
  });
});
