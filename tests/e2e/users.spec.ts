import { expect, test, type Browser, type Locator, type Page } from "@playwright/test";
import { ADMIN } from "./environment";
import { signInExpectingError, signInExpectingSuccess } from "./helpers";
import { captureAction, replayHeaders } from "../support/actions";

const LOCKED = "This account is locked. Contact an administrator.";
const INVALID = "Invalid username or password.";
const SESSION_ENDED = "Your session has ended. Sign in again.";

// Accounts this spec creates through the page; no other spec uses these names.
const UMA = { username: "uma", first: "uma-password-first", second: "uma-password-second" };
const VICTOR = { username: "victor", password: "victor-password-1" };
const WENDY = { username: "wendy", password: "wendy-password-1" };

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

async function openUsersFromMenu(admin: Page) {
  const menu = admin.getByRole("navigation", { name: "Menu bar" }).locator("details");
  await menu.locator("summary").click();
  await menu.getByRole("link", { name: "Users" }).click();
  await expect(admin).toHaveURL(/\/admin\/users$/);
  await expect(admin.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
}

async function createUser(admin: Page, username: string, password: string) {
  const form = admin.getByRole("region", { name: "Create a user" });
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByRole("status")).toHaveText(`Created a user named ${username}.`);
}

/** The account's row, with its Manage disclosure open. */
async function manage(admin: Page, username: string): Promise<Locator> {
  const row = admin.locator(`tbody tr[data-username="${username}"]`);
  const details = row.locator("details");
  if ((await details.getAttribute("open")) === null) await details.locator("summary").click();
  return row;
}

async function expectSessionEnded(user: Page) {
  await user.reload();
  await expect(user).toHaveURL(/\/login\?error=SessionEnded/);
  await expect(user.locator("#login-error")).toHaveText(SESSION_ENDED);
}

function adminMenu(page: Page) {
  return page.getByRole("navigation", { name: "Menu bar" }).locator("summary", { hasText: "Admin" });
}

test("an admin manages an account from Admin → Users, and every action is in the log with the admin's name", async ({ browser }) => {
  const admin = await newPage(browser);
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await openUsersFromMenu(admin);

  // Create: the user appears, active with no failures, and can sign in elsewhere.
  await createUser(admin, UMA.username, UMA.first);
  const row = admin.locator(`tbody tr[data-username="${UMA.username}"]`);
  await expect(row.locator("td").nth(0)).toHaveText("user");
  await expect(row.locator("td").nth(1)).toHaveText("Active");
  await expect(row.locator("td").nth(2)).toHaveText("0 of 5");
  await expect(row.locator("td").nth(3)).toHaveText("Never");
  const uma = await newPage(browser);
  await signInExpectingSuccess(uma, UMA.username, UMA.first);
  await expect(adminMenu(uma)).toHaveCount(0);

  // Reset the password: the open session ends, the old password fails, the new one works.
  let panel = await manage(admin, UMA.username);
  await panel.getByLabel(`New password for ${UMA.username}`).fill(UMA.second);
  await panel.getByRole("button", { name: `Set password for ${UMA.username}` }).click();
  await expect(panel.getByRole("status")).toHaveText(`Set a new password for ${UMA.username}; their sessions have ended.`);
  await expectSessionEnded(uma);
  await signInExpectingError(uma, UMA.username, UMA.first, INVALID);
  await signInExpectingSuccess(uma, UMA.username, UMA.second);

  // Make admin: after signing in again the user has the Admin menu; then back to user.
  panel = await manage(admin, UMA.username);
  await panel.getByRole("button", { name: "Make admin" }).click();
  await expect(panel.getByRole("status")).toHaveText(`${UMA.username} is now an admin; their sessions have ended.`);
  await expect(row.locator("td").nth(0)).toHaveText("admin");
  await expectSessionEnded(uma);
  await signInExpectingSuccess(uma, UMA.username, UMA.second);
  await expect(adminMenu(uma)).toHaveCount(1);
  await panel.getByRole("button", { name: "Make user" }).click();
  await expect(panel.getByRole("status")).toHaveText(`${UMA.username} is now a user; their sessions have ended.`);
  await expectSessionEnded(uma);
  await signInExpectingSuccess(uma, UMA.username, UMA.second);
  await expect(adminMenu(uma)).toHaveCount(0);

  // Lock with a reason: the open session ends and sign-in is refused as locked.
  panel = await manage(admin, UMA.username);
  await panel.getByLabel(`Reason for locking ${UMA.username}`).fill("Laptop reported stolen");
  await panel.getByRole("button", { name: `Lock ${UMA.username}` }).click();
  await expect(panel.getByRole("status")).toHaveText(`Locked ${UMA.username}; their sessions have ended.`);
  await expect(row.locator("td").nth(1)).toContainText("Locked since");
  await expectSessionEnded(uma);
  await signInExpectingError(uma, UMA.username, UMA.second, LOCKED);

  // Unlock with a reason: the user signs in again.
  await panel.getByLabel(`Reason for unlocking ${UMA.username}`).fill("New laptop issued");
  await panel.getByRole("button", { name: `Unlock ${UMA.username}` }).click();
  await expect(panel.getByRole("status")).toHaveText(`Unlocked ${UMA.username}.`);
  await expect(row.locator("td").nth(1)).toHaveText("Active");
  await signInExpectingSuccess(uma, UMA.username, UMA.second);

  // The username opens that account's log: each admin action is a row naming the admin.
  await admin.reload();
  await admin.getByRole("link", { name: UMA.username, exact: true }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin/account-logs\\?q=%22${UMA.username}%22$`));
  const adminRows = admin.getByTestId("log-table").locator("tbody tr").filter({ has: admin.locator("td:nth-child(4) span", { hasText: /^(user_created|password_reset|role_changed|account_locked|account_unlocked)$/ }) });
  await expect(adminRows.locator("td:nth-child(4)")).toHaveText([
    "account_unlocked",
    "account_locked",
    "role_changed",
    "role_changed",
    "password_reset",
    "user_created",
  ]);
  for (const adminRow of await adminRows.all()) await expect(adminRow.locator("td:nth-child(6)")).toContainText(`By${ADMIN.username}`);
  await expect(adminRows.nth(0)).toContainText("New laptop issued");
  await expect(adminRows.nth(1)).toContainText("Laptop reported stolen");
  await expect(adminRows.nth(2)).toContainText("admin → user");
  await expect(adminRows.nth(3)).toContainText("user → admin");
  await expect(admin.getByTestId("log-table").locator("tbody")).not.toContainText(UMA.first);
  await expect(admin.getByTestId("log-table").locator("tbody")).not.toContainText(UMA.second);
});

test("a form error points at its field, and the filter narrows the list", async ({ browser }) => {
  const admin = await newPage(browser);
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/users");
  const form = admin.getByRole("region", { name: "Create a user" });
  // An existing name: the message is tied to the username field, which keeps what was typed.
  await form.getByLabel("Username").fill(ADMIN.username.toUpperCase());
  await form.getByLabel("Password").fill("long-enough-password");
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByRole("status")).toHaveText(`A user named "${ADMIN.username.toUpperCase()}" already exists.`);
  await expect(form.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByLabel("Username")).toHaveAccessibleDescription(`A user named "${ADMIN.username.toUpperCase()}" already exists.`);
  await expect(form.getByLabel("Username")).toHaveValue(ADMIN.username.toUpperCase());
  await expect(form.getByLabel("Password")).toHaveValue("");

  await admin.getByLabel("Filter by username").fill("ADM");
  await admin.getByRole("button", { name: "Filter" }).click();
  await expect(admin).toHaveURL(/\/admin\/users\?q=ADM$/);
  await expect(admin.locator("tbody tr")).toHaveCount(1);
  await expect(admin.locator("tbody tr th")).toContainText(ADMIN.username);
  await expect(admin.locator("tbody tr th")).toContainText("(you)");
  // An admin's own row has no Lock form.
  const own = await manage(admin, ADMIN.username);
  await expect(own.getByRole("button", { name: /^Lock/ })).toHaveCount(0);
});

test("the page works at 375 px wide: the table scrolls sideways inside the page", async ({ browser }) => {
  const admin = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage();
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/users");
  await expect(admin.getByRole("table")).toBeVisible();
  const pageWidth = await admin.evaluate(() => document.documentElement.scrollWidth);
  expect(pageWidth).toBeLessThanOrEqual(375);
  await expect(admin.getByRole("button", { name: "Create user" })).toBeInViewport();
});

test("a non-admin gets 403 on the page, and a replayed action is refused and logged", async ({ browser }) => {
  const admin = await newPage(browser);
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/users");
  await createUser(admin, VICTOR.username, VICTOR.password);

  const victor = await newPage(browser);
  await signInExpectingSuccess(victor, VICTOR.username, VICTOR.password);
  const response = await victor.goto("/admin/users");
  expect(response?.status()).toBe(403);
  await expect(victor.getByText("This page is for administrators only.")).toBeVisible();
  await expect(victor.getByRole("table")).toHaveCount(0);

  // Capture the admin's real "Make admin" request for victor without letting it reach the server.
  const panel = await manage(admin, VICTOR.username);
  const captured = await captureAction(admin, "**/admin/users**", () => panel.getByRole("button", { name: "Make admin" }).click());

  // Victor replays it to promote himself: refused, still a user, and the refusal is a row.
  const replayed = await victor.request.post("/admin/users", {
    headers: replayHeaders(captured, { origin: new URL(admin.url()).origin }),
    data: captured.body,
  });
  expect(await replayed.text()).toContain("Only administrators can manage users.");
  await admin.goto("/admin/users");
  await expect(admin.locator(`tbody tr[data-username="${VICTOR.username}"] td`).nth(0)).toHaveText("user");
  await admin.goto(`/admin/account-logs?q=${VICTOR.username}`);
  await expect(admin.getByTestId("log-table").locator("tbody tr").first().locator("td:nth-child(4)")).toHaveText("access_denied");
  await expect(admin.getByTestId("log-table").locator("tbody tr").first()).toContainText("change role action");
  await expect(admin.getByTestId("log-table").locator("tbody tr td:nth-child(4)")).not.toContainText(["role_changed"]);
});

test("the forms work without JavaScript", async ({ browser }) => {
  const signedIn = await newPage(browser);
  await signInExpectingSuccess(signedIn, ADMIN.username, ADMIN.password);
  const noScript = await (await browser.newContext({ javaScriptEnabled: false, storageState: await signedIn.context().storageState() })).newPage();
  await noScript.goto("/admin/users");
  await createUser(noScript, WENDY.username, WENDY.password);

  const panel = await manage(noScript, WENDY.username);
  await panel.getByLabel(`Reason for locking ${WENDY.username}`).fill("Left the company");
  await panel.getByRole("button", { name: `Lock ${WENDY.username}` }).click();
  const row = noScript.locator(`tbody tr[data-username="${WENDY.username}"]`);
  await expect(row.locator("td").nth(1)).toContainText("Locked since");
  await expect(row.getByRole("status")).toHaveText(`Locked ${WENDY.username}; their sessions have ended.`);
});
