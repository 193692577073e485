import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { ADMIN, USERS } from "./environment";
import { signInExpectingError, signInExpectingSuccess } from "./helpers";

/** The offline check of `npm run audit:verify -- --export FILE --offline`, as an auditor runs it. */
function checkExportFile(file: string) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/audit-verify.ts", "--export", file, "--offline"], {
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: "" },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test("an admin exports the current search as CSV and JSON; the files carry the chain and check offline", async ({ browser }, testInfo) => {
  const user = await (await browser.newContext()).newPage();
  await signInExpectingError(user, USERS.grace.username, "wrong-password", "Invalid username or password.");
  await signInExpectingSuccess(user, USERS.grace.username, USERS.grace.password);

  const admin = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/account-logs?q=grace");
  await expect(admin.getByTestId("chain-status")).toContainText(/Sealed up to seq \d+/);

  for (const [label, extension] of [["Export CSV", "csv"], ["Export JSON", "ndjson"]] as const) {
    const downloading = admin.waitForEvent("download");
    await admin.getByRole("link", { name: label }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(new RegExp(`^account-logs-.*-head-\\d+\\.${extension}$`));
    const file = testInfo.outputPath(`grace.${extension}`);
    await download.saveAs(file);
    const text = fs.readFileSync(file, "utf8");
    // Only grace's rows (the sign-in page's session check may add more of hers), newest first,
    // back to her account's creation by user:create.
    const results = extension === "csv"
      ? text.split("\r\n").slice(1, -2).map((line) => line.split(",")[3])
      : text.trim().split("\n").slice(0, -1).map((line) => JSON.parse(line).result);
    expect(results.slice(-3)).toEqual(["login_successful", "login_failed_wrong_password", "user_created"]);
    expect(text).not.toContain("admin-password");
    const check = checkExportFile(file);
    expect(check.output).toMatch(/Export verified: \d+ rows match their hashes/);
    expect(check.status).toBe(0);

    // One edited cell, and the same check fails.
    const edited = testInfo.outputPath(`grace-edited.${extension}`);
    fs.writeFileSync(edited, text.replace("login_failed_wrong_password", "login_successful"));
    const failed = checkExportFile(edited);
    expect(failed.output).toMatch(/Export NOT verified: Row ID \d+ does not match its hash/);
    expect(failed.status).toBe(1);
  }

  // Each export is an admin action in the log, with its format and filter.
  await admin.goto("/admin/account-logs?q=admin");
  const exportRows = admin.getByTestId("log-table").locator("tbody tr", { hasText: "logs_exported" });
  await expect(exportRows).toHaveCount(2);
  await exportRows.first().locator("summary").click();
  await expect(exportRows.first()).toContainText("JSON, usernames containing “grace”");
  await expect(exportRows.nth(1)).toContainText("CSV, usernames containing “grace”", { useInnerText: false });
});

test("a non-admin's export request is refused, with no log data, and the refusal is logged", async ({ browser, request }) => {
  const user = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(user, USERS.grace.username, USERS.grace.password);
  const response = await user.request.get("/admin/account-logs/export?format=csv");
  expect(response.status()).toBe(403);
  const body = await response.text();
  expect(body).not.toMatch(/login_|prev_hash|chain_head/);

  const anonymous = await request.get("/admin/account-logs/export?format=ndjson", { maxRedirects: 0 });
  expect([307, 401]).toContain(anonymous.status());
  expect(await anonymous.text()).not.toMatch(/login_|prev_hash|chain_head/);

  const admin = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/account-logs?q=grace");
  await expect(admin.getByTestId("log-table").locator("tbody tr").first()).toContainText("access_denied");
});
