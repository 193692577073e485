import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq, sql } from "drizzle-orm";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getDb, rowsOf, type Database } from "@/db";
import { alertDeliveries, type AccountLogResult } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { SPRAYING_MIN_USERNAMES } from "@/lib/account-log/signals";
import { detectAlerts, detectAlertsStep } from "@/lib/alerts/detect";
import { addAlertRule, listAlertRules, removeAlertRule, setAlertRuleEnabled } from "@/lib/alerts/rules";
import { sendDueAlerts } from "@/lib/alerts/send";
import { sealPending } from "@/lib/audit/sealer";
import type { StreamActor } from "@/lib/streams/store";
import { webhookSignatureHolds } from "@/lib/streams/webhook";
import { browserContext } from "../support/accounts";
import { DATABASE_KINDS, resetEnvCache, useFreshDatabase } from "../support/databases";

const ADMIN: StreamActor = { userId: null, username: "alert-admin", via: "command line" };

type Mail = { to: string; subject: string; text: string; messageId: string };
type Hook = { id: string; body: { type: string; key: string; link: string; summary: string; text: string }; signed: () => boolean };

/** A mail server on this machine (smtp-server), keeping what it is given. */
async function startMailServer() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push({ to: [mail.to].flat().map((address) => address?.text).join(", "), subject: mail.subject ?? "", text: mail.text ?? "", messageId: mail.messageId ?? "" });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A chat-style webhook receiver on this machine, checking signatures when asked. */
async function startHookReceiver() {
  const hooks: Hook[] = [];
  let secret = "";
  let status = 200;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = String(request.headers["webhook-id"]);
      const timestamp = Number(request.headers["webhook-timestamp"]);
      const signature = String(request.headers["webhook-signature"]);
      hooks.push({ id, body: JSON.parse(body), signed: () => webhookSignatureHolds(secret, id, timestamp, body, signature) });
      response.writeHead(status).end(status >= 400 ? "chat is down" : "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    hooks,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    useSecret: (value: string) => (secret = value),
    answer: (value: number) => (status = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function write(db: Database, rows: { username: string; result: AccountLogResult; ip: string | null; metadata?: object }[]) {
  for (const row of rows) await appendAccountLog(db, [row]);
  await sealPending(db);
}

/** What an attacker and an admin leave in the log: a lock, an unlock, a throttled address, and a spraying one. */
async function writeIncident(db: Database, tag: string) {
  await write(db, [
    { username: `victim-${tag}`, result: "login_failed_wrong_password", ip: "203.0.113.50" },
    { username: `victim-${tag}`, result: "account_locked", ip: "203.0.113.50" },
    { username: `victim-${tag}`, result: "account_unlocked", ip: null, metadata: { actor: { userId: 1, username: "root" } } },
    { username: `anyone-${tag}`, result: "login_failed_rate_limited", ip: "198.51.100.60" },
    { username: `anyone-${tag}-2`, result: "login_failed_rate_limited", ip: "198.51.100.60" },
    ...Array.from({ length: SPRAYING_MIN_USERNAMES }, (_, i) => ({ username: `sprayed-${tag}-${i}`, result: "login_failed_unknown_user" as const, ip: "192.0.2.70" })),
  ]);
}

describe.each(DATABASE_KINDS)("alerts on %s", (kind) => {
  useFreshDatabase(kind);
  let mail: Awaited<ReturnType<typeof startMailServer>>;
  let hook: Awaited<ReturnType<typeof startHookReceiver>>;

  beforeAll(async () => {
    mail = await startMailServer();
    hook = await startHookReceiver();
    process.env.STREAM_SECRET_KEY = randomBytes(32).toString("base64");
    process.env.SMTP_URL = mail.url;
    process.env.NEXTAUTH_URL = "https://logs.example.test";
    resetEnvCache();
  });
  afterAll(async () => {
    await mail.close();
    await hook.close();
    for (const name of ["STREAM_SECRET_KEY", "SMTP_URL", "NEXTAUTH_URL"]) delete process.env[name];
    resetEnvCache();
  });
  beforeEach(async () => {
    // Each test's rules alone: the earlier tests' rules and their alerts go.
    await (await getDb()).execute(sql`delete from alert_rules`);
    mail.mails.length = 0;
    hook.hooks.length = 0;
    hook.answer(200);
  });

  async function newRule(input: { events?: ("account_locked" | "password_spraying" | "throttle_tripped" | "account_unlocked")[]; webhook?: boolean; emailTo?: string }) {
    const db = await getDb();
    // Rules alert on rows sealed after them: detection first catches up with the past.
    await detectAlerts(db);
    const added = await addAlertRule({
      actor: ADMIN,
      context: browserContext,
      input: { name: `on-call ${randomBytes(3).toString("hex")}`, events: input.events ?? ["account_locked", "password_spraying", "throttle_tripped", "account_unlocked"], webhookUrl: input.webhook === false ? "" : hook.url, emailTo: input.emailTo ?? "" },
    });
    if (added.secret) hook.useSecret(added.secret);
    return added;
  }

  it("sends each event once, by webhook and email, with a link to the rows behind it", async () => {
    const db = await getDb();
    const rule = await newRule({ emailTo: "oncall@example.test, secops@example.test" });
    await writeIncident(db, "a");
    expect((await detectAlerts(db)).alerts).toBe(8);
    expect(await sendDueAlerts(db)).toEqual({ sent: 8, failed: 0 });

    const byType = Object.fromEntries(hook.hooks.map((received) => [received.body.type, received.body]));
    expect(Object.keys(byType).sort()).toEqual(["account_locked", "account_unlocked", "password_spraying", "throttle_tripped"]);
    expect(hook.hooks.every((received) => received.signed())).toBe(true);
    expect(byType.account_locked).toMatchObject({ summary: "Account victim-a was locked after failures from 203.0.113.50.", link: "https://logs.example.test/admin/account-logs?q=%22victim-a%22" });
    expect(byType.account_unlocked!.summary).toBe("Account victim-a was unlocked by root.");
    // The link opens exactly the rows behind the event: the address, the results, the hour.
    const spraying = new URL(byType.password_spraying!.link);
    expect(spraying.searchParams.get("ip")).toBe("192.0.2.70");
    expect(spraying.searchParams.getAll("result")).toContain("login_failed_unknown_user");
    expect(spraying.searchParams.get("from")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00/);
    expect(byType.throttle_tripped!.link).toContain("ip=198.51.100.60");
    expect(byType.password_spraying!.text).toContain(byType.password_spraying!.link);

    expect(mail.mails).toHaveLength(4);
    const lockMail = mail.mails.find((message) => message.subject.includes("was locked"))!;
    expect(lockMail).toMatchObject({ to: "oncall@example.test, secops@example.test", subject: "[Account Logs] Account victim-a was locked after failures from 203.0.113.50." });
    expect(lockMail.text).toContain("See the rows: https://logs.example.test/admin/account-logs?q=%22victim-a%22");

    // Once: reading the same rows again, or more of the same hour, makes nothing new (a new
    // clock hour is a new throttle event, should the test run across one).
    const hourBefore = Math.floor(Date.now() / 3_600_000);
    await write(db, [{ username: "anyone-a-3", result: "login_failed_rate_limited", ip: "198.51.100.60" }]);
    expect((await detectAlerts(db)).alerts).toBe(Math.floor(Date.now() / 3_600_000) === hourBefore ? 0 : 1);
    expect(await sendDueAlerts(db)).toEqual({ sent: 0, failed: 0 });
    expect((await listAlertRules()).find((summary) => summary.id === rule.id)).toMatchObject({ pending: 0, failing: 0, lastError: null, lastSentAt: expect.any(Date) });
  });

  it("retries a failed alert with the same webhook-id, shows the failure, and never drops it", async () => {
    const db = await getDb();
    const rule = await newRule({ events: ["account_locked"] });
    hook.answer(503);
    await write(db, [{ username: "retried", result: "account_locked", ip: "203.0.113.51" }]);
    await detectAlerts(db);
    expect(await sendDueAlerts(db)).toEqual({ sent: 0, failed: 1 });
    const failing = (await listAlertRules()).find((summary) => summary.id === rule.id)!;
    expect(failing).toMatchObject({ pending: 1, failing: 1, lastError: { channel: "webhook", message: "HTTP 503: chat is down" } });
    expect(failing.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    // Not due yet: nothing is sent before its backoff.
    expect(await sendDueAlerts(db)).toEqual({ sent: 0, failed: 0 });

    hook.answer(200);
    await db.update(alertDeliveries).set({ nextAttemptAt: sql`now()` }).where(eq(alertDeliveries.ruleId, rule.id));
    expect(await sendDueAlerts(db)).toEqual({ sent: 1, failed: 0 });
    expect(hook.hooks.map((received) => received.id)).toEqual([hook.hooks[0]!.id, hook.hooks[0]!.id]);
    expect((await listAlertRules()).find((summary) => summary.id === rule.id)).toMatchObject({ pending: 0, failing: 0, lastError: null });
  });

  it("shows an email rule failing while SMTP_URL is unset, and sends once it is set", async () => {
    const db = await getDb();
    const rule = await newRule({ events: ["account_unlocked"], webhook: false, emailTo: "oncall@example.test" });
    delete process.env.SMTP_URL;
    resetEnvCache();
    try {
      await write(db, [{ username: "unlocked-later", result: "account_unlocked", ip: null, metadata: { actor: { userId: 1, username: "root" } } }]);
      await detectAlerts(db);
      expect(await sendDueAlerts(db)).toEqual({ sent: 0, failed: 1 });
      expect((await listAlertRules()).find((summary) => summary.id === rule.id)!.lastError).toMatchObject({ channel: "email", message: "SMTP_URL is not set: alert emails cannot be sent." });
    } finally {
      process.env.SMTP_URL = mail.url;
      resetEnvCache();
    }
    await db.update(alertDeliveries).set({ nextAttemptAt: sql`now()` }).where(eq(alertDeliveries.ruleId, rule.id));
    expect(await sendDueAlerts(db)).toEqual({ sent: 1, failed: 0 });
    expect(mail.mails.map((message) => message.subject)).toEqual(["[Account Logs] Account unlocked-later was unlocked by root."]);
  });

  it("alerts only on what a rule follows, from when it was added, and not while paused; changes are logged", async () => {
    const db = await getDb();
    // Not read by detection before the rule exists: the rule's own start keeps it out.
    await detectAlerts(db);
    await write(db, [{ username: "before-rule", result: "account_locked", ip: "203.0.113.52" }]);
    const added = await addAlertRule({ actor: ADMIN, context: browserContext, input: { name: "from now on", events: ["account_locked"], webhookUrl: hook.url, emailTo: "" } });
    hook.useSecret(added.secret!);
    const rule = { id: added.id };
    await write(db, [
      { username: "after-rule", result: "account_locked", ip: "203.0.113.52" },
      { username: "after-rule", result: "account_unlocked", ip: null },
    ]);
    await detectAlerts(db);
    await sendDueAlerts(db);
    expect(hook.hooks.map((received) => received.body.summary)).toEqual(["Account after-rule was locked after failures from 203.0.113.52."]);

    expect(await setAlertRuleEnabled({ actor: ADMIN, context: browserContext, ruleId: rule.id, enabled: false })).toBe("changed");
    await write(db, [{ username: "while-paused", result: "account_locked", ip: "203.0.113.52" }]);
    expect((await detectAlerts(db)).alerts).toBe(0);
    expect(await removeAlertRule({ actor: ADMIN, context: browserContext, ruleId: rule.id })).toBe("removed");
    await sealPending(db);
    const logged = rowsOf<{ result: string; metadata: string }>(
      await db.execute(sql`select result, metadata::text from account_logs where result like 'alert_rule_%' order by seq`),
    ).filter((row) => JSON.parse(row.metadata).alertRule?.id === rule.id);
    expect(logged.map((row) => row.result)).toEqual(["alert_rule_created", "alert_rule_changed", "alert_rule_removed"]);
    expect(JSON.parse(logged[0]!.metadata).alertRule).toMatchObject({ events: ["account_locked"], webhook: hook.url, emailTo: [] });
    expect(logged[0]!.metadata).not.toContain("whsec_");
  });

  it("refuses a rule with no destination, an address that is not one, or a webhook it must never reach", async () => {
    const bad = (input: { events?: string[]; webhookUrl?: string; emailTo?: string }) =>
      addAlertRule({ actor: ADMIN, context: browserContext, input: { name: "bad", events: (input.events ?? ["account_locked"]) as never, webhookUrl: input.webhookUrl ?? "", emailTo: input.emailTo ?? "" } });
    await expect(bad({})).rejects.toThrow("Give a webhook URL, email addresses, or both.");
    await expect(bad({ emailTo: "oncall@example.test, <script>@x" })).rejects.toThrow("Write each address as name@example.com.");
    await expect(bad({ events: [], emailTo: "a@example.test" })).rejects.toThrow("Choose at least one event.");
    await expect(bad({ events: ["login_successful"], emailTo: "a@example.test" })).rejects.toThrow("That is not an event an alert can follow.");
    await expect(bad({ webhookUrl: "https://169.254.169.254/" })).rejects.toThrow("never a destination");
  });

  it.runIf(kind === "postgres")("makes each alert once when instances detect at the same time", async () => {
    const db = await getDb();
    const rule = await newRule({ events: ["account_locked"], webhook: false, emailTo: "race@example.test" });
    await write(db, Array.from({ length: 30 }, (_, i) => ({ username: `raced-${i}`, result: "account_locked" as const, ip: "203.0.113.53" })));
    const steps = await Promise.all(Array.from({ length: 6 }, () => detectAlertsStep(db)));
    expect(steps.reduce((sum, step) => sum + step.alerts, 0)).toBe(30);
    const [made] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from alert_deliveries where rule_id = ${rule.id}`));
    expect(made!.n).toBe(30);
    await Promise.all([sendDueAlerts(db, { limit: 10 }), sendDueAlerts(db, { limit: 10 }), sendDueAlerts(db, { limit: 10 })]);
    expect(new Set(mail.mails.map((message) => message.messageId)).size).toBe(30);
    expect(mail.mails).toHaveLength(30);
  });
});
