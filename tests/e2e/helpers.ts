import { expect, type APIRequestContext, type Page } from "@playwright/test";

export async function signIn(page: Page, username: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signInExpectingSuccess(page: Page, username: string, password: string, shownAs = username) {
  await signIn(page, username, password);
  await expect(page.getByTestId("current-username")).toHaveText(shownAs);
}

export async function signInExpectingError(page: Page, username: string, password: string, message: string) {
  await signIn(page, username, password);
  await expect(page.locator("#login-error")).toHaveText(message);
  await expect(page).toHaveURL(/\/login/);
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Unfolds the search form's result checkboxes (folded while no result is chosen). */
export async function showResultFilters(page: Page) {
  const filters = page.getByTestId("result-filters");
  if ((await filters.getAttribute("open")) === null) await filters.locator("summary").click();
}

/** A failed sign-in over HTTP, as a script would make it: quicker than the form for many names. */
export async function failSignIn(request: APIRequestContext, username: string) {
  const { csrfToken } = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const response = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, username, password: "not-the-password", json: "true" },
    maxRedirects: 0,
  });
  expect(response.status()).toBeLessThan(500);
}
