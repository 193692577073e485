import AxeBuilder from "@axe-core/playwright";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { webhookSignatureHolds } from "@/lib/streams/webhook";
import { ADMIN, USERS } from "./environment";
import { failSignIn, signInExpectingSuccess } from "./helpers";

type Received = {
  id: string;
  rows: { seq?: number; test?: boolean; username?: string }[];
  /** An alert's body: one object rather than a batch. */
  body?: { type: string; summary: string; link: string };
  signed: () => boolean;
};

/**
 * A log shipper on this machine (plain HTTP to loopback is allowed). Signatures are checked when
 * asked, as the first batch may arrive before the test has read the new stream's secret.
 */
async function startReceiver() {
  const received: Received[] = [];
  let secret = "";
  let status = 204;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = String(request.headers["webhook-id"]);
      const timestamp = Number(request.headers["webhook-timestamp"]);
      const signature = String(request.headers["webhook-signature"]);
      const parsed = JSON.parse(body) as Received["rows"] | NonNullable<Received["body"]>;
      received.push({
        id,
        ...(Array.isArray(parsed) ? { rows: parsed } : { rows: [], body: parsed }),
        signed: () => webhookSignatureHolds(secret, id, timestamp, body, signature),
      });
      response.writeHead(status).end(status >= 400 ? "shipper is full" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    useSecret: (value: string) => (secret = value),
    answer: (value: number) => (status = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function openStreamsFromMenu(admin: Page) {
  const menu = admin.getByRole("navigation", { name: "Menu bar" }).locator("details");
  await menu.locator("summary").click();
  await menu.getByRole("link", { name: "Log streams" }).click();
  await expect(admin.getByRole("heading", { name: "Log streams", level: 1 })).toBeVisible();
}

test("an admin adds a webhook, tests it, sees rows arrive and a failing receiver named, then pauses and removes it", async ({ browser }, testInfo) => {
  const receiver = await startReceiver();
  const admin = await (await browser.newContext()).newPage();
  try {
    await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
    await openStreamsFromMenu(admin);
    const form = admin.getByRole("region", { name: "Add a webhook" });
    const name = `shipper ${testInfo.project.name}`;
    // A destination off this machine over plain HTTP is refused, on the URL field.
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("URL").fill("http://203.0.113.10/hook");
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(form.getByRole("status")).toContainText("Plain HTTP goes to this machine only");
    await expect(form.getByLabel("URL")).toHaveAttribute("aria-invalid", "true");

    await form.getByLabel("URL").fill(receiver.url);
    await form.getByLabel("Custom headers (optional, one per line)").fill("X-Shipper-Key: e2e-key");
    await form.getByRole("button", { name: "Add webhook" }).click();
    await expect(form.getByRole("status")).toContainText(`Added the stream “${name}”.`);
    const secret = await form.getByTestId("new-secret").inputValue();
    expect(secret).toMatch(/^whsec_/);
    receiver.useSecret(secret);
    const { violations } = await new AxeBuilder({ page: admin }).withTags(["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"]).analyze();
    expect(violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`)).toEqual([]);

    const item = admin.getByTestId("log-streams").locator("li", { hasText: name });
    await item.getByRole("button", { name: `Send test event to ${name}` }).click();
    await expect(admin.getByTestId("log-streams").locator("..").getByRole("status").last()).toHaveText(/The receiver accepted the test event \(HTTP 204\)\./);
    const testEvent = receiver.received.find((batch) => batch.rows[0]?.test);
    expect(testEvent?.rows).toMatchObject([{ test: true }]);
    expect(testEvent?.signed()).toBe(true);

    // Its own creation row, and anything sealed after it, arrive within moments.
    await expect.poll(() => receiver.received.flatMap((batch) => batch.rows).filter((row) => row.seq !== undefined).length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(receiver.received.every((batch) => batch.signed())).toBe(true);

    // A failing receiver is named on the page, with its answer.
    receiver.answer(503);
    await admin.request.post("/api/auth/callback/credentials", { form: { username: "nobody-here", password: "x", csrfToken: "x" } }).catch(() => undefined);
    await expect
      .poll(async () => {
        await admin.reload();
        return item.getByTestId("stream-error").textContent();
      }, { timeout: 20_000 })
      .toContain("HTTP 503: shipper is full");
    await expect(item.getByTestId("stream-state")).toContainText("Failing");

    receiver.answer(204);
    await item.getByRole("button", { name: `Pause ${name}` }).click();
    await expect(item.getByTestId("stream-state")).toHaveText("Paused");
    await item.getByRole("button", { name: `Remove ${name}` }).click();
    await expect(admin.getByTestId("log-streams").locator("li", { hasText: name })).toHaveCount(0);

    await admin.goto(`/admin/account-logs?q=${encodeURIComponent(`"stream:${name}"`)}`);
    const table = admin.getByTestId("log-table").locator("tbody");
    for (const result of ["stream_created", "stream_changed", "stream_removed"]) await expect(table).toContainText(result);
  } finally {
    await admin.context().close();
    await receiver.close();
  }
});

test("an admin adds an alert rule; a lock is sent once to its webhook with a link to the account's rows; a syslog URL off the network is refused", async ({ browser }, testInfo) => {
  const receiver = await startReceiver();
  const admin = await (await browser.newContext()).newPage();
  try {
    await signInExpectingSuccess(admin, ADMIN.username, ADMIN.password);
    await openStreamsFromMenu(admin);

    const syslog = admin.getByRole("region", { name: "Add a syslog destination" });
    await syslog.getByLabel("Name").fill(`collector ${testInfo.project.name}`);
    await syslog.getByLabel("URL").fill("tcp://203.0.113.10:514");
    await syslog.getByRole("button", { name: "Add syslog destination" }).click();
    await expect(syslog.getByRole("status")).toContainText("Plain TCP sends the log unencrypted");
    await expect(syslog.getByLabel("URL")).toHaveAttribute("aria-invalid", "true");

    const form = admin.getByRole("region", { name: "Add an alert rule" });
    const name = `on-call ${testInfo.project.name}`;
    await form.getByLabel("Name", { exact: true }).fill(name);
    await form.getByRole("button", { name: "Add alert rule" }).click();
    await expect(form.getByRole("status")).toContainText("Give a webhook URL, email addresses, or both.");
    await expect(form.getByLabel("Webhook URL (optional)")).toHaveAttribute("aria-invalid", "true");
    await form.getByLabel("Webhook URL (optional)").fill(receiver.url);
    await form.getByRole("button", { name: "Add alert rule" }).click();
    await expect(form.getByRole("status")).toContainText(`Added the alert rule “${name}”.`);
    receiver.useSecret(await form.getByTestId("new-alert-secret").inputValue());

    // Six wrong passwords lock the account: one alert, signed, naming it, linking to its rows.
    const user = USERS.quinn.username;
    for (let i = 0; i < 6; i++) await failSignIn(admin.request, user);
    await expect.poll(() => receiver.received.filter((hook) => hook.body?.type === "account_locked").length, { timeout: 20_000 }).toBe(1);
    const alert = receiver.received.find((hook) => hook.body?.type === "account_locked")!;
    expect(alert.signed()).toBe(true);
    expect(alert.body!.summary).toContain(`Account ${user} was locked`);
    await admin.goto(new URL(alert.body!.link, admin.url()).pathname + new URL(alert.body!.link, admin.url()).search);
    await expect(admin.getByTestId("log-table").locator("tbody")).toContainText("account_locked");
    await expect(admin.getByRole("searchbox")).toHaveValue(`"${user}"`);

    await openStreamsFromMenu(admin);
    const rule = admin.getByTestId("alert-rules").locator("li", { hasText: name });
    await expect(rule.getByTestId("alert-state")).toHaveText("Watching");
    await expect(rule.getByTestId("alert-pending")).toHaveText("Nothing");
    await rule.getByRole("button", { name: `Remove alert rule ${name}` }).click();
    await expect(admin.getByTestId("alert-rules").locator("li", { hasText: name })).toHaveCount(0);
    // Sent once: a while later there is still one.
    expect(receiver.received.filter((hook) => hook.body?.type === "account_locked")).toHaveLength(1);
  } finally {
    await admin.context().close();
    await receiver.close();
  }
});
