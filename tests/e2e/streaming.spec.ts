import http from "node:http";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { sessionFor } from "../support/http";
import { ADMIN, USERS } from "./environment";
import { signInExpectingSuccess } from "./helpers";

/** The log first: the Number of Logs and the table are in the page's first bytes; the panels stream in after. */

const COUNT = 'data-testid="number-of-logs"';
const TABLE = 'data-testid="log-table"';
const PAGER = 'aria-label="Pages"';
const CHAIN = 'data-testid="chain-status"';
const PANELS = ['data-testid="needs-attention"', 'id="locked-accounts-heading"', CHAIN, 'data-testid="activity-chart"'];
/** Where React puts content that finished after the shell, to be moved into place by a script. */
const STREAMED = '<div hidden id="S:';

/** The page as it arrives over HTTP: what has come so far, whether it has ended, and the whole. */
function openPage(url: string, cookie: string) {
  let received = "";
  let ended = false;
  const whole = new Promise<string>((resolve, reject) => {
    http
      .get(url, { headers: { cookie } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${url} answered ${response.statusCode}`));
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (received += chunk));
        response.on("error", reject);
        response.on("end", () => {
          ended = true;
          resolve(received);
        });
      })
      .on("error", reject);
  });
  return { received: () => received, ended: () => ended, whole };
}

test("the Number of Logs and the table come before every panel, never in a streamed part", async ({ baseURL }) => {
  const cookie = await sessionFor(baseURL!, ADMIN.username, ADMIN.password);
  const html = await openPage(`${baseURL}/admin/account-logs`, cookie).whole;
  const shellEnd = html.includes(STREAMED) ? html.indexOf(STREAMED) : html.length;
  const count = html.indexOf(COUNT);
  const table = html.indexOf(TABLE);
  expect(count).toBeGreaterThan(-1);
  expect(table).toBeGreaterThan(count);
  expect(html.indexOf(PAGER)).toBeGreaterThan(table);
  expect(html.indexOf(PAGER)).toBeLessThan(shellEnd);
  for (const panel of PANELS) expect(html.indexOf(panel), panel).toBeGreaterThan(table);
});

test("a panel still waiting for its query holds back neither the Number of Logs nor the table", async ({ baseURL }, testInfo) => {
  // The embedded database lives in the server's process: only PostgreSQL lets a test hold a lock the page waits for.
  test.skip(testInfo.project.name !== "postgres", "needs a second connection to the server's database");
  const cookie = await sessionFor(baseURL!, ADMIN.username, ADMIN.password);
  const client = postgres(process.env.E2E_POSTGRES_DATABASE_URL!, { max: 1, onnotice: () => {} });
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let lockTaken = () => {};
  const locked = new Promise<void>((resolve) => (lockTaken = resolve));
  // The audit chain's status reads the verifications: it waits while the lock is held.
  const holding = client.begin(async (tx) => {
    await tx`lock table account_log_verifications in access exclusive mode`;
    lockTaken();
    await released;
  });
  let page: ReturnType<typeof openPage> | undefined;
  try {
    await locked;
    page = openPage(`${baseURL}/admin/account-logs`, cookie);
    const current = page;
    await expect.poll(() => current.received().includes(PAGER), { timeout: 20_000 }).toBe(true);
    const shell = current.received();
    expect(current.ended()).toBe(false);
    expect(shell).toContain(COUNT);
    expect(shell).toContain(TABLE);
    // Without JavaScript the placeholder stays: it says where else to look.
    expect(shell).toMatch(/Loading the audit chain.{1,6}s status…<\/p><noscript><p[^>]*>The audit chain.{1,6}s status needs JavaScript to load/);
    expect(shell).not.toContain(CHAIN);
  } finally {
    release();
    await holding;
    await client.end({ timeout: 5 });
  }
  const html = await page!.whole;
  expect(html.lastIndexOf(CHAIN)).toBeGreaterThan(html.indexOf(STREAMED));
});

test("without JavaScript the Number of Logs, the table and paging work, and an admin unlocks an account from the table", async ({ browser }) => {
  const { username, password } = USERS.pat;
  const admin = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
  await admin.goto(`/admin/users?q=${username}`);
  const account = admin.locator(`tbody tr[data-username="${username}"]`);
  await account.locator("details > summary").click();
  await account.getByLabel(`Reason for locking ${username}`).fill("Streaming check");
  await account.getByRole("button", { name: `Lock ${username}` }).click();
  await expect(account.locator("td").nth(1)).toContainText("Locked since");

  const noScript = await (await browser.newContext({ javaScriptEnabled: false, storageState: await admin.context().storageState() })).newPage();
  const firstPage = `/admin/account-logs?q=%22${username}%22&size=1`;
  await noScript.goto(firstPage);
  await expect(noScript.getByTestId("number-of-logs")).toHaveText(/^Number of Logs: \d+$/);
  const rows = noScript.getByTestId("log-table").locator("tbody tr");
  const result = rows.locator("td:nth-child(4)");
  await expect(rows).toHaveCount(1);
  await expect(result).toHaveText("account_locked");
  await noScript.getByRole("link", { name: "Older →" }).click();
  await expect(noScript).toHaveURL(/[?&]before=\d+/);
  await expect(rows).toHaveCount(1);
  await expect(result).not.toHaveText("account_locked");
  await noScript.getByRole("link", { name: "← Newer" }).click();
  await expect(result).toHaveText("account_locked");

  await noScript.goto(firstPage);
  await rows.getByLabel(`Reason for unlocking ${username}`).fill("Pat called the help desk");
  await rows.getByRole("button", { name: `Unlock ${username}` }).click();
  await expect(noScript.getByTestId("unlock-notice")).toHaveText(`Unlocked ${username}.`);
  await expect(result).toHaveText("account_unlocked");
  await expect(noScript.getByRole("button", { name: `Unlock ${username}` })).toHaveCount(0);

  const user = await (await browser.newContext()).newPage();
  await signInExpectingSuccess(user, username, password);
});
