import { expect, test, type Browser, type Page } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { failSignIn, showResultFilters, signInExpectingError, signInExpectingSuccess, signOut } from "./helpers";

const INVALID = "Invalid username or password.";

async function adminPage(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
  return page;
}

async function numberOfLogs(page: Page): Promise<number> {
  return Number((await page.getByTestId("number-of-logs").innerText()).replace(/\D/g, ""));
}

test("filters by result, time and address from the form, in the URL, with an exact Number of Logs", async ({ browser }) => {
  const user = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(user, USERS.heidi.username, USERS.heidi.password);
  await signOut(user);
  for (let i = 0; i < 2; i++) await signInExpectingError(user, USERS.heidi.username, `wrong-${i}`, INVALID);

  const admin = await adminPage(browser);
  await admin.goto("/admin/account-logs");
  await admin.getByLabel("Search by username").fill('"heidi"');
  await showResultFilters(admin);
  await admin.getByRole("checkbox", { name: "login_failed_wrong_password" }).check();
  await admin.getByRole("button", { name: "Search" }).click();
  await expect(admin).toHaveURL(/[?&]q=%22heidi%22/);
  await expect(admin).toHaveURL(/[?&]result=login_failed_wrong_password/);
  expect(await numberOfLogs(admin)).toBe(2);
  await expect(admin.getByTestId("log-table").locator("tbody tr")).toHaveCount(2);
  await expect(admin.getByTestId("log-table").locator("tbody tr td:nth-child(4)")).toHaveText(Array(2).fill(/login_failed_wrong_password/));

  // Two results at once, then a quick time range keeps the rest of the search.
  await admin.getByRole("checkbox", { name: "login_successful" }).check();
  await admin.getByRole("button", { name: "Search" }).click();
  expect(await numberOfLogs(admin)).toBe(3);
  await admin.getByRole("link", { name: "Last hour" }).click();
  await expect(admin).toHaveURL(/[?&]from=/);
  expect(await numberOfLogs(admin)).toBe(3);

  // An address range that holds them, then one that does not.
  await admin.getByLabel("IP address or network").fill("127.0.0.0/8");
  await admin.getByRole("button", { name: "Search" }).click();
  await expect(admin).toHaveURL(/[?&]ip=127\.0\.0\.0%2F8/);
  expect(await numberOfLogs(admin)).toBe(3);
  await admin.getByLabel("IP address or network").fill("10.0.0.0/8");
  await admin.getByRole("button", { name: "Search" }).click();
  expect(await numberOfLogs(admin)).toBe(0);
  await expect(admin.getByTestId("no-results")).toContainText("No log entries match");

  // A time range in the future holds nothing; a bad value is reported, not an error page.
  await admin.goto("/admin/account-logs?q=%22heidi%22&from=2999-01-01T00:00:00Z");
  expect(await numberOfLogs(admin)).toBe(0);
  await admin.goto("/admin/account-logs?q=%22heidi%22&from=yesterday&ip=1.2.3&result=%3Cscript%3E");
  await expect(admin.getByTestId("query-problems").locator("li")).toHaveCount(3);
  expect(await numberOfLogs(admin)).toBeGreaterThanOrEqual(3);
});

test("the filters work without JavaScript, and times typed without an offset are read in the viewer's zone", async ({ browser }) => {
  // Signed in with JavaScript (the sign-in form needs it), then the same session without.
  const signedIn = await adminPage(browser);
  const noScript = await (await browser.newContext({ javaScriptEnabled: false, storageState: await signedIn.context().storageState() })).newPage();
  await noScript.goto("/admin/account-logs");
  await noScript.getByLabel("Search by username").fill(`"${ADMIN.username}"`);
  // A native disclosure: it unfolds without JavaScript.
  await showResultFilters(noScript);
  await noScript.getByRole("checkbox", { name: "login_successful" }).check();
  await noScript.getByRole("button", { name: "Search" }).click();
  await expect(noScript).toHaveURL(/result=login_successful/);
  expect(await numberOfLogs(noScript)).toBeGreaterThanOrEqual(1);
  await expect(noScript.getByText("Times are read and shown in UTC.")).toBeVisible();

  const kolkata = await adminPage(browser, { timezoneId: "Asia/Kolkata" });
  await kolkata.goto("/admin/account-logs");
  // Chromium names India's zone by its older name.
  await expect(kolkata.getByText(/^Times are read and shown in Asia\/(Kolkata|Calcutta)\.$/)).toBeVisible();
  await kolkata.getByLabel("From").fill("2026-01-01T05:30");
  await kolkata.getByRole("button", { name: "Search" }).click();
  await expect(kolkata).toHaveURL(/tz=Asia%2F(Kolkata|Calcutta)/);
  // 05:30 in Kolkata is midnight UTC; the box shows it back in Kolkata's time.
  await expect(kolkata.getByLabel("From")).toHaveValue("2026-01-01T05:30");
  const href = await kolkata.getByRole("link", { name: "Newest" }).getAttribute("href");
  expect(href).toContain("from=2026-01-01T00%3A00%3A00.000Z");
});

test("a username links to that account's log with its status: active, failures of 5, last success, role", async ({ browser }) => {
  const admin = await adminPage(browser);
  await admin.goto("/admin/account-logs?q=heidi");
  await admin.getByTestId("log-table").locator("tbody tr td:nth-child(2)").getByRole("link", { name: "heidi", exact: true }).first().click();
  await expect(admin).toHaveURL(/q=%22heidi%22/);
  const status = admin.getByTestId("account-status");
  await expect(status.getByTestId("account-status-state")).toHaveText("Active");
  await expect(status.getByTestId("account-status-failures")).toContainText("2 of 5");
  await expect(status.getByTestId("account-status-last-success")).toContainText("127.0.0.1");
  await expect(status.getByTestId("account-status-role")).toHaveText("user");
  // The exact view holds heidi's rows only.
  await expect(admin.getByTestId("log-table").locator("tbody tr td:nth-child(2) a")).toHaveText(Array(await admin.getByTestId("log-table").locator("tbody tr").count()).fill("heidi"));
});

test("a locked account shows why: its failures beside its recent sign-ins", async ({ browser }) => {
  const user = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(user, USERS.ivan.username, USERS.ivan.password);
  await signOut(user);
  for (let i = 0; i < 5; i++) await signInExpectingError(user, USERS.ivan.username, `typo-${i}`, INVALID);
  await signInExpectingError(user, USERS.ivan.username, "typo-5", "This account is locked. Contact an administrator.");

  const admin = await adminPage(browser);
  await admin.goto("/admin/account-logs");
  const panel = admin.locator("#locked-accounts");
  await panel.getByText("Why is ivan locked?").click();
  const evidence = panel.getByTestId(/^lock-evidence-/).filter({ hasText: "Why is ivan locked?" });
  await expect(evidence.getByTestId("lock-verdict")).toContainText("most likely a mistyped or forgotten password");
  await expect(evidence.locator("tbody tr")).toHaveCount(6);
  await expect(evidence.locator("tbody tr").first()).toContainText("127.0.0.1");
  await expect(admin.getByTestId("needs-attention")).toContainText(/accounts? (is|are) locked/);
});

test("Needs attention names password spraying, not an account's first sign-in, and links to its rows", async ({ browser, request }) => {
  const sprayed = Array.from({ length: 10 }, (_, i) => `spray-target-${i}`);
  for (const name of sprayed) await failSignIn(request, name);

  const admin = await adminPage(browser);
  await admin.goto("/admin/account-logs");
  const attention = admin.getByTestId("needs-attention");
  // Heidi has signed in from one address only: her first sign-in is not news. (A later sign-in
  // from another address is, as the integration tests show on both databases.)
  await expect(attention).toBeVisible();
  await expect(attention.getByTestId("attention-new-place").filter({ hasText: "heidi" })).toHaveCount(0);
  // Every test signs in from this address: across an hour boundary it sprays in two hours, each
  // listed; the busiest comes first.
  const spraying = attention.getByTestId("attention-spraying").filter({ hasText: "127.0.0.1" }).first();
  await expect(spraying).toContainText(/failed against \d+ usernames/);
  await spraying.getByRole("link", { name: "127.0.0.1" }).click();
  await expect(admin).toHaveURL(/ip=127\.0\.0\.1/);
  await expect(admin).toHaveURL(/result=login_failed_unknown_user/);
  expect(await numberOfLogs(admin)).toBeGreaterThanOrEqual(10);
  await expect(admin.getByTestId("log-table").locator("tbody").getByText("Password spraying").first()).toBeVisible();
});

test("an export started from another site is refused before anything is logged", async ({ browser }) => {
  const admin = await adminPage(browser);
  await admin.goto("/admin/account-logs?result=logs_exported");
  const before = await numberOfLogs(admin);
  const crossSite = await admin.request.get("/admin/account-logs/export?format=csv", { headers: { "sec-fetch-site": "cross-site" } });
  expect(crossSite.status()).toBe(403);
  expect((await crossSite.text()).trim()).toBe("Exports start from this site's own pages.");
  await admin.reload();
  expect(await numberOfLogs(admin)).toBe(before);
  const sameSite = await admin.request.get("/admin/account-logs/export?format=csv&result=logs_exported", { headers: { "sec-fetch-site": "same-origin" } });
  expect(sameSite.status()).toBe(200);
  await admin.reload();
  expect(await numberOfLogs(admin)).toBe(before + 1);
});
