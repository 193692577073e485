import { spawnSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { accountOf, countersAgree, createAccount, rowsForUser } from "./support/database";
import { newClientIp, newSignInClient, request, signIn } from "../support/http";
import { startPostgres, stopPostgres } from "./support/postgres";
import { startServer } from "../support/servers";
import { recordFinding, suiteState, updateServer } from "./support/state";

/**
 * The database going away mid-burst, and the app killed mid-burst: sign-ins fail closed while
 * the log cannot be written, the app recovers by itself, and no attempt is half-recorded.
 */
test.describe.configure({ mode: "serial" });

type Attempt = { userAgent: string; started: number; ended: number; status: number; error: string | null; session: boolean };

test("PostgreSQL stopped during a burst: refused with a clear message, login page still served, recovers by itself", async ({ browser }) => {
  const { fault } = suiteState().servers;
  const { dataDir, port } = suiteState().faultCluster;
  const account = await createAccount(fault.databaseUrl, { prefix: "outage" });
  const client = await newSignInClient(fault.url);
  const attempts: Attempt[] = [];
  let running = true;
  let sequence = 0;
  const worker = async () => {
    while (running) {
      const userAgent = `outage-${sequence++}`;
      const started = Date.now();
      try {
        const result = await signIn({ ...client, ip: newClientIp(), userAgent }, account.username, account.password);
        attempts.push({ userAgent, started, ended: Date.now(), status: result.status, error: result.error, session: Boolean(result.session) });
      } catch {
        attempts.push({ userAgent, started, ended: Date.now(), status: 0, error: "no answer", session: false });
      }
    }
  };
  const workers = Array.from({ length: 6 }, () => worker());

  await expect.poll(() => attempts.filter((a) => a.session).length, { timeout: 30_000 }).toBeGreaterThan(10);
  stopPostgres(dataDir);
  const down = Date.now();
  // While it is down: the login page is served, and the form says why sign-in is refused.
  const loginPage = await request(`${fault.url}/login`);
  expect(loginPage.status).toBe(200);
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": newClientIp() } });
  const page = await context.newPage();
  await page.goto(`${fault.url}/login`);
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#login-error")).toHaveText("Sign-in is temporarily unavailable. Try again in a moment.");
  await expect.poll(() => attempts.filter((a) => a.started > down).length).toBeGreaterThan(20);
  const up = Date.now();
  await startPostgres(dataDir, port);
  const back = Date.now();

  // Recovery needs no restart of the app: sign-ins succeed again on their own.
  await expect.poll(() => attempts.filter((a) => a.started > up && a.session).length, { timeout: 60_000 }).toBeGreaterThan(5);
  running = false;
  await Promise.all(workers);
  await page.goto(`${fault.url}/login`);
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-username")).toHaveText(account.username);
  await context.close();

  expect(attempts.every((a) => a.status < 500)).toBe(true);
  const whileDown = attempts.filter((a) => a.started > down && a.ended < up);
  expect(whileDown.length).toBeGreaterThan(0);
  expect(whileDown.every((a) => a.status === 401 && a.error === "SignInUnavailable" && !a.session)).toBe(true);
  // No session without its row: every granted session's attempt is a login_successful row.
  const rows = await rowsForUser(fault.databaseUrl, account.id);
  const logged = new Set(rows.filter((row) => row.result === "login_successful").map((row) => row.metadata.userAgent?.value));
  const sessions = attempts.filter((a) => a.session);
  expect(sessions.filter((a) => !logged.has(a.userAgent))).toEqual([]);
  const firstAfter = Math.min(...attempts.filter((a) => a.started > up && a.session).map((a) => a.ended));
  const slowestRefusal = Math.max(...whileDown.map((a) => a.ended - a.started));
  expect(await countersAgree(fault.databaseUrl)).toMatchObject({ usernamesOff: 0 });
  const counters = await countersAgree(fault.databaseUrl);
  expect(counters.counted).toBe(counters.total);
  recordFinding(
    "faults: PostgreSQL stopped mid-burst",
    `${attempts.length} sign-ins from 6 parallel clients, ${whileDown.length} of them while it was down`,
    `all refused "SignInUnavailable" (401, slowest answer ${(slowestRefusal / 1000).toFixed(1)} s) while down; login page 200; the form showed the message; ` +
      `${sessions.length} sessions, each with its login_successful row; first session ${((firstAfter - back) / 1000).toFixed(1)} s after PostgreSQL was back, without a restart; counters agree`,
  );
});

test("kill -9 of the app during a 200-attempt burst: no partial attempt, consistent counts after restart", async () => {
  const { fault } = suiteState().servers;
  const account = await createAccount(fault.databaseUrl, { prefix: "killed" });
  const client = await newSignInClient(fault.url);
  const answered: { userAgent: string; status: number }[] = [];
  const burst = Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      signIn({ ...client, ip: newClientIp(), userAgent: `killed-${i}` }, account.username, `wrong-${i}`).then(
        (result) => answered.push({ userAgent: `killed-${i}`, status: result.status }),
        () => undefined,
      ),
    ),
  );
  await expect.poll(async () => (await rowsForUser(fault.databaseUrl, account.id)).length, { intervals: [20], timeout: 60_000 }).toBeGreaterThanOrEqual(12);
  process.kill(fault.pid, "SIGKILL");
  await burst;

  const restarted = await startServer({ name: fault.name, port: fault.port, env: fault.env, logFile: fault.logFile });
  updateServer("fault", { pid: restarted.pid! });

  const rows = await rowsForUser(fault.databaseUrl, account.id);
  const attemptRows = rows.filter((row) => row.result !== "account_locked");
  const state = await accountOf(fault.databaseUrl, account.id);
  const wrong = rows.filter((row) => row.result === "login_failed_wrong_password").length;
  // The counter moved exactly with the rows that were committed, and the lock with its row.
  expect(state.failed_attempts).toBe(wrong);
  expect(rows.filter((row) => row.result === "account_locked")).toHaveLength(state.locked_at ? 1 : 0);
  expect(attemptRows.length).toBeLessThan(200);
  // Every attempt answered before the kill is a row; no row lacks its request's details.
  const logged = new Set(attemptRows.map((row) => row.metadata.userAgent?.value));
  expect(answered.filter((a) => !logged.has(a.userAgent))).toEqual([]);
  expect(attemptRows.every((row) => row.ip && row.metadata.userAgent?.value.startsWith("killed-"))).toBe(true);
  const counters = await countersAgree(fault.databaseUrl);
  expect(counters).toMatchObject({ usernamesOff: 0, counted: counters.total });
  const verify = spawnSync(process.execPath, ["--import", "tsx", "scripts/audit-verify.ts"], {
    env: { ...process.env, DATABASE_URL: fault.databaseUrl },
    encoding: "utf8",
  });
  expect(verify.status, verify.stdout + verify.stderr).toBe(0);

  // After the restart the account goes on from where the log says it was.
  const after = await signIn({ ...client, ip: newClientIp() }, account.username, account.password);
  expect(after.error ?? "signed in").toBe(state.locked_at ? "AccountLocked" : "signed in");
  recordFinding(
    "faults: kill -9 of the app mid-burst",
    "200 parallel wrong passwords, SIGKILL once rows appeared",
    `${answered.length} answered before the kill, ${attemptRows.length} rows (each complete, each answered attempt present); failed_attempts ${state.failed_attempts} = wrong-password rows; ${state.locked_at ? "1 lock row" : "no lock"}; counters agree; audit:verify intact; app restarted and answered as the log says`,
  );
});
