import { expect, test, type Browser, type Page } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { signInExpectingSuccess } from "./helpers";

// No other spec uses these accounts.
const MIA = USERS.mia;
const NOAH = USERS.noah;
const SESSION_ENDED = "Your session has ended. Sign in again.";

async function signedInPage(browser: Browser, user: { username: string; password: string }): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(page, user.username, user.password);
  return page;
}

async function expectSessionEnded(page: Page) {
  await page.reload();
  await expect(page).toHaveURL(/\/login\?error=SessionEnded/);
  await expect(page.locator("#login-error")).toHaveText(SESSION_ENDED);
}

test("an admin sees an account's active session on Users and ends it with a reason; the cookie stops working at once", async ({ browser }) => {
  const mia = await signedInPage(browser, MIA);
  const admin = await signedInPage(browser, ADMIN);
  await admin.goto("/admin/users");
  const row = admin.locator(`tbody tr[data-username="${MIA.username}"]`);
  await expect(row.getByTestId("session-count")).toHaveText("1 active");
  await row.locator("details > summary").click();
  const sessions = row.getByTestId("active-sessions").locator("li");
  await expect(sessions).toHaveCount(1);
  await expect(sessions.first()).toContainText(/Chrom(e|ium) \d+ · Linux/);
  await expect(sessions.first()).toContainText("127.0.0.1");
  await expect(sessions.first()).toContainText("Signed in");
  await expect(sessions.first()).toContainText("Expires");

  // The reason is required, as for a lock.
  const end = sessions.first().getByRole("button", { name: /^End session/ });
  await end.click();
  expect(await sessions.first().getByLabel(/^Reason/).evaluate((input: HTMLInputElement) => input.validity.valueMissing)).toBe(true);
  await sessions.first().getByLabel(/^Reason/).fill("laptop reported stolen");
  await end.click();
  await expect(row.getByRole("status")).toHaveText(`Ended 1 session of ${MIA.username}.`);
  await expect(row.getByTestId("session-count")).toHaveText("None");

  await expectSessionEnded(mia);

  // The log has it, naming the admin and the reason.
  await admin.goto(`/admin/account-logs?q=${encodeURIComponent(`"${MIA.username}"`)}&result=session_revoked`);
  const logRow = admin.getByTestId("log-table").locator("tbody tr").first();
  await expect(logRow).toContainText("session_revoked");
  await logRow.locator("summary").first().click();
  await expect(logRow).toContainText("laptop reported stolen");
  await expect(logRow).toContainText(ADMIN.username);
  await admin.context().close();
  await mia.context().close();
});

test("a user sees Your sessions, marked this session, and ends another of their sessions, then all the others", async ({ browser }) => {
  const here = await signedInPage(browser, NOAH);
  const elsewhere = await signedInPage(browser, NOAH);

  await here.getByRole("navigation", { name: "Menu bar" }).getByRole("link", { name: "Your sessions" }).click();
  await expect(here).toHaveURL(/\/account\/sessions$/);
  await expect(here.getByRole("heading", { name: "Your sessions", level: 1 })).toBeVisible();
  const list = here.getByTestId("own-sessions").locator("li");
  await expect(list).toHaveCount(2);
  const current = here.locator('[data-testid="own-sessions"] li[data-current="true"]');
  await expect(current).toContainText("This session");
  await expect(current.getByRole("button", { name: /^End session/ })).toHaveCount(0);

  const other = here.locator('[data-testid="own-sessions"] li:not([data-current])');
  await other.getByRole("button", { name: /^End session/ }).click();
  await expect(here.getByRole("status").filter({ hasText: "Ended" })).toHaveText("Ended that session.");
  await expect(list).toHaveCount(1);
  await expectSessionEnded(elsewhere);

  // This one still works; another sign-in elsewhere, then End all other sessions.
  const third = await signedInPage(browser, NOAH);
  await here.reload();
  await expect(list).toHaveCount(2);
  await here.getByRole("button", { name: /^End all other sessions/ }).click();
  await expect(here.getByRole("status").filter({ hasText: "Ended" })).toHaveText("Ended 1 other session.");
  await expect(list).toHaveCount(1);
  await expectSessionEnded(third);
  await here.reload();
  await expect(here.getByTestId("current-username")).toHaveText(NOAH.username);
  for (const page of [here, elsewhere, third]) await page.context().close();
});
