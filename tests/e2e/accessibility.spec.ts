import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Browser, type Locator, type Page } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { showResultFilters, signInExpectingSuccess } from "./helpers";

// kate stays locked for the scans; leo is locked, then unlocked from the keyboard. No other
// spec uses these names, nor the account the keyboard flow creates.
const KATE = USERS.kate;
const LEO = USERS.leo;
const NORA = { username: "nora", password: "nora-password-from-keys" };

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };
const WIDTHS = [
  ["desktop", DESKTOP],
  ["375 px", PHONE],
] as const;
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

type AxeResults = Awaited<ReturnType<AxeBuilder["analyze"]>>;

/** One line per violation and one per element, so a failure says what to fix and where. */
function describeViolations(violations: AxeResults["violations"]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .slice(0, 8)
        .map((node) => `    at ${node.target.join(" ")}: ${node.failureSummary?.split("\n").slice(1).join(" ").trim() ?? ""}`);
      const more = violation.nodes.length > 8 ? [`    … and ${violation.nodes.length - 8} more`] : [];
      return [`  [${violation.impact ?? "?"}] ${violation.id}: ${violation.help} (${violation.helpUrl})`, ...nodes, ...more].join("\n");
    })
    .join("\n");
}

/** Soft, so one run reports every page and width that fails. */
async function expectNoAxeViolations(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  expect.soft(violations.length, `axe violations on ${what} (${page.url()}):\n${describeViolations(violations)}`).toBe(0);
}

/** A sign-in over HTTP, as a script would make it: quicker than the form for many attempts. */
async function postSignIn(request: APIRequestContext, username: string, password: string) {
  const { csrfToken } = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const response = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, username, password, json: "true" },
    maxRedirects: 0,
  });
  expect(response.status()).toBeLessThan(500);
}

/** A successful sign-in (so the lock has history to compare), then wrong passwords until it locks. */
async function lockWithHistory(request: APIRequestContext, user: { username: string; password: string }) {
  await postSignIn(request, user.username, user.password);
  for (let i = 0; i < 6; i++) await postSignIn(request, user.username, `not-the-password-${i}`);
}

async function adminPage(browser: Browser, viewport: { width: number; height: number } = DESKTOP): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
  return page;
}

async function openDisclosure(summary: Locator) {
  const details = summary.locator("xpath=..");
  if ((await details.getAttribute("open")) === null) await summary.click();
  await expect(details).toHaveAttribute("open", "");
}

const dayAgo = () => new Date(Date.now() - 86_400_000).toISOString();

async function expectNoHorizontalOverflow(page: Page, what: string) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth, `${what} is wider than the ${innerWidth} px window`).toBeLessThanOrEqual(innerWidth);
}

test.beforeAll(async ({ playwright }, testInfo) => {
  const request = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  await lockWithHistory(request, KATE);
  await lockWithHistory(request, LEO);
  await request.dispose();
});

for (const [name, viewport] of WIDTHS) {
  test(`axe finds nothing on the login page, also with an error shown, at ${name}`, async ({ browser }) => {
    const page = await (await browser.newContext({ viewport })).newPage();
    await page.goto("/login");
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
    await expectNoAxeViolations(page, `login, ${name}`);

    await page.getByLabel("Username").fill(KATE.username);
    await page.getByLabel("Password").fill("still-not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator("#login-error")).not.toBeEmpty();
    await expectNoAxeViolations(page, `login with an error, ${name}`);
    await page.context().close();
  });

  test(`axe finds nothing on Account Logs with a lock explained, the chart data open, filters and one account, at ${name}`, async ({ browser }) => {
    // Three scans of the largest page.
    test.slow();
    const admin = await adminPage(browser, viewport);

    await admin.goto("/admin/account-logs");
    await expect(admin.getByTestId("needs-attention")).toContainText(/accounts? (is|are) locked/);
    await openDisclosure(admin.locator("#locked-accounts summary", { hasText: `Why is ${KATE.username} locked?` }));
    await openDisclosure(admin.getByTestId("activity-chart").locator("summary", { hasText: "Chart data" }));
    await openDisclosure(admin.getByTestId("log-table").locator("tbody summary").first());
    await expectNoAxeViolations(admin, `Account Logs, ${name}`);

    await admin.goto(`/admin/account-logs?result=login_successful&result=logout&from=${encodeURIComponent(dayAgo())}`);
    await expect(admin.getByTestId("log-table")).toBeVisible();
    await openDisclosure(admin.getByTestId("activity-chart").locator("summary", { hasText: "Chart data" }));
    await expectNoAxeViolations(admin, `Account Logs with filters, ${name}`);

    await admin.goto(`/admin/account-logs?q=${encodeURIComponent(`"${KATE.username}"`)}`);
    await expect(admin.getByTestId("account-status-state")).toContainText("Locked since");
    await openDisclosure(admin.locator("#locked-accounts summary", { hasText: `Why is ${KATE.username} locked?` }));
    await openDisclosure(admin.getByTestId("activity-chart").locator("summary", { hasText: "Chart data" }));
    await expectNoAxeViolations(admin, `Account Logs for one account, ${name}`);
    await admin.context().close();
  });

  test(`axe finds nothing on Admin → Users, with a form error and an account's actions open, at ${name}`, async ({ browser }) => {
    const admin = await adminPage(browser, viewport);
    await admin.goto("/admin/users");
    const form = admin.getByRole("region", { name: "Create a user" });
    await form.getByLabel("Username").fill(ADMIN.username);
    await form.getByLabel("Password").fill("long-enough-password");
    await form.getByRole("button", { name: "Create user" }).click();
    await expect(form.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
    await openDisclosure(admin.locator(`tbody tr[data-username="${KATE.username}"] summary`));
    // The admin's own account has active sessions, each with its End session form.
    await openDisclosure(admin.locator(`tbody tr[data-username="${ADMIN.username}"] summary`));
    await expect(admin.locator(`tbody tr[data-username="${ADMIN.username}"]`).getByTestId("active-sessions")).toBeVisible();
    await expectNoAxeViolations(admin, `Users with a form error, ${name}`);
    await admin.context().close();
  });

  test(`axe finds nothing on Your sessions, with this session and another, at ${name}`, async ({ browser }) => {
    const other = await adminPage(browser, viewport);
    const admin = await adminPage(browser, viewport);
    await admin.goto("/account/sessions");
    await expect(admin.locator('[data-testid="own-sessions"] li[data-current="true"]')).toBeVisible();
    await expect(admin.locator('[data-testid="own-sessions"] li:not([data-current])').first()).toBeVisible();
    await expectNoAxeViolations(admin, `Your sessions, ${name}`);
    await expectNoHorizontalOverflow(admin, `Your sessions, ${name}`);
    await other.context().close();
    await admin.context().close();
  });
}

/** Presses the key until the element has focus; only the keyboard moves it. */
async function pressUntilFocused(page: Page, key: "Tab" | "Shift+Tab", target: Locator, limit = 250) {
  for (let presses = 0; presses < limit; presses++) {
    await page.keyboard.press(key);
    if (await target.evaluate((element) => element === document.activeElement)) return;
  }
  throw new Error(`${limit} presses of ${key} never reached ${target}`);
}

/** The focused element shows it: an outline or a ring, from :focus-visible. */
async function expectFocusVisible(page: Page, what: string) {
  const focus = await page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return undefined;
    const style = getComputedStyle(element);
    return {
      focusVisible: element.matches(":focus-visible"),
      outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
      ring: style.boxShadow !== "none",
      element: `${element.tagName.toLowerCase()} ${element.textContent?.trim().slice(0, 40) ?? ""}`,
    };
  });
  expect(focus, `focus on ${what}`).toBeDefined();
  expect(focus!.focusVisible, `${focus!.element} matches :focus-visible`).toBe(true);
  expect(focus!.outline || focus!.ring, `${focus!.element} shows an outline or a ring when focused`).toBe(true);
}

test("the whole flow works from the keyboard: sign in, search, one account, unlock, create a user", async ({ browser }) => {
  // Hundreds of key presses, each followed by a look at the focused element.
  test.slow();
  const context = await browser.newContext({ viewport: DESKTOP });
  // Any pointer press would be a step the keyboard could not do.
  const pointerPresses: string[] = [];
  await context.exposeFunction("reportPointerPress", (target: string) => pointerPresses.push(target));
  await context.addInitScript(() => {
    window.addEventListener("pointerdown", (event) => (window as unknown as { reportPointerPress(t: string): void }).reportPointerPress(String((event.target as Element)?.tagName)), true);
  });
  const page = await context.newPage();
  const keys = page.keyboard;

  // Sign in.
  await page.goto("/login");
  await pressUntilFocused(page, "Tab", page.getByLabel("Username"));
  await expectFocusVisible(page, "the username field");
  await keys.type(ADMIN.username);
  await keys.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await keys.type(ADMIN.password);
  await keys.press("Tab");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeFocused();
  await expectFocusVisible(page, "the Sign in button");
  await keys.press("Enter");
  await expect(page.getByTestId("current-username")).toHaveText(ADMIN.username);

  // The menu bar's Admin menu, then Account Logs.
  const menuBar = page.getByRole("navigation", { name: "Menu bar" });
  const adminMenu = menuBar.locator("summary", { hasText: "Admin" });
  await pressUntilFocused(page, "Tab", adminMenu);
  await expectFocusVisible(page, "the Admin menu");
  await keys.press("Enter");
  await expect(adminMenu.locator("xpath=..")).toHaveAttribute("open", "");
  // Escape closes it again and leaves focus on "Admin".
  await keys.press("Escape");
  await expect(adminMenu.locator("xpath=..")).not.toHaveAttribute("open");
  await expect(adminMenu).toBeFocused();
  await keys.press("Space");
  await expect(adminMenu.locator("xpath=..")).toHaveAttribute("open", "");
  await keys.press("Tab");
  await expect(menuBar.locator("details").getByRole("link", { name: "Account Logs" })).toBeFocused();
  await expectFocusVisible(page, "the Account Logs menu item");
  await keys.press("Enter");
  await expect(page).toHaveURL(/\/admin\/account-logs$/);
  await expect(page.getByRole("heading", { name: "Account Logs", level: 1 })).toBeVisible();
  // The menu closes once it has done its job, instead of covering the page.
  await expect(adminMenu.locator("xpath=..")).not.toHaveAttribute("open");

  // Search, tick a result, submit.
  await pressUntilFocused(page, "Tab", page.getByLabel("Search by username"));
  await expectFocusVisible(page, "the search field");
  await keys.type(LEO.username);
  // The result checkboxes are folded while none is chosen: unfold them from the keyboard.
  const resultFilters = page.getByTestId("result-filters").locator("summary");
  await pressUntilFocused(page, "Tab", resultFilters);
  await expectFocusVisible(page, "the result filters");
  await keys.press("Enter");
  await expect(page.getByTestId("result-filters")).toHaveAttribute("open", "");
  const wrongPassword = page.getByRole("checkbox", { name: "login_failed_wrong_password" });
  await pressUntilFocused(page, "Tab", wrongPassword);
  await expectFocusVisible(page, "a result checkbox");
  await keys.press("Space");
  await expect(wrongPassword).toBeChecked();
  await pressUntilFocused(page, "Tab", page.getByRole("button", { name: "Search" }));
  await expectFocusVisible(page, "the Search button");
  await keys.press("Enter");
  await expect(page).toHaveURL(/[?&]q=leo(&|$)/);
  await expect(page).toHaveURL(/[?&]result=login_failed_wrong_password/);

  // Follow a username to that account's view.
  const usernameLink = page.getByTestId("log-table").locator("tbody tr").first().getByRole("link", { name: LEO.username, exact: true });
  await pressUntilFocused(page, "Tab", usernameLink);
  await expectFocusVisible(page, "a username link");
  await keys.press("Enter");
  await expect(page).toHaveURL(/[?&]q=%22leo%22/);
  await expect(page.getByTestId("account-status-state")).toContainText("Locked since");

  // Why is leo locked? Then unlock with a reason.
  const lockedItem = page.locator("#locked-accounts li").filter({ hasText: `Why is ${LEO.username} locked?` });
  const why = lockedItem.locator("summary");
  await pressUntilFocused(page, "Tab", why);
  await expectFocusVisible(page, `"Why is ${LEO.username} locked?"`);
  await keys.press("Enter");
  await expect(lockedItem.getByTestId("lock-verdict")).toBeVisible();
  await pressUntilFocused(page, "Shift+Tab", lockedItem.getByLabel(`Reason for unlocking ${LEO.username}`));
  await expectFocusVisible(page, "the unlock reason");
  await keys.type("Confirmed by phone; typed an old password");
  await keys.press("Enter");
  await expect(page.getByTestId("unlock-notice")).toHaveText(`Unlocked ${LEO.username}.`);
  await expect(page.getByTestId("account-status-state")).toHaveText("Active");

  // Admin → Users, and create a user.
  await pressUntilFocused(page, "Shift+Tab", adminMenu);
  await keys.press("Enter");
  await pressUntilFocused(page, "Tab", menuBar.locator("details").getByRole("link", { name: "Users" }));
  await keys.press("Enter");
  await expect(page).toHaveURL(/\/admin\/users$/);
  const createForm = page.getByRole("region", { name: "Create a user" });
  await pressUntilFocused(page, "Tab", createForm.getByLabel("Username"));
  await keys.type(NORA.username);
  await keys.press("Tab");
  await expect(createForm.getByLabel("Password")).toBeFocused();
  await keys.type(NORA.password);
  await pressUntilFocused(page, "Tab", createForm.getByRole("button", { name: "Create user" }));
  await expectFocusVisible(page, "the Create user button");
  await keys.press("Enter");
  await expect(createForm.getByRole("status")).toHaveText(`Created a user named ${NORA.username}.`);
  await expect(page.locator(`tbody tr[data-username="${NORA.username}"]`)).toBeVisible();

  expect(pointerPresses, "pointer presses during the keyboard flow").toEqual([]);
});

test("Account Logs and Users fit a 375 px screen: no sideways page scroll, and the controls work", async ({ browser }) => {
  const admin = await adminPage(browser, PHONE);

  await admin.goto("/admin/account-logs");
  await expect(admin.getByTestId("needs-attention")).toBeVisible();
  await expectNoHorizontalOverflow(admin, "Account Logs");
  const search = admin.getByRole("search");
  await expect(search).toBeVisible();
  await expect(admin.getByTestId("activity-chart")).toBeVisible();
  await expect(admin.getByRole("navigation", { name: "Pages" })).toBeVisible();
  for (const region of [search, admin.getByTestId("needs-attention"), admin.getByTestId("activity-chart"), admin.getByRole("navigation", { name: "Pages" })]) {
    const box = (await region.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
  }
  // Everything opened: the lock's evidence, the chart's numbers, a row's metadata.
  await openDisclosure(admin.locator("#locked-accounts summary", { hasText: `Why is ${KATE.username} locked?` }));
  await openDisclosure(admin.getByTestId("activity-chart").locator("summary", { hasText: "Chart data" }));
  await openDisclosure(admin.getByTestId("log-table").locator("tbody summary").first());
  await expectNoHorizontalOverflow(admin, "Account Logs with its details open");

  // The search form and the pager work at this width.
  await admin.getByLabel("Search by username").fill(KATE.username);
  await showResultFilters(admin);
  await admin.getByRole("checkbox", { name: "login_failed_wrong_password" }).check();
  await admin.getByRole("button", { name: "Search" }).click();
  await expect(admin).toHaveURL(/[?&]q=kate&.*result=login_failed_wrong_password/);
  await expect(admin.getByTestId("log-table").locator("tbody tr").first()).toBeVisible();
  await expectNoHorizontalOverflow(admin, "Account Logs after a search");
  await admin.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Newest" }).click();
  await expect(admin).toHaveURL(/[?&]q=kate/);

  await admin.goto(`/admin/account-logs?q=${encodeURIComponent(`"${KATE.username}"`)}`);
  await expect(admin.getByTestId("account-status")).toBeVisible();
  await expectNoHorizontalOverflow(admin, "one account's Account Logs");

  await admin.goto("/admin/users");
  await expect(admin.getByRole("table")).toBeVisible();
  await expectNoHorizontalOverflow(admin, "Users");
  await openDisclosure(admin.locator(`tbody tr[data-username="${KATE.username}"] summary`));
  await expectNoHorizontalOverflow(admin, "Users with an account's actions open");
  await openDisclosure(admin.locator(`tbody tr[data-username="${ADMIN.username}"] summary`));
  await expectNoHorizontalOverflow(admin, "Users with an account's sessions open");
});
