import fs from "node:fs";
import http from "node:http";
import { expect, test } from "@playwright/test";
import { USERNAME_NOT_READ } from "@/lib/account-log/sign-in";
import { createAccount, rowsFromIp, sealAll, sqlFor } from "./support/database";
import { newClientIp, newSignInClient, postCredentials, request, sessionFor, signIn } from "../support/http";
import { recordFinding, suiteState } from "./support/state";

/** Request bodies far over every limit, and NextAuth's routes reached behind a path suffix. */
test.describe.configure({ mode: "serial" });

const GIB = 1024 ** 3;

function residentMegabytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

type UploadOutcome = { status: number | undefined; sentBytes: number; ms: number };

/**
 * Streams up to `bytes` of zeros, never holding more than one 64 KB chunk, and stops when the
 * server answers or closes the connection: what a client with a huge file would do.
 */
function uploadHuge(url: string, { bytes, chunked, headers }: { bytes: number; chunked: boolean; headers: Record<string, string> }): Promise<UploadOutcome> {
  const target = new URL(url);
  const chunk = Buffer.alloc(64 * 1024);
  const started = Date.now();
  return new Promise((resolve) => {
    let sentBytes = 0;
    let status: number | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      outgoing.destroy();
      resolve({ status, sentBytes, ms: Date.now() - started });
    };
    const outgoing = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: "POST",
      agent: false,
      headers: { ...headers, ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(bytes) }) },
    });
    outgoing.on("response", (response) => {
      status = response.statusCode;
      response.resume();
      response.on("end", finish);
      response.on("error", finish);
    });
    outgoing.on("error", finish);
    outgoing.on("close", () => setTimeout(finish, 50));
    const pump = () => {
      while (!done && sentBytes < bytes) {
        sentBytes += chunk.length;
        if (!outgoing.write(chunk)) return void outgoing.once("drain", pump);
      }
      if (!done) outgoing.end();
    };
    pump();
  });
}

test("20 parallel 1 GB bodies: 413 at once, memory flat, one bounded row each, and a real sign-in still works", async () => {
  const { main } = suiteState().servers;
  const attackerIp = newClientIp();
  const account = await createAccount(main.databaseUrl, { prefix: "flooded" });
  const before = residentMegabytes(main.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, residentMegabytes(main.pid))), 25);

  const targets = [
    // The sign-in endpoint, with a declared length and streamed, and behind a path suffix.
    ...Array.from({ length: 8 }, (_, i) => ({ path: "/api/auth/callback/credentials", chunked: i % 2 === 1, signIn: true })),
    ...Array.from({ length: 4 }, () => ({ path: "/api/auth/callback/credentials/x", chunked: true, signIn: true })),
    // A server action and a page.
    ...Array.from({ length: 4 }, (_, i) => ({ path: "/admin/account-logs", chunked: i % 2 === 1, action: true })),
    ...Array.from({ length: 4 }, (_, i) => ({ path: "/", chunked: i % 2 === 1 })),
  ];
  const uploads = targets.map((target) =>
    uploadHuge(`${main.url}${target.path}`, {
      bytes: GIB,
      chunked: target.chunked,
      headers: {
        "content-type": "multipart/form-data; boundary=x",
        "x-forwarded-for": attackerIp,
        origin: main.url,
        ...("action" in target && { "next-action": "0".repeat(40) }),
      },
    }),
  );
  const realSignIn = sessionFor(main.url, account.username, account.password);
  const outcomes = await Promise.all(uploads);
  const session = await realSignIn;
  clearInterval(sampler);
  const after = residentMegabytes(main.pid);

  for (const outcome of outcomes) {
    expect(outcome.status).toBe(413);
    // Refused long before the body could have been read: a few MB at most left the client.
    expect(outcome.sentBytes).toBeLessThan(64 * 1024 ** 2);
  }
  expect(peak - before).toBeLessThan(100);
  expect(session).toBeTruthy();

  // Every oversized sign-in is one row: no username read, the attacker's address.
  const signIns = targets.filter((target) => "signIn" in target).length;
  await expect.poll(async () => (await rowsFromIp(main.databaseUrl, attackerIp)).length, { timeout: 10_000 }).toBe(signIns);
  const rows = await rowsFromIp(main.databaseUrl, attackerIp);
  for (const row of rows) expect(row).toMatchObject({ result: "login_failed_invalid_request", username: USERNAME_NOT_READ });

  const worst = Math.max(...outcomes.map((outcome) => outcome.ms));
  recordFinding(
    "bounded requests: 20 parallel 1 GB bodies (sign-in, action, page; declared and chunked)",
    "20 uploads of 1 GiB at once, and a real sign-in meanwhile",
    `before: RSS 0.18 → 10.7 GB for three; after: all 413 within ${worst} ms, RSS ${before.toFixed(0)} MB → peak ${peak.toFixed(0)} MB → ${after.toFixed(0)} MB, ${rows.length} bounded rows, the real sign-in succeeded`,
  );
});

test("bodies just over each route's limit are refused, and just under pass through", async () => {
  const { main } = suiteState().servers;
  const client = await newSignInClient(main.url, { ip: newClientIp() });
  const overSignIn = await postCredentials(client, { username: "someone", password: "x".repeat(16 * 1024) });
  expect(overSignIn.status).toBe(413);
  const underSignIn = await postCredentials(client, { username: "someone", password: "x".repeat(15 * 1024) });
  expect(underSignIn.status).toBe(401);

  const action = (size: number) =>
    request(`${main.url}/admin/account-logs`, {
      method: "POST",
      headers: { origin: main.url, "next-action": "0".repeat(40), "content-type": "text/plain;charset=UTF-8" },
      body: "x".repeat(size),
    });
  expect((await action(64 * 1024 + 1)).status).toBe(413);
  // Under the limit the request reaches the app, which sends an anonymous visitor to sign in.
  const under = await action(64 * 1024 - 1);
  expect(under.status).toBe(307);
  expect(under.headers.location).toMatch(/\/login/);
});

test("NextAuth's actions behind a path suffix get the app's checks", async () => {
  const { main } = suiteState().servers;
  // An ended session stays ended at /api/auth/session/x, and gets no fresh cookie there.
  const account = await createAccount(main.databaseUrl, { prefix: "suffix" });
  const cookie = await sessionFor(main.url, account.username, account.password);
  const live = await request(`${main.url}/api/auth/session/x`, { headers: { cookie } });
  expect(JSON.parse(live.body)).toMatchObject({ user: { name: account.username } });
  const attacker = await newSignInClient(main.url, { ip: newClientIp() });
  for (let i = 0; i < 6; i++) await signIn(attacker, account.username, `guess-${i}`);
  for (const path of ["/api/auth/session/x", "/api/auth/session/x/y", "/api/auth/%73ession"]) {
    const ended = await request(`${main.url}${path}`, { headers: { cookie } });
    expect(JSON.parse(ended.body), path).toEqual({});
    expect(ended.setCookies.every((c) => !/next-auth\.session-token=[^;]/.test(c)), path).toBe(true);
  }

  // A CSRF-less credentials POST behind a suffix is refused by NextAuth, and still one row.
  const ip = newClientIp();
  const response = await request(`${main.url}/api/auth/callback/credentials/x`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
    body: new URLSearchParams({ username: "suffix-user", password: "secret-guess" }).toString(),
  });
  expect(response.status).toBeLessThan(500);
  await expect.poll(async () => (await rowsFromIp(main.databaseUrl, ip)).map((row) => row.result)).toEqual(["login_failed_invalid_request"]);
  await sealAll(main.databaseUrl);
  const [{ count }] = (await sqlFor(main.databaseUrl)`
    select count(*)::int as count from account_logs where ip = ${ip}::inet and username = 'suffix-user'`) as unknown as [{ count: number }];
  expect(count).toBe(1);
  recordFinding(
    "NextAuth routing: /api/auth/session/x and /api/auth/callback/credentials/x",
    "a locked account's cookie on 3 suffixed session paths; 1 CSRF-less POST behind a suffix",
    "before: full session and a refreshed 8-hour cookie, and no row; after: {} with no cookie, and one row",
  );
});
