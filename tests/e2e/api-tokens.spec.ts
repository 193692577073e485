import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN } from "./environment";
import { signInExpectingSuccess } from "./helpers";

async function openTokensFromMenu(admin: Page) {
  const menu = admin.getByRole("navigation", { name: "Menu bar" }).locator("details");
  await menu.locator("summary").click();
  await menu.getByRole("link", { name: "API tokens" }).click();
  await expect(admin).toHaveURL(/\/admin\/api-tokens$/);
  await expect(admin.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
}

test("an admin creates a token that is shown once and reads the log, then revokes it and the API refuses it", async ({ browser }) => {
  const admin = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await openTokensFromMenu(admin);

  const form = admin.getByRole("region", { name: "Create a token" });
  // A name is required; an expiry out of range is named on its field.
  await form.getByLabel("Name").fill("Elastic agent");
  await form.getByLabel("Expires after (days)").fill("99999");
  await form.getByLabel("Expires after (days)").evaluate((input: HTMLInputElement) => input.removeAttribute("max"));
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByRole("status")).toHaveText("Expiry is 1 to 3650 days, or empty for none.");
  await expect(form.getByLabel("Expires after (days)")).toHaveAttribute("aria-invalid", "true");

  await form.getByLabel("Name").fill("Elastic agent");
  await form.getByLabel("Expires after (days)").fill("90");
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByRole("status")).toHaveText("Created the token “Elastic agent”. Copy it now: it is shown this once.");
  const token = await form.getByTestId("new-token").inputValue();
  expect(token).toMatch(/^alog_[A-Za-z0-9_-]{43}$/);
  const { violations } = await new AxeBuilder({ page: admin }).withTags(["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"]).analyze();
  expect(violations.map((violation) => violation.id)).toEqual([]);

  const row = admin.locator("tbody tr", { hasText: "Elastic agent" });
  await expect(row).toContainText(`${token.slice(0, 9)}…`);
  await expect(row).toContainText("logs:read");
  await expect(row).toContainText(`by ${ADMIN.username}`);
  await expect(row).toContainText("Never");

  const api = await admin.context().request.get("/api/v1/account-logs?result=api_token_created", { headers: { authorization: `Bearer ${token}` } });
  expect(api.status()).toBe(200);
  const body = (await api.json()) as { data: { username: string; metadata: { actor?: { username: string } } }[] };
  expect(body.data.map((entry) => entry.username)).toContain("api-token:Elastic agent");
  expect(body.data.find((entry) => entry.username === "api-token:Elastic agent")!.metadata.actor?.username).toBe(ADMIN.username);

  // Reloaded, the page shows the token's hint and its use, never the token.
  await admin.reload();
  await expect(admin.getByTestId("new-token")).toHaveCount(0);
  expect(await admin.content()).not.toContain(token);
  await expect(row).toContainText(/from \d/);

  await row.getByRole("button", { name: "Revoke Elastic agent" }).click();
  await expect(admin.getByTestId("api-tokens").locator("..").locator("..").getByRole("status")).toHaveText(
    "Revoked “Elastic agent”. Requests with it are refused from now on.",
  );
  await expect(row).toContainText("Revoked");
  const refused = await admin.context().request.get("/api/v1/account-logs", { headers: { authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);

  // Both are in the log, on the Account Logs page.
  await admin.goto(`/admin/account-logs?q=${encodeURIComponent('"api-token:Elastic agent"')}`);
  await expect(admin.getByTestId("log-table").locator("tbody")).toContainText("api_token_revoked");
  await expect(admin.getByTestId("log-table").locator("tbody")).toContainText("api_token_created");
  await admin.context().close();
});
