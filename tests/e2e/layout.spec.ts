import { expect, test } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { failSignIn, signInExpectingSuccess } from "./helpers";

/** The log first: what the how-to's steps 3 to 5 look at is on screen as the page opens. */

test("at 1366×768 the search, the Number of Logs and the first rows show without scrolling, beside a busy side column", async ({ browser, request }) => {
  // A realistic log: a locked account, and an address failing against many usernames.
  for (let i = 0; i < 10; i++) await failSignIn(request, `layout-sprayed-${i}`);
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const admin = await context.newPage();
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto(`/admin/users?q=${USERS.olga.username}`);
  const row = admin.locator(`tbody tr[data-username="${USERS.olga.username}"]`);
  await row.locator("details > summary").click();
  await row.getByLabel(`Reason for locking ${USERS.olga.username}`).fill("Layout check");
  await row.getByRole("button", { name: `Lock ${USERS.olga.username}` }).click();
  await expect(row.locator("td").nth(1)).toContainText("Locked since");

  await admin.goto("/admin/account-logs");
  const side = admin.getByRole("complementary", { name: /Needs attention/ });
  await expect(side.getByTestId("needs-attention").getByTestId("attention-spraying").first()).toBeVisible();
  await expect(side.getByRole("region", { name: /Locked accounts/ })).toContainText(USERS.olga.username);

  expect(await admin.evaluate(() => window.scrollY)).toBe(0);
  await expect(admin.getByLabel("Search by username")).toBeInViewport({ ratio: 1 });
  await expect(admin.getByTestId("number-of-logs")).toBeInViewport({ ratio: 1 });
  const rows = admin.getByTestId("log-table").locator("tbody tr");
  await expect(rows.nth(2)).toBeVisible();
  for (let i = 0; i < 3; i++) await expect(rows.nth(i), `row ${i + 1}`).toBeInViewport({ ratio: 1 });
  await context.close();
});
