import { expect, test, type Page } from "@playwright/test";
import { ADMIN } from "./environment";
import { signInExpectingSuccess } from "./helpers";

/** "2026-11-26 18:35:12": the UTC instant moved by a fixed offset, written as the page writes it. */
function shifted(iso: string, offsetMinutes: number): string {
  const moved = new Date(Date.parse(iso) + offsetMinutes * 60_000).toISOString();
  return `${moved.slice(0, 10)} ${moved.slice(11, 19)}`;
}

/** The newest row's time cell, after the admin's own sign-in made sure there is one. */
async function firstLogTime(page: Page) {
  await page.goto(`/admin/account-logs?q=${ADMIN.username}`);
  const time = page.getByTestId("log-table").locator("tbody tr td:nth-child(3) time").first();
  const iso = await time.getAttribute("datetime");
  expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  return { time, iso: iso! };
}

/** Hydration mismatches are reported on the console, also in a production build. */
function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

test.describe("in Kolkata, in English (India)", () => {
  test.use({ timezoneId: "Asia/Kolkata", locale: "en-IN" });

  test("times are shown in India Standard Time, named, with the exact instant and the zone on hover", async ({ page }) => {
    await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
    const errors = collectConsoleErrors(page);
    const { time, iso } = await firstLogTime(page);
    await expect(time).toHaveText(`${shifted(iso, 330)} IST`);
    // Chromium's ICU may still call the zone by its older name.
    await expect(time).toHaveAttribute("title", new RegExp(`^${iso.replace(/\./g, "\\.")} \\(UTC\\), shown in Asia/(Kolkata|Calcutta) time$`));
    expect(errors).toEqual([]);
  });
});

test.describe("in Kolkata, in English (US)", () => {
  test.use({ timezoneId: "Asia/Kolkata", locale: "en-US" });

  test("the zone is named by its offset where the language has no short name for it", async ({ page }) => {
    await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
    const { time, iso } = await firstLogTime(page);
    await expect(time).toHaveText(`${shifted(iso, 330)} GMT+5:30`);
  });
});

test.describe("in New York", () => {
  test.use({ timezoneId: "America/New_York", locale: "en-US" });

  test("times follow Eastern time, standard or daylight as the date has it", async ({ page }) => {
    await signInExpectingSuccess(page, ADMIN.username, ADMIN.password);
    const errors = collectConsoleErrors(page);
    const { time, iso } = await firstLogTime(page);
    await expect(time).toHaveText(new RegExp(`^(${shifted(iso, -300)} EST|${shifted(iso, -240)} EDT)$`));
    await expect(time).toHaveAttribute("title", `${iso} (UTC), shown in America/New_York time`);
    expect(errors).toEqual([]);
  });
});

test.describe("without JavaScript", () => {
  test.use({ timezoneId: "Asia/Kolkata", javaScriptEnabled: false });

  test("the server's UTC time stays, with the exact instant on hover", async ({ browser, page }) => {
    // Sign in with JavaScript (the form needs it), then read the page without.
    const signingIn = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
    await signInExpectingSuccess(signingIn, ADMIN.username, ADMIN.password);
    await page.context().addCookies(await signingIn.context().cookies());
    const { time, iso } = await firstLogTime(page);
    await expect(time).toHaveText(`${shifted(iso, 0)} UTC`);
    await expect(time).toHaveAttribute("title", iso);
  });
});
