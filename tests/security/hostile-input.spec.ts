import { expect, test } from "@playwright/test";
import { rowsFromIp } from "./support/database";
import { cookieHeader, newClientIp, newSignInClient, postCredentials, request, sessionCookieOf, sessionFor, signIn } from "./support/http";
import { SERVER_DEFAULTS } from "./support/servers";
import { recordFinding, serverOutput, serverOutputSize, suiteState } from "./support/state";

/**
 * Usernames, user agents and parameters built to break something: the database, the log's
 * bounds, the admin page's HTML, the server's log lines. Each must give a 4xx or a normal
 * answer, exactly one bounded row per attempt, and nothing that runs.
 */
test.describe.configure({ mode: "serial" });

const LOG_FORGERY = 'x\r\n{"level":"info","event":"sign-in succeeded","username":"admin"}\r\n2026-01-01 login_successful admin';
const HOSTILE_USERNAMES: [string, string][] = [
  ["%", "%"],
  ["_", "_"],
  ["backslash", "\\"],
  ["a%_\\", "a%_\\"],
  ["script tag", "<script>alert(1)</script>"],
  ["attribute break-out", '"><img src=x onerror=alert(1)>'],
  ["svg onload", "<svg onload=alert(1)>"],
  ["CR/LF log forgery", LOG_FORGERY],
  ["U+202E", "\u202Eadmin"],
  ["NUL", "nul\u0000byte"],
  ["1,000 characters", "k".repeat(1000)],
  ["1 MB", "m".repeat(1024 * 1024)],
];
const LONG_USER_AGENT = `Mozilla/5.0 <img src=x onerror=alert(2)> ${"u".repeat(10 * 1024)}`;

let outputStart = 0;

test.beforeAll(() => {
  outputStart = serverOutputSize(suiteState().servers.main);
});

test("hostile usernames with a 10 KB user agent: no 5xx, exactly one bounded row each", async () => {
  const { main } = suiteState().servers;
  for (const [label, username] of HOSTILE_USERNAMES) {
    const ip = newClientIp();
    const client = await newSignInClient(main.url, { ip, userAgent: LONG_USER_AGENT });
    const result = await signIn(client, username, "whatever-password");
    expect(result.status, label).toBe(401);
    const rows = await rowsFromIp(main.databaseUrl, ip);
    expect(rows, label).toHaveLength(1);
    const [row] = rows;
    expect([...row!.username].length, label).toBeLessThanOrEqual(256);
    expect(row!.metadata.userAgent).toMatchObject({ length: LONG_USER_AGENT.length, truncated: true });
    expect(row!.metadata.userAgent!.value.length).toBeLessThanOrEqual(512);
    if (label === "1 MB") expect(row).toMatchObject({ username_truncated: true, result: "login_failed_invalid_request" });
    if (label === "NUL") expect(row!.username).toBe("nul\u2400byte");
    if (label === "CR/LF log forgery") expect(row!.username).toBe(LOG_FORGERY);
  }
  recordFinding(
    "hostile input: usernames",
    `${HOSTILE_USERNAMES.length} usernames (incl. %, _, \\, markup, CR/LF, U+202E, NUL, 1,000 chars, 1 MB), 10 KB user agent`,
    "all 401; exactly 1 row each; username ≤ 256 code points (1 MB cut and flagged), NUL stored as ␀, user agent stored ≤ 512 and flagged",
  );
});

test("malformed sign-in bodies are refused with a 4xx and one row each", async () => {
  const { main } = suiteState().servers;
  const cases: [string, Record<string, string>, string][] = [
    ["broken percent-encoding", { "content-type": "application/x-www-form-urlencoded" }, "username=%E0%A4%A&password=%"],
    ["JSON instead of a form", { "content-type": "application/json" }, '{"username":{"$ne":null},"password":["x"]}'],
    ["repeated fields", { "content-type": "application/x-www-form-urlencoded" }, "username=a&username=b&password=x&password=y"],
    ["no fields", { "content-type": "application/x-www-form-urlencoded" }, ""],
    ["1 MB password", { "content-type": "application/x-www-form-urlencoded" }, `username=someone&password=${"p".repeat(1024 * 1024)}`],
  ];
  const statuses: number[] = [];
  for (const [label, headers, body] of cases) {
    const ip = newClientIp();
    const client = await newSignInClient(main.url, { ip });
    const fields = new URLSearchParams({ csrfToken: client.csrfToken, json: "true" }).toString();
    const response = await request(`${main.url}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { ...headers, cookie: cookieHeader(client.cookies), "x-forwarded-for": ip },
      body: headers["content-type"]!.includes("json") ? body : body ? `${fields}&${body}` : fields,
    });
    statuses.push(response.status);
    expect(response.status, label).toBeLessThan(500);
    expect(sessionCookieOf(response), label).toBeUndefined();
    expect((await rowsFromIp(main.databaseUrl, ip)).length, label).toBe(1);
  }
  recordFinding(
    "hostile input: malformed sign-in bodies",
    `${cases.length} bodies`,
    `statuses ${[...new Set(statuses)].sort().join(", ")} (NextAuth redirects a body without its CSRF token); one row each, no session`,
  );
});

test("oversized and malformed search parameters: a page with a note or a 4xx, never a 5xx", async () => {
  const { main } = suiteState().servers;
  const admin = await sessionFor(main.url, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD);
  const queries = [
    `q=${"%25_%5C".repeat(300)}`,
    `q=${"a".repeat(6000)}`,
    `q=${"a".repeat(20_000)}`,
    "q=%E0%A4%A",
    "q=%F0%9F",
    "q=%00%0D%0A",
    `q=${encodeURIComponent("<script>alert(1)</script>")}`,
    "size=-1",
    "size=1e309",
    "size=9999999999999999999999",
    "size[]=1&size[]=2",
    "before=abc&after=def",
    "before=99999999999999999999999",
    "before=1&after=2",
    "q=a&q=b&q=c",
  ];
  const statuses: number[] = [];
  for (const query of queries) {
    for (const path of ["/admin/account-logs", "/admin/account-logs/export"]) {
      const response = await request(`${main.url}${path}?${query}`, { headers: { cookie: admin } });
      statuses.push(response.status);
      expect(response.status, `${path}?${query.slice(0, 60)}`).toBeLessThan(500);
    }
  }
  recordFinding(
    "hostile input: search parameters",
    `${queries.length} queries × page and export`,
    `statuses seen: ${[...new Set(statuses)].sort().join(", ")}; no 5xx`,
  );
});

test("nothing hostile runs in the admin page (Chromium)", async ({ browser }) => {
  const { main } = suiteState().servers;
  const context = await browser.newContext();
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${main.url}/login`);
  await page.getByLabel("Username").fill(SERVER_DEFAULTS.ADMIN_USERNAME);
  await page.getByLabel("Password").fill(SERVER_DEFAULTS.ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-username")).toHaveText(SERVER_DEFAULTS.ADMIN_USERNAME);

  const markup = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<svg onload=alert(1)>"];
  for (const term of [...markup, "%", "a%_\\"]) {
    await page.goto(`${main.url}/admin/account-logs?q=${encodeURIComponent(term)}`);
    await expect(page.getByRole("heading", { name: "Account Logs" })).toBeVisible();
    await expect(page.getByLabel("Search by username")).toHaveValue(term);
    if (markup.includes(term)) {
      await expect(page.getByTestId("log-table").locator("tbody tr td:nth-child(2)").first()).toHaveText(term);
      await page.getByTestId("log-table").locator("tbody tr td:nth-child(6) summary").first().click();
      await expect(page.getByTestId("log-table").locator("tbody tr td:nth-child(6)").first()).toContainText("<img src=x onerror=alert(2)>");
    }
    expect(await page.locator('img[src=x], svg[onload], script:text-is("alert(1)")').count()).toBe(0);
  }
  // The unfiltered page shows the newest rows, the hostile ones among them.
  await page.goto(`${main.url}/admin/account-logs`);
  await expect(page.getByTestId("number-of-logs")).toBeVisible();
  expect(await page.locator("img[src=x], svg[onload]").count()).toBe(0);
  expect(dialogs).toEqual([]);
  await context.close();
  recordFinding("hostile input: admin page (Chromium)", `${markup.length + 2} searches + the newest rows`, "markup shown as text; no dialog, no injected element");
});

test("the server's log lines stay one line each, whatever the request carried", async () => {
  const { main } = suiteState().servers;
  // Requests that make the server log something about them: an anonymous visit to an admin
  // path and a cross-origin action, both carrying line breaks and markup.
  await request(`${main.url}/admin/account-logs/%0D%0A${encodeURIComponent('{"level":"info","event":"forged"}')}`);
  await request(`${main.url}/admin/account-logs`, {
    method: "POST",
    headers: { origin: "https://evil.example/<script>", "next-action": "0".repeat(42), "content-type": "text/plain" },
    body: 'x\r\n{"level":"info","event":"forged"}',
  });
  await postCredentials(await newSignInClient(main.url, { ip: newClientIp() }), { username: LOG_FORGERY, password: "x" }, { csrf: false });
  // NextAuth's client-logging endpoint would write any text as an error line: it is closed.
  const clientLog = await request(`${main.url}/api/auth/_log`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "code=FORGED_BY_CLIENT&level=error&error=forged",
  });
  expect(clientLog.status).toBe(404);
  const lines = serverOutput(main, outputStart)
    .split("\n")
    .filter((line) => line.trim() !== "");
  expect(lines.length).toBeGreaterThanOrEqual(2);
  for (const line of lines) {
    expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
    expect(line).not.toContain("\r");
  }
  expect(lines.some((line) => line.includes("access denied"))).toBe(true);
  expect(lines.some((line) => line.includes("cross-origin request refused"))).toBe(true);
  expect(lines.some((line) => line.includes("FORGED_BY_CLIENT"))).toBe(false);
  recordFinding(
    "hostile input: server log",
    `${lines.length} lines written during the hostile-input attacks`,
    "every line one JSON object; line breaks sent by the client stay escaped inside it",
  );
});
