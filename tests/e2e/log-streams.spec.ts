import AxeBuilder from "@axe-core/playwright";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { webhookSignatureHolds } from "@/lib/streams/webhook";
import { ADMIN } from "./environment";
import { signInExpectingSuccess } from "./helpers";

type Received = { id: string; rows: { seq?: number; test?: boolean; username?: string }[]; signed: () => boolean };

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
      received.push({ id, rows: JSON.parse(body), signed: () => webhookSignatureHolds(secret, id, timestamp, body, signature) });
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
