import { expect, test } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { signInExpectingError, signInExpectingSuccess, signOut } from "./helpers";

test("an anonymous visitor is sent to the sign-in page", async ({ page }) => {
  await page.goto("/admin/account-logs");
  await expect(page).toHaveURL(/\/login\?callbackUrl=/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});

test("an admin signs in, sees the menu with Admin → Account Logs, and signs out", async ({ page }) => {
  await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
  const menuBar = page.getByRole("navigation", { name: "Menu bar" });
  await expect(menuBar.getByText("Account Logs", { exact: true }).first()).toBeVisible();
  const adminMenu = menuBar.locator("details", { has: page.locator("summary", { hasText: "Admin" }) });
  await adminMenu.locator("summary").click();
  await adminMenu.getByRole("link", { name: "Account Logs" }).click();
  await expect(page).toHaveURL(/\/admin\/account-logs$/);
  await expect(page.getByRole("heading", { name: "Account Logs" })).toBeVisible();
  await signOut(page);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
});

test("a user without the admin role sees no Admin menu and cannot open the page", async ({ page }) => {
  await signInExpectingSuccess(page, USERS.alice.username, USERS.alice.password);
  await expect(page.getByRole("navigation", { name: "Menu bar" }).locator("summary", { hasText: "Admin" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Account Logs" }).and(page.locator('[href="/admin/account-logs"]'))).toHaveCount(0);
  const response = await page.goto("/admin/account-logs");
  expect(response?.status()).toBe(403);
  await expect(page.getByText("This page is for administrators only.")).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
});

test("a wrong password shows an error and an empty form is refused the same way", async ({ page }) => {
  await signInExpectingError(page, USERS.alice.username, "not-her-password", "Invalid username or password.");
  await signInExpectingError(page, "", "", "Invalid username or password.");
  await signInExpectingError(page, "x".repeat(5000), "y", "Invalid username or password.");
});

test("the sign-in works whatever the case and width of the username", async ({ page }) => {
  await signInExpectingSuccess(page, " ＡＬＩＣＥ", USERS.alice.password, "alice");
});

test("without JavaScript the sign-in form says it needs it, and never puts the password in a URL", async ({ browser }) => {
  const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  const urls: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  await page.goto("/login");
  await expect(page.getByText("Signing in needs JavaScript turned on in your browser.")).toBeVisible();
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
  expect(urls.length).toBeGreaterThan(1);
  for (const url of urls) expect(url).not.toContain(encodeURIComponent(ADMIN.password));
  for (const url of urls) expect(url).not.toContain(ADMIN.password);
  await page.goto("/admin/account-logs");
  await expect(page).toHaveURL(/\/login/);
});
