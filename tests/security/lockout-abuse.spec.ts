import { spawnSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { accountOf, createAccount, rowsForUser, rowsFromIp, sqlFor } from "./support/database";
import { newClientIp, newSignInClient, signIn, type SignInClient } from "../support/http";
import { SERVER_DEFAULTS } from "../support/servers";
import { recordFinding, suiteState } from "./support/state";

/**
 * Anyone who knows a username can lock it: that is the price of a lockout. What limits the
 * abuse is the per-address throttle (how many accounts one address can lock) and the
 * break-glass unlock (a way back in when every admin is locked).
 */
test.describe.configure({ mode: "serial" });

const RATE_LIMITED = "Too many failed sign-ins from your network. Wait a few minutes, then try again.";
let throttledIp = "";

/** A client at `ip` behind the trusted proxy, whose spoofable part of X-Forwarded-For changes each time. */
function behindProxy(client: SignInClient, ip: string): { headers: Record<string, string> } {
  return { headers: { "x-forwarded-for": `${newClientIp()}, 10.9.8.7, ${ip}` } };
}

test("one address: failures 1-100 are checked, the 101st is answered 429; it can lock only 16 accounts", async () => {
  const { main } = suiteState().servers;
  const ip = newClientIp();
  throttledIp = ip;
  const client = await newSignInClient(main.url);
  const accounts = await Promise.all(Array.from({ length: 20 }, () => createAccount(main.databaseUrl, { prefix: "abuse" })));
  let attempts = 0;
  let firstRefusal: number | undefined;
  const statuses: number[] = [];
  for (const account of accounts) {
    for (let i = 0; i < 6 && firstRefusal === undefined; i++) {
      const result = await signIn(client, account.username, `wrong-${i}`, behindProxy(client, ip));
      attempts++;
      statuses.push(result.status);
      if (result.status === 429) firstRefusal = attempts;
    }
  }
  expect(firstRefusal).toBe(101);
  expect(statuses.slice(0, 100).every((status) => status === 401)).toBe(true);
  const lockedAccounts = (await Promise.all(accounts.map((account) => accountOf(main.databaseUrl, account.id)))).filter(
    (state) => state.locked_at !== null,
  ).length;
  expect(lockedAccounts).toBe(16);

  // Throttled, the right password of an untouched account is refused too, without a word about it.
  const untouched = accounts.at(-1)!;
  const known = await signIn(client, untouched.username, untouched.password, behindProxy(client, ip));
  const unknown = await signIn(client, "nobody-at-all", "guess", behindProxy(client, ip));
  for (const refused of [known, unknown]) {
    expect(refused.status).toBe(429);
    expect(refused.error).toBe("RateLimited");
    expect(refused.headers["retry-after"]).toBe("600");
    expect(refused.session).toBeUndefined();
  }
  expect(known.body).toBe(unknown.body);
  expect(await accountOf(main.databaseUrl, untouched.id)).toMatchObject({ failed_attempts: 0, locked_at: null });

  // One row per attempt, all under the trusted hop's address, plus the 16 locks.
  const rows = await rowsFromIp(main.databaseUrl, ip);
  expect(rows.filter((row) => row.result.startsWith("login_"))).toHaveLength(103);
  expect(rows.filter((row) => row.result === "account_locked")).toHaveLength(16);
  expect(rows.filter((row) => row.result === "login_failed_rate_limited")).toHaveLength(3);
  // Another address is not affected.
  expect((await signIn({ ...client, ip: newClientIp() }, untouched.username, untouched.password)).session).toBeDefined();
  recordFinding(
    "lockout abuse: per-address throttle",
    "120 wrong passwords over 20 accounts from one address (spoofed hops varied)",
    `401 for attempts 1-100, 429 from attempt ${firstRefusal} (Retry-After 600, logged login_failed_rate_limited); 16 of 20 accounts locked; another address unaffected`,
  );
});

test("a burst from one address overshoots the limit by at most the in-progress cap", async () => {
  const { main } = suiteState().servers;
  const ip = newClientIp();
  const client = await newSignInClient(main.url, { ip });
  const results = await Promise.all(Array.from({ length: 150 }, (_, i) => signIn(client, `burst-${i}`, "guess")));
  const checked = results.filter((result) => result.status === 401).length;
  const refused = results.filter((result) => result.status === 429).length;
  expect(checked + refused).toBe(150);
  expect(checked).toBeLessThanOrEqual(100 + 10 - 1);
  expect((await rowsFromIp(main.databaseUrl, ip)).length).toBe(150);
  expect((await signIn(client, "after-burst", "guess")).status).toBe(429);
  recordFinding(
    "lockout abuse: burst from one address",
    "150 parallel failures",
    `${checked} passwords checked, ${refused} answered 429 at once (bound: 100 + 10 in progress - 1); 150 rows; the next attempt 429`,
  );
});

test("the sign-in form says why a throttled address is refused", async ({ browser }) => {
  const { main } = suiteState().servers;
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": throttledIp } });
  const page = await context.newPage();
  await page.goto(`${main.url}/login`);
  await page.getByLabel("Username").fill("anyone");
  await page.getByLabel("Password").fill("anything");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#login-error")).toHaveText(RATE_LIMITED);
  await context.close();
});

test("break glass: with every admin locked, npm run user:unlock lets one back in, and is logged", async () => {
  const { main } = suiteState().servers;
  const sql = sqlFor(main.databaseUrl);
  const admins = await sql<{ id: number; username: string }[]>`select id, username from users where role = 'admin'`;
  for (const admin of admins) {
    const client = await newSignInClient(main.url, { ip: newClientIp() });
    for (let i = 0; i < 6; i++) await signIn(client, admin.username, `wrong-${i}`);
  }
  const [{ unlocked }] = (await sql`select count(*)::int as unlocked from users where role = 'admin' and locked_at is null`) as unknown as [
    { unlocked: number },
  ];
  expect(unlocked).toBe(0);
  const adminClient = await newSignInClient(main.url, { ip: newClientIp() });
  expect((await signIn(adminClient, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD)).error).toBe("AccountLocked");

  const run = spawnSync("npm", ["run", "--silent", "user:unlock", "--", "--username", SERVER_DEFAULTS.ADMIN_USERNAME], {
    env: { ...process.env, DATABASE_URL: main.databaseUrl },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain(`Unlocked "${SERVER_DEFAULTS.ADMIN_USERNAME}"`);
  const admin = admins.find((a) => a.username === SERVER_DEFAULTS.ADMIN_USERNAME)!;
  const unlockRow = (await rowsForUser(main.databaseUrl, admin.id)).filter((row) => row.result === "account_unlocked").at(-1)!;
  expect(unlockRow.metadata).toMatchObject({ actor: { userId: null, via: "command line" } });
  expect((await signIn(adminClient, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD)).session).toBeDefined();
  recordFinding(
    "lockout abuse: every admin locked",
    `${admins.length} admin account(s) × 6 wrong passwords`,
    "all locked; npm run user:unlock -- --username admin unlocked it while the app ran, logged account_unlocked (command line, operator named); admin signed in",
  );
});
