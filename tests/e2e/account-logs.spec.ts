import { expect, test, type Browser, type Page } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { signInExpectingError, signInExpectingSuccess, signOut } from "./helpers";
import { captureAction, replayHeaders } from "../support/actions";

const LOCKED = "This account is locked. Contact an administrator.";
const INVALID = "Invalid username or password.";

async function adminPage(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
  return page;
}

async function numberOfLogs(page: Page): Promise<number> {
  const text = await page.getByTestId("number-of-logs").innerText();
  return Number(text.replace(/\D/g, ""));
}

async function searchFor(page: Page, term: string) {
  await page.getByLabel("Search by username").fill(term);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]q=${encodeURIComponent(term).replace(/%20/g, "\\+")}`));
}

function resultColumn(page: Page) {
  return page.getByTestId("log-table").locator("tbody tr td:nth-child(4)");
}

test("five wrong passwords then the right one signs in", async ({ page }) => {
  for (let i = 0; i < 5; i++) await signInExpectingError(page, USERS.bob.username, `wrong-${i}`, INVALID);
  await signInExpectingSuccess(page, USERS.bob.username, USERS.bob.password);
});

test("an unknown username is answered exactly like a wrong password, then like a locked account", async ({ page }) => {
  for (let i = 0; i < 5; i++) await signInExpectingError(page, "no-such-user", `wrong-${i}`, INVALID);
  await signInExpectingError(page, "no-such-user", "wrong-6", LOCKED);
});

test("locking an account ends its open sessions at their next request", async ({ browser, page }) => {
  await signInExpectingSuccess(page, USERS.frank.username, USERS.frank.password);
  const attacker = await (await browser.newContext()).newPage();
  for (let i = 0; i < 5; i++) await signInExpectingError(attacker, USERS.frank.username, `guess-${i}`, INVALID);
  await signInExpectingError(attacker, USERS.frank.username, "guess-6", LOCKED);
  await page.reload();
  await expect(page).toHaveURL(/\/login\?error=SessionEnded/);
  await expect(page.locator("#login-error")).toHaveText("Your session has ended. Sign in again.");
});

test("the how-to's steps: menu, Number of Logs, search, shared URL, six columns", async ({ browser }) => {
  const user = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(user, USERS.erin.username, USERS.erin.password);
  await signOut(user);

  const admin = await adminPage(browser);
  // Step 1-2: Menu Bar → Admin → Account Logs.
  const menu = admin.getByRole("navigation", { name: "Menu bar" }).locator("details");
  await menu.locator("summary").click();
  await menu.getByRole("link", { name: "Account Logs" }).click();
  await expect(admin.getByRole("heading", { name: "Account Logs" })).toBeVisible();

  // Step 3: the Number of Logs.
  const total = await numberOfLogs(admin);
  expect(total).toBeGreaterThan(2);

  // Step 4: search by username; only that user's rows, and the new count: her account's
  // creation (by user:create), her sign-in and her sign-out.
  await searchFor(admin, "ERIN");
  const rows = admin.getByTestId("log-table").locator("tbody tr");
  await expect(rows).toHaveCount(3);
  await expect(admin.getByTestId("log-table").locator("tbody tr td:nth-child(2)")).toHaveText(Array(3).fill(USERS.erin.username));
  expect(await numberOfLogs(admin)).toBe(3);
  await expect(resultColumn(admin)).toHaveText(["logout", /^login_successful/, "user_created"]);
  // Erin's very first sign-in has no history to differ from: no "New IP" mark.
  await expect(rows.nth(1).locator("td:nth-child(4)")).toHaveText(/^login_successful$/);

  // A copied link reproduces the view.
  const copied = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(copied, ADMIN.username, ADMIN.password);
  await copied.goto(admin.url());
  await expect(copied.getByTestId("log-table").locator("tbody tr td:nth-child(2)")).toHaveText(Array(3).fill(USERS.erin.username));
  await expect(copied.getByLabel("Search by username")).toHaveValue("ERIN");

  // Step 5: the six columns, the loopback IP and parsed metadata.
  await expect(admin.getByTestId("log-table").locator("thead th")).toHaveText(["ID", "Username", "Time", "Result", "IP Address", "Metadata"]);
  const first = rows.first();
  await expect(first.locator("td").nth(0)).toHaveText(/^\d+$/);
  await expect(first.locator("td").nth(2)).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+$/);
  await expect(first.locator("td").nth(4).getByTestId("ip-address")).toHaveText(/^(127\.0\.0\.1|::1)$/);
  await expect(first.locator("td").nth(5)).toContainText(/Chrom\w* \d+ · Linux/);
  await first.locator("td").nth(5).locator("summary").click();
  await expect(first.locator("td").nth(5)).toContainText("Mozilla/5.0");

  // Back returns to the unfiltered view.
  await admin.goBack();
  await expect(admin).toHaveURL(/\/admin\/account-logs$/);
  expect(await numberOfLogs(admin)).toBeGreaterThanOrEqual(total);
});

test("six wrong passwords lock the account; an admin unlocks it from the page; the user signs in", async ({ browser, page }) => {
  for (let i = 0; i < 5; i++) await signInExpectingError(page, USERS.carol.username, `wrong-${i}`, INVALID);
  await signInExpectingError(page, USERS.carol.username, "wrong-6", LOCKED);
  await signInExpectingError(page, USERS.carol.username, USERS.carol.password, LOCKED);

  const admin = await adminPage(browser);
  await admin.goto(`/admin/account-logs?q=${USERS.carol.username}`);
  const panel = admin.getByRole("region", { name: /Locked accounts/ });
  await expect(panel).toContainText(USERS.carol.username);
  await expect(panel).toContainText("after 6 consecutive wrong passwords");
  await expect(resultColumn(admin).first()).toHaveText("login_failed_account_locked");
  await expect(resultColumn(admin)).toContainText(["account_locked"]);

  // The reason is required: without one the browser does not send the form.
  await panel.getByRole("button", { name: `Unlock ${USERS.carol.username}` }).click();
  await expect(panel.getByLabel(`Reason for unlocking ${USERS.carol.username}`)).toBeFocused();
  await panel.getByLabel(`Reason for unlocking ${USERS.carol.username}`).fill("Carol called the help desk");
  await panel.getByRole("button", { name: `Unlock ${USERS.carol.username}` }).click();
  await expect(admin.getByTestId("unlock-notice")).toHaveText(`Unlocked ${USERS.carol.username}.`);
  await admin.reload();
  await expect(admin.getByRole("region", { name: /Locked accounts/ })).not.toContainText(USERS.carol.username);
  await expect(resultColumn(admin).first()).toHaveText("account_unlocked");
  await expect(admin.getByTestId("log-table").locator("tbody tr").first()).toContainText(ADMIN.username);
  await expect(admin.getByTestId("log-table").locator("tbody tr").first()).toContainText("Carol called the help desk");

  await signInExpectingSuccess(page, USERS.carol.username, USERS.carol.password);
});

test("the unlock action refuses non-admins and foreign origins, even replayed with a captured id and body", async ({ browser, page }) => {
  for (let i = 0; i < 5; i++) await signInExpectingError(page, USERS.dave.username, `wrong-${i}`, INVALID);
  await signInExpectingError(page, USERS.dave.username, "wrong-6", LOCKED);

  // Capture the admin's real Unlock request without letting it reach the server.
  const admin = await adminPage(browser);
  await admin.goto("/admin/account-logs");
  const davePanel = admin.getByRole("region", { name: /Locked accounts/ });
  await davePanel.getByLabel(`Reason for unlocking ${USERS.dave.username}`).fill("Dave asked by email");
  const captured = await captureAction(admin, "**/admin/account-logs**", () =>
    davePanel.getByRole("button", { name: `Unlock ${USERS.dave.username}` }).click(),
  );
  const origin = new URL(admin.url()).origin;
  const replay = (from: Page, headers: Record<string, string>) =>
    from.request.post("/admin/account-logs", { headers: replayHeaders(captured, headers), data: captured.body });
  const stillLocked = async () => {
    await admin.reload();
    return (await admin.getByRole("region", { name: /Locked accounts/ }).innerText()).includes(USERS.dave.username);
  };

  const alice = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(alice, USERS.alice.username, USERS.alice.password);
  expect(await (await replay(alice, { origin })).text()).toContain("Only administrators can unlock accounts.");
  expect(await stillLocked()).toBe(true);

  for (const foreign of ["https://evil.example", "null"]) {
    const refused = await replay(admin, { origin: foreign });
    expect(await refused.text()).not.toContain("Unlocked");
    expect(await stillLocked()).toBe(true);
  }

  // The same replay from the admin, on this origin, does unlock: the refusals above were real.
  expect(await (await replay(admin, { origin })).text()).toContain(`Unlocked ${USERS.dave.username}.`);
  expect(await stillLocked()).toBe(false);
});

test("markup in a username or user agent is shown as text and never runs", async ({ browser }) => {
  const attacker = await (await browser.newContext({ userAgent: "<img src=x onerror=alert(2)>" })).newPage();
  const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';
  await signInExpectingError(attacker, hostile, "whatever", INVALID);

  const admin = await adminPage(browser);
  let dialogs = 0;
  admin.on("dialog", (dialog) => {
    dialogs++;
    void dialog.dismiss();
  });
  await admin.goto(`/admin/account-logs?q=${encodeURIComponent("<script>")}`);
  await expect(admin.getByTestId("log-table").locator("tbody tr td:nth-child(2)").first()).toHaveText(hostile);
  await admin.getByTestId("log-table").locator("tbody tr td:nth-child(6) summary").first().click();
  await expect(admin.getByTestId("log-table").locator("tbody tr td:nth-child(6)").first()).toContainText("<img src=x onerror=alert(2)>");
  expect(await admin.locator("img[src=x]").count()).toBe(0);
  expect(dialogs).toBe(0);
});

test("odd search parameters give a page with a note, never an error", async ({ browser }) => {
  const admin = await adminPage(browser);
  const response = await admin.goto(`/admin/account-logs?size=9999&before=abc&q=${"%25_%5C".repeat(200)}`);
  expect(response?.status()).toBe(200);
  await expect(admin.getByTestId("query-problems")).toContainText("Page size must be");
  await expect(admin.getByTestId("query-problems")).toContainText("shortened");
  await admin.goto(`/admin/account-logs?q=${encodeURIComponent("%_\\")}`);
  await expect(admin.getByTestId("no-results")).toContainText("No log entries match");
  expect(await numberOfLogs(admin)).toBe(0);
});
