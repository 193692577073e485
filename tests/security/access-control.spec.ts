import { randomBytes } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { createAccount, rowsForUser, rowsFromIp, sqlFor, type TestAccount } from "./support/database";
import { newClientIp, newSignInClient, request, sessionFor, signIn, type RawResponse } from "../support/http";
import { SERVER_DEFAULTS } from "../support/servers";
import { recordFinding, serverOutput, serverOutputSize, suiteState } from "./support/state";
import { captureAction, replayHeaders } from "../support/actions";

/**
 * Who may read the log and unlock accounts. Every refusal must carry no log data; a signed-in
 * user's refusal is an `access_denied` row, an anonymous one a server log line.
 */
test.describe.configure({ mode: "serial" });

const MIDDLEWARE_BYPASSES = [
  "middleware",
  "middleware:middleware:middleware:middleware:middleware",
  "src/middleware:src/middleware:src/middleware:src/middleware:src/middleware",
  "pages/_middleware",
];

// What the requests search for: the marker's prefix, so the marker itself can only come from the log.
const SEARCH = "leak-marker-";
let marker = "";

/** A log row whose username appears in any response that leaks log data. */
test.beforeAll(async () => {
  const { main } = suiteState().servers;
  marker = `${SEARCH}${randomBytes(6).toString("hex")}`;
  await signIn(await newSignInClient(main.url, { ip: newClientIp() }), marker, "wrong-password");
});

function expectNoLogData(response: RawResponse, label: string) {
  expect(response.status, label).toBeLessThan(500);
  expect(response.body, label).not.toContain(marker);
  expect(response.body, label).not.toContain("Number of Logs");
}

/** A refusal: 403, or for an RSC request (which Next.js always answers 200) the 403 page's payload. */
function expectForbidden(response: RawResponse, label: string) {
  expectNoLogData(response, label);
  if (response.headers["content-type"]?.includes("text/x-component")) {
    expect(response.body, label).toContain("This page is for administrators only.");
  } else {
    expect(response.status, label).toBe(403);
  }
}

function adminRequests(headers: Record<string, string>): [string, string, Record<string, string>][] {
  const page = `/admin/account-logs?q=${SEARCH}`;
  const exportCsv = `/admin/account-logs/export?format=csv&q=${SEARCH}`;
  return [
    ["page", page, headers],
    // Next.js answers an RSC request without its `_rsc` cache-buster with a redirect to one.
    ["page, RSC: 1", `${page}&_rsc`, { ...headers, rsc: "1" }],
    ["export", exportCsv, headers],
    ["export, NDJSON", `/admin/account-logs/export?format=ndjson&q=${SEARCH}`, headers],
    ...MIDDLEWARE_BYPASSES.map((value): [string, string, Record<string, string>] => [
      `page, x-middleware-subrequest: ${value.slice(0, 20)}`,
      page,
      { ...headers, "x-middleware-subrequest": value },
    ]),
    ["export, x-middleware-subrequest", exportCsv, { ...headers, "x-middleware-subrequest": MIDDLEWARE_BYPASSES[1]! }],
  ];
}

/** The other admin pages, asked for once each (a user's refusals past 10 a window are counted into one row). */
function otherAdminPages(headers: Record<string, string>): [string, string, Record<string, string>][] {
  return [
    ["Users page", "/admin/users", headers],
    ["API tokens page", "/admin/api-tokens", headers],
    ["Log streams page", "/admin/log-streams", headers],
  ];
}

test("anonymous: admin page (also RSC and CVE-2025-29927's header), export and APIs give no log data and write no row", async () => {
  const { main } = suiteState().servers;
  const ip = newClientIp();
  const outputStart = serverOutputSize(main);
  const requests = [...adminRequests({ "x-forwarded-for": ip }), ...otherAdminPages({ "x-forwarded-for": ip })];
  for (const [label, path, headers] of requests) {
    const response = await request(`${main.url}${path}`, { headers });
    expectNoLogData(response, label);
    expect([307, 401], label).toContain(response.status);
    if (response.status === 307) expect(response.headers.location, label).toMatch(/^\/login\?callbackUrl=/);
  }
  for (const path of ["/api/auth/session", "/api/auth/providers", "/api/account-logs", "/api/logs", "/admin/account-logs.json"]) {
    const response = await request(`${main.url}${path}`, { headers: { "x-forwarded-for": ip } });
    expect(response.status, path).toBeLessThan(500);
    expect(response.body, path).not.toContain(marker);
  }
  expect(await rowsFromIp(main.databaseUrl, ip)).toHaveLength(0);
  const denials = serverOutput(main, outputStart)
    .split("\n")
    .filter((line) => line.includes('"access denied"') && line.includes(ip));
  // One per admin request, and one for the guessed /admin/account-logs.json.
  expect(denials).toHaveLength(requests.length + 1);
  for (const line of denials) expect(JSON.parse(line)).toMatchObject({ signedIn: false, ip });
  recordFinding(
    "access control: anonymous",
    `${requests.length} admin-page/export requests (incl. RSC: 1, 4 x-middleware-subrequest forms) + 5 API paths`,
    "all redirected to /login (307) or refused; no log data; 0 rows; one server log line per admin request",
  );
});

test("signed-in non-admin: admin page, RSC, export refused with 403, no log data, one access_denied row per request", async () => {
  const { main } = suiteState().servers;
  const user = await createAccount(main.databaseUrl, { prefix: "nonadmin" });
  const ip = newClientIp();
  const cookie = await sessionFor(main.url, user.username, user.password, ip);
  const requests = adminRequests({ cookie, "x-forwarded-for": ip });
  for (const [label, path, headers] of requests) {
    expectForbidden(await request(`${main.url}${path}`, { headers }), label);
  }
  const denied = (await rowsForUser(main.databaseUrl, user.id)).filter((row) => row.result === "access_denied");
  expect(denied).toHaveLength(requests.length);
  expect(denied.every((row) => row.username === user.username && row.ip === ip)).toBe(true);
  expect(new Set(denied.map((row) => row.metadata.resource))).toEqual(new Set(["admin pages", "account log export"]));
  // Another non-admin asks for the other admin pages: each refused, each a row.
  const other = await createAccount(main.databaseUrl, { prefix: "nonadmin-pages" });
  const otherIp = newClientIp();
  const otherCookie = await sessionFor(main.url, other.username, other.password, otherIp);
  const pages = otherAdminPages({ cookie: otherCookie, "x-forwarded-for": otherIp });
  for (const [label, path, headers] of pages) expectForbidden(await request(`${main.url}${path}`, { headers }), label);
  const pagesDenied = (await rowsForUser(main.databaseUrl, other.id)).filter((row) => row.result === "access_denied");
  expect(pagesDenied).toHaveLength(pages.length);
  recordFinding(
    "access control: signed-in non-admin",
    `${requests.length} admin-page/export requests (incl. RSC: 1, x-middleware-subrequest)`,
    `all 403 (the RSC request: Next.js's 200 carrying the 403 page); no log data; ${denied.length} access_denied rows (one per request, naming the user and what was asked for)`,
  );
});

test("a non-admin flooding refused requests writes at most the limit of rows a window, and one row counting the rest", async () => {
  // The second server: the same database, with a 20-second window (ACCESS_DENIED_WINDOW_SECONDS).
  const { second } = suiteState().servers;
  const limit = 10;
  const windowMs = Number(second.env.ACCESS_DENIED_WINDOW_SECONDS) * 1000;
  const user = await createAccount(second.databaseUrl, { prefix: "flooder" });
  const ip = newClientIp();
  const cookie = await sessionFor(second.url, user.username, user.password, ip);
  const paths = [`/admin/account-logs?q=${SEARCH}`, `/admin/account-logs/export?format=csv&q=${SEARCH}`, "/admin/users"];
  const refused = 200;
  const started = Date.now();
  for (let batch = 0; batch < refused; batch += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        expectForbidden(await request(`${second.url}${paths[(batch + i) % paths.length]}`, { headers: { cookie, "x-forwarded-for": ip } }), "flood");
      }),
    );
  }
  const elapsed = Date.now() - started;
  expect(elapsed, "the flood must fit in one window for this count of rows").toBeLessThan(windowMs);
  const deniedNow = async () => (await rowsForUser(second.databaseUrl, user.id)).filter((row) => row.result === "access_denied");
  expect(await deniedNow()).toHaveLength(limit);

  // Once the window is over, the next refusal writes the held-back ones as one row, then its own.
  await new Promise((resolve) => setTimeout(resolve, windowMs - elapsed + 1_000));
  expectForbidden(await request(`${second.url}${paths[0]}`, { headers: { cookie, "x-forwarded-for": ip } }), "after the window");
  const rows = await deniedNow();
  const counts = rows.map((row) => (row.metadata.count as number | undefined) ?? 1);
  expect(rows.length).toBeLessThanOrEqual(limit + 2);
  expect(counts.reduce((sum, n) => sum + n, 0)).toBe(refused + 1);
  const aggregate = rows.find((row) => row.metadata.count !== undefined)!;
  expect(aggregate.metadata).toMatchObject({ count: refused - limit, from: expect.any(String), to: expect.any(String) });
  expect(Object.keys(aggregate.metadata.resources as Record<string, number>).sort()).toEqual(["account log export", "admin pages"]);
  recordFinding(
    "access control: access_denied flood",
    `${refused} refused requests by one non-admin in ${(elapsed / 1000).toFixed(1)} s, then one after the window`,
    `${rows.length} rows (limit ${limit} a window, plus one counting ${aggregate.metadata.count as number}); counts add up to ${refused + 1}`,
  );
});

async function signInInBrowser(page: Page, username: string, password: string) {
  const { main } = suiteState().servers;
  await page.goto(`${main.url}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-username")).toHaveText(username);
}

async function lock(account: TestAccount) {
  const client = await newSignInClient(suiteState().servers.main.url, { ip: newClientIp() });
  for (let i = 0; i < 6; i++) await signIn(client, account.username, `wrong-${i}`);
}

async function isLocked(account: TestAccount): Promise<boolean> {
  const [row] = await sqlFor(suiteState().servers.main.databaseUrl)<{ locked: boolean }[]>`
    select locked_at is not null as locked from users where id = ${account.id}`;
  return row!.locked;
}

test("the unlock action, replayed with a captured id and body: refused to anonymous, non-admin and foreign origins", async ({ browser }) => {
  const { main } = suiteState().servers;
  const victim = await createAccount(main.databaseUrl, { prefix: "victim" });
  await lock(victim);

  // The admin's real Unlock request, captured before it reaches the server.
  const context = await browser.newContext();
  const admin = await context.newPage();
  await signInInBrowser(admin, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD);
  await admin.goto(`${main.url}/admin/account-logs`);
  const panel = admin.getByRole("region", { name: /Locked accounts/ });
  await panel.getByLabel(`Reason for unlocking ${victim.username}`).fill("owner confirmed");
  const captured = await captureAction(admin, "**/admin/account-logs**", () => panel.getByRole("button", { name: `Unlock ${victim.username}` }).click());
  await context.close();
  const adminCookie = await sessionFor(main.url, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD);
  const user = await createAccount(main.databaseUrl, { prefix: "replayer" });
  const userCookie = await sessionFor(main.url, user.username, user.password);
  const replay = (headers: Record<string, string>) =>
    request(`${main.url}/admin/account-logs`, { method: "POST", headers: replayHeaders(captured, headers), body: captured.body });

  const outputStart = serverOutputSize(main);
  const anonymous = await replay({ origin: main.url });
  expect(anonymous.status).toBe(307);
  expect(await isLocked(victim)).toBe(true);

  const nonAdmin = await replay({ origin: main.url, cookie: userCookie });
  expect(nonAdmin.body).toContain("Only administrators can unlock accounts.");
  expect(await isLocked(victim)).toBe(true);
  const denied = (await rowsForUser(main.databaseUrl, user.id)).filter((row) => row.result === "access_denied");
  expect(denied.map((row) => row.metadata.resource)).toEqual(["unlock action"]);

  const foreign: [string, Record<string, string>][] = [
    ["Origin: https://evil.example", { origin: "https://evil.example" }],
    ["Origin: null", { origin: "null" }],
    ["no Origin", {}],
    ["Origin spoofed with a matching Host", { origin: "https://evil.example", "x-forwarded-host": "evil.example" }],
  ];
  for (const [label, headers] of foreign) {
    const refused = await replay({ ...headers, cookie: adminCookie });
    expect(refused.status, label).toBe(403);
    expect(refused.body, label).not.toContain("Unlocked");
    expect(await isLocked(victim), label).toBe(true);
  }
  const refusals = serverOutput(main, outputStart)
    .split("\n")
    .filter((line) => line.includes("cross-origin request refused"));
  expect(refusals).toHaveLength(foreign.length);

  // The same replay from the admin on this origin does unlock: the refusals above were real.
  expect((await replay({ origin: main.url, cookie: adminCookie })).body).toContain(`Unlocked ${victim.username}.`);
  expect(await isLocked(victim)).toBe(false);
  recordFinding(
    "access control: unlock action replayed",
    "captured id + body: anonymous, non-admin, 4 foreign-origin forms, then the admin",
    "anonymous 307; non-admin refused + access_denied row; evil.example / null / missing Origin 403 before Next.js (logged); account stayed locked until the admin's same-origin replay unlocked it",
  );
});

test("an admin demoted after signing in is refused at the next request", async () => {
  const { main } = suiteState().servers;
  const admin = await createAccount(main.databaseUrl, { prefix: "demoted", role: "admin" });
  const cookie = await sessionFor(main.url, admin.username, admin.password);
  const before = await request(`${main.url}/admin/account-logs?q=${SEARCH}`, { headers: { cookie } });
  expect(before.status).toBe(200);
  expect(before.body).toContain(marker);

  await sqlFor(main.databaseUrl)`update users set role = 'user' where id = ${admin.id}`;
  for (const path of [`/admin/account-logs?q=${SEARCH}`, `/admin/account-logs/export?format=csv&q=${SEARCH}`]) {
    expectForbidden(await request(`${main.url}${path}`, { headers: { cookie } }), path);
  }
  expect((await rowsForUser(main.databaseUrl, admin.id)).filter((row) => row.result === "access_denied")).toHaveLength(2);
  recordFinding("access control: admin demoted mid-session", "page + export after the role change", "200 with log data before; 403 without it after; 2 access_denied rows");
});
