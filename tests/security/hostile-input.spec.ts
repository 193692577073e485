import { expect, test } from "@playwright/test";
import { rowsFromIp } from "./support/database";
import { cookieHeader, newClientIp, newSignInClient, postCredentials, request, sessionCookieOf, sessionFor, signIn } from "../support/http";
import { SERVER_DEFAULTS } from "../support/servers";
import { recordFinding, serverOutput, serverOutputSize, suiteState } from "./support/state";
import { USERNAME_NOT_READ } from "@/lib/account-log/sign-in";

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
    // A 1 MB username is a body over the sign-in's 16 KB: refused unread, and still one row.
    expect(result.status, label).toBe(label === "1 MB" ? 413 : 401);
    const rows = await rowsFromIp(main.databaseUrl, ip);
    expect(rows, label).toHaveLength(1);
    const [row] = rows;
    expect([...row!.username].length, label).toBeLessThanOrEqual(256);
    expect(row!.metadata.userAgent).toMatchObject({ length: LONG_USER_AGENT.length, truncated: true });
    expect(row!.metadata.userAgent!.value.length).toBeLessThanOrEqual(512);
    if (label === "1 MB") expect(row).toMatchObject({ username: USERNAME_NOT_READ, result: "login_failed_invalid_request" });
    if (label === "1,000 characters") expect(row).toMatchObject({ username_truncated: true, result: "login_failed_invalid_request" });
    if (label === "NUL") expect(row!.username).toBe("nul\u2400byte");
    if (label === "CR/LF log forgery") expect(row!.username).toBe(LOG_FORGERY);
  }
  recordFinding(
    "hostile input: usernames",
    `${HOSTILE_USERNAMES.length} usernames (incl. %, _, \\, markup, CR/LF, U+202E, NUL, 1,000 chars, 1 MB), 10 KB user agent`,
    "all 401 (the 1 MB body 413, unread); exactly 1 row each; username ≤ 256 code points (1,000 characters cut and flagged), NUL stored as ␀, user agent stored ≤ 512 and flagged",
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

const WIDEST = "from=1970-01-01&to=9999-12-31";
const rowsOfChart = (html: string) => html.split('<tr><th scope="row"').length - 1;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

test("no URL makes the Account Logs page, the export or the Users page grow or slow: time ranges and huge values", async () => {
  const { main } = suiteState().servers;
  const admin = await sessionFor(main.url, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD);
  const get = (path: string) => request(`${main.url}${path}`, { headers: { cookie: admin } });

  // The widest range a URL can name, against the same page without a range, three times each,
  // interleaved: the chart is pulled in to the log's extent, so the two cost about the same.
  const plain: number[] = [];
  const widest: number[] = [];
  let plainPage = await get("/admin/account-logs");
  let widestPage = await get(`/admin/account-logs?${WIDEST}`);
  for (let i = 0; i < 3; i++) {
    plainPage = await get("/admin/account-logs");
    plain.push(plainPage.ms);
    widestPage = await get(`/admin/account-logs?${WIDEST}`);
    widest.push(widestPage.ms);
  }
  expect(widestPage.status).toBe(200);
  expect(rowsOfChart(widestPage.body)).toBeGreaterThan(0);
  expect(rowsOfChart(widestPage.body)).toBeLessThanOrEqual(60);
  expect(widestPage.body.length).toBeLessThan(plainPage.body.length + 30_000);
  expect(widestPage.body.length).toBeLessThan(500_000);
  expect(median(widest)).toBeLessThan(2 * median(plain) + 500);

  const many = (name: string, value: string, n: number) => Array.from({ length: n }, () => `${name}=${value}`).join("&");
  const cases: [string, string][] = [
    ["1970 to 9999", WIDEST],
    ["1970 to 9999 with offsets at their limits", "from=1970-01-01T23:59:00%2B23:59&to=9999-12-31T00:00:00-23:59"],
    ["just past 9999 after an offset", "from=2026-01-01&to=9999-12-31T23:30:00-05:00"],
    ["reversed", "from=9999-12-31&to=1970-01-01"],
    ["far future, open-ended", "from=9000-01-01"],
    ["far future range", "from=9000-01-01&to=9999-12-31"],
    ["before the log", "from=1970-01-01&to=1971-01-01"],
    ["1970 to 9999 with a search", `q=a&${WIDEST}`],
    ["1970 to 9999 with every address", `ip=0.0.0.0/0&${WIDEST}`],
    ["1970 to 9999 with every IPv6 address", `ip=${encodeURIComponent("::/0")}&${WIDEST}`],
    ["1970 to 9999 in a zone spelled oddly", "tz=eUrOpE/bErLiN&from=1970-01-01T02:00&to=9999-12-31T23:59"],
    ["a far-future end alone", "to=9999-12-31"],
    ["a 3,000-part zone", `tz=${"A/".repeat(3000)}`],
    ["500 results", many("result", "login_successful", 250) + "&" + many("result", "bogus", 250)],
    ["200 addresses", many("ip", "203.0.113.7", 200)],
    ["12,000-character search", `q=${"a".repeat(12_000)}`],
    ["huge size", "size=99999999999999999999"],
    ["huge before", "before=9007199254740991"],
    ["huge after", "after=9007199254740991"],
    ["the oldest page", "after=1"],
    ["huge numbers as times", "from=99999999999999999999&to=-99999999999999999999"],
  ];
  const seen: string[] = [];
  for (const [label, query] of cases) {
    const page = await get(`/admin/account-logs?${query}`);
    expect(page.status, label).toBe(200);
    expect(page.body, label).toContain('data-testid="number-of-logs"');
    expect(page.body, label).not.toContain('data-testid="load-error"');
    expect(rowsOfChart(page.body), label).toBeLessThanOrEqual(60);
    expect(page.body.length, label).toBeLessThan(1_000_000);
    const exported = await get(`/admin/account-logs/export?format=csv&${query}`);
    expect(exported.status, label).toBeLessThan(500);
    seen.push(`${label}: ${page.status}/${exported.status}, ${Math.round(page.body.length / 1000)} KB, ${rowsOfChart(page.body)} buckets`);
  }
  // Ranges that reach into the log are charted (pulled in to it), not left empty.
  for (const query of [WIDEST, "to=9999-12-31", "tz=eUrOpE/bErLiN&from=1970-01-01T02:00&to=9999-12-31T23:59"]) {
    expect(rowsOfChart((await get(`/admin/account-logs?${query}`)).body), query).toBeGreaterThan(0);
  }
  // A range an export cannot select exactly is refused with the reason, not streamed.
  const reversed = await get(`/admin/account-logs/export?format=csv&from=9999-12-31&to=1970-01-01`);
  expect(reversed.status).toBe(400);
  expect(reversed.body).toContain('"from" must be earlier than "to"');

  for (const query of [`q=${"u".repeat(12_000)}`, "q=%00%00", `q=${many("x", "y", 1000)}`, many("q", "a", 500)]) {
    const users = await get(`/admin/users?${query}`);
    expect(users.status, query.slice(0, 40)).toBe(200);
    expect(users.body, query.slice(0, 40)).not.toContain('data-testid="load-error"');
    expect(users.body.length, query.slice(0, 40)).toBeLessThan(1_000_000);
  }
  recordFinding(
    "hostile input: unbounded work from one URL",
    `1970–9999 vs no range (3 each), ${cases.length} ranges and huge values × page and export, 4 Users filters`,
    `1970–9999: ${Math.round(widestPage.body.length / 1000)} KB, ${rowsOfChart(widestPage.body)} buckets, median ${median(widest).toFixed(0)} ms ` +
      `(no range: ${Math.round(plainPage.body.length / 1000)} KB, ${median(plain).toFixed(0)} ms); every case ≤ 60 buckets, < 1 MB, no 5xx`,
  );
  console.log(seen.join("\n"));
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
