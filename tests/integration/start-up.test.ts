import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pgliteSiblingPath } from "@/db";

/** Starts the real server with an environment and returns its exit code and output. */
function startServer(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
      env: { ...process.env, NODE_ENV: "production", DATABASE_URL: "", PORT: "39999", ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("start-up with a bad environment stops with one clear message", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "account-logs-start-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("names an invalid variable", async () => {
    const { code, output } = await startServer({ PORT: "eighty", PGLITE_DIR: path.join(root, "a") });
    expect(code).toBe(1);
    expect(output).toContain("PORT: expected a whole number from 1 to 65535");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("requires NEXTAUTH_SECRET in production with DATABASE_URL", async () => {
    const { code, output } = await startServer({ DATABASE_URL: "postgres://u:p@127.0.0.1:1/db", NEXTAUTH_SECRET: "" });
    expect(code).toBe(1);
    expect(output).toContain("NEXTAUTH_SECRET is required in production");
  });

  it("says which server it cannot reach, without the password", async () => {
    const { code, output } = await startServer({
      DATABASE_URL: "postgres://app:hunter2@127.0.0.1:1/accounts",
      NEXTAUTH_SECRET: "x".repeat(40),
    });
    expect(code).toBe(1);
    expect(output).toContain("Cannot reach PostgreSQL at 127.0.0.1:1/accounts");
    expect(output).not.toContain("hunter2");
  });

  it("refuses an embedded database held by another process and leaves it intact", async () => {
    const dir = path.join(root, "held");
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(
      pgliteSiblingPath(dir, "lock"),
      JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: "now", command: "npm start" }),
    );
    const { code, output } = await startServer({ PGLITE_DIR: dir });
    expect(code).toBe(1);
    expect(output).toContain(`in use by process ${process.pid} (npm start`);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("rejects a proxy policy that would trust every client", async () => {
    const { code, output } = await startServer({ TRUST_PROXY: "true", PGLITE_DIR: path.join(root, "b") });
    expect(code).toBe(1);
    expect(output).toContain("TRUST_PROXY=true would believe any client's X-Forwarded-For");
  });
});
