import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import os from "node:os";
import { eq, sql } from "drizzle-orm";
import nodemailer, { type Transporter } from "nodemailer";
import { getDb, rowsOf, type Database, type Executor } from "@/db";
import { alertRules, type AlertMessage, type AlertRule } from "@/db/schema";
import { env } from "@/lib/env";
import { metrics } from "@/lib/metrics/registry";
import { logServerError } from "@/lib/server-log";
import { startPollLoop } from "@/lib/service/background";
import { withDeadline } from "@/lib/service/deadline";
import { addressKind, StreamDestinationError } from "@/lib/streams/destination";
import { destinationOf, retryDelayMs } from "@/lib/streams/sender";
import { postWebhook, webhookSignature, type Delivery } from "@/lib/streams/webhook";
import { detectAlerts } from "./detect";
import { ALERT_EVENT_LABELS } from "./events";
import { openRuleWebhook } from "./rules";

const INSTANCE = `${process.pid}-${randomUUID().slice(0, 8)}`;
/** How long an instance holds an alert while sending it: far longer than one send may take. */
const LEASE_SECONDS = 30;
const SEND_TIMEOUT_MS = 10_000;
/** A whole email exchange, well within the lease. */
const MAIL_DEADLINE_MS = 15_000;

/** Alerts taken per round: a burst of events is sent in order, a few at a time. */
const ALERTS_PER_ROUND = 20;
/** Sent alerts are kept this long (the page's "last sent"), then removed. */
const SENT_KEPT_DAYS = 30;

type DueAlert = { id: number | string; rule_id: number; channel: "webhook" | "email"; event: AlertMessage | string; attempts: number };

/** The JSON an alert webhook receives: the event, and `text` for chat webhooks (Slack, Teams via a workflow, Mattermost). */
export function alertWebhookBody(event: AlertMessage): string {
  return JSON.stringify({ ...event, text: `${event.summary} ${event.link}` });
}

let mailer: { url: string; transport: Transporter } | undefined;

/**
 * The SMTP transport for SMTP_URL, with its timeouts (nodemailer applies options given beside a
 * URL to messages, not to the connection, so the URL is read here). Over smtp:// to another
 * machine STARTTLS is required: a server that does not offer it, or a network that strips the
 * offer, gets no credentials and no alert in clear.
 */
export function mailTransportOptions(raw: string) {
  const url = new URL(raw);
  const secure = url.protocol === "smtps:";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const loopback = host === "localhost" || (isIP(host) !== 0 && addressKind(host) === "loopback");
  return {
    host,
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    requireTLS: !secure && !loopback,
    ...(url.username && { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  };
}

function mailTransport(url: string): Transporter {
  if (mailer?.url !== url) {
    mailer?.transport.close();
    mailer = { url, transport: nodemailer.createTransport(mailTransportOptions(url)) };
  }
  return mailer.transport;
}

/** The email of an alert: its summary as the subject, the link to the rows, and a Message-ID kept across retries. */
export function alertEmail(event: AlertMessage, deliveryId: number, to: string[]) {
  return {
    from: env().ALERT_EMAIL_FROM,
    to,
    subject: `[Account Logs] ${event.summary}`.slice(0, 250),
    text: [
      event.summary,
      "",
      `See the rows: ${event.link}`,
      "",
      `Event: ${ALERT_EVENT_LABELS[event.type]} (${event.key})`,
      `Time: ${event.time}`,
      `Log position (seq): ${event.seq}`,
      "",
      "You get this because an Account Logs alert rule names this address. Admins change rules on Admin → Log streams.",
    ].join("\n"),
    messageId: `<alert-${deliveryId}.${os.hostname().replace(/[^A-Za-z0-9.-]/g, "") || "account-logs"}@account-logs>`,
    headers: { "X-Account-Logs-Alert": event.key },
  };
}

async function deliver(rule: AlertRule, alert: DueAlert, event: AlertMessage, signal?: AbortSignal): Promise<Delivery> {
  const id = Number(alert.id);
  if (alert.channel === "email") {
    const url = env().SMTP_URL;
    if (!url) return { ok: false, error: "SMTP_URL is not set: alert emails cannot be sent." };
    try {
      const info = await withDeadline(mailTransport(url).sendMail(alertEmail(event, id, rule.emailTo)), MAIL_DEADLINE_MS, () => new Error(`the mail server did not take the alert within ${MAIL_DEADLINE_MS / 1000} s`));
      // Sent once any recipient was accepted: retrying would send it again to those. The refused
      // addresses are named in the server log.
      const accepted = info.accepted.length;
      if (accepted === 0) return { ok: false, error: `the mail server refused every recipient (${info.rejected.join(", ")})` };
      if (info.rejected.length > 0) logServerError("alert email refused for some recipients", new Error(`refused: ${info.rejected.join(", ")}`), { ruleId: rule.id, alert: id });
      return { ok: true, status: 250 };
    } catch (error) {
      return { ok: false, error: `email: ${(error as Error).message}` };
    }
  }
  const webhook = openRuleWebhook(rule);
  if (!webhook) return { ok: false, error: "the rule has no webhook" };
  let destination;
  try {
    destination = await destinationOf("webhook", webhook.target);
  } catch (error) {
    if (error instanceof StreamDestinationError) return { ok: false, error: error.message };
    throw error;
  }
  const body = alertWebhookBody(event);
  const webhookId = `alert-${id}`;
  const timestamp = Math.floor(Date.now() / 1000);
  return postWebhook(destination, {
    body,
    headers: { "webhook-id": webhookId, "webhook-timestamp": String(timestamp), "webhook-signature": webhookSignature(webhook.secret, webhookId, timestamp, body) },
    timeoutMs: SEND_TIMEOUT_MS,
    signal,
  });
}

/**
 * Sends the alerts that are due, of rules that are on: each taken with a lease (so two instances
 * never send the same one at once), marked sent when the receiver took it, otherwise retried
 * with the streams' backoff, for ever: an alert is never dropped. A webhook alert keeps its
 * `webhook-id`, an email its Message-ID, across retries.
 */
export async function sendDueAlerts(executor: Executor, { signal, limit = ALERTS_PER_ROUND }: { signal?: AbortSignal; limit?: number } = {}): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  const rules = new Map<number, AlertRule>();
  // One at a time, each under its own lease: a send takes at most 15 s of its 30, so the lease
  // never runs out while the alert is in flight and no other instance takes it meanwhile.
  for (let round = 0; round < limit && !signal?.aborted; round++) {
    const [alert] = rowsOf<DueAlert>(
      await executor.execute(sql`
        update alert_deliveries d set lease_owner = ${INSTANCE}, lease_until = now() + ${LEASE_SECONDS}::int * interval '1 second', attempts = d.attempts + 1
        where d.id = (
          select a.id from alert_deliveries a join alert_rules r on r.id = a.rule_id
          where a.sent_at is null and r.enabled and a.next_attempt_at <= now() and (a.lease_until is null or a.lease_until < now())
          order by a.id limit 1 for update of a skip locked)
        returning d.id, d.rule_id, d.channel, d.event, d.attempts`),
    );
    if (!alert) break;
    if (!rules.has(alert.rule_id)) {
      const [rule] = await executor.select().from(alertRules).where(eq(alertRules.id, alert.rule_id));
      if (rule) rules.set(rule.id, rule);
    }
    const rule = rules.get(alert.rule_id);
    const event = (typeof alert.event === "string" ? JSON.parse(alert.event) : alert.event) as AlertMessage;
    let outcome: Delivery;
    try {
      outcome = rule ? await deliver(rule, alert, event, signal) : { ok: false, error: "the rule was removed" };
    } catch (error) {
      outcome = { ok: false, error: (error as Error).message };
    }
    metrics().alertDeliveries.inc({ channel: alert.channel, outcome: outcome.ok ? "sent" : "failed" });
    if (outcome.ok) {
      sent++;
      await executor.execute(sql`update alert_deliveries set sent_at = now(), lease_owner = null, lease_until = null where id = ${alert.id} and lease_owner = ${INSTANCE}`);
    } else {
      failed++;
      // Stopped mid-send is not a failure: the alert is free again at once, its try not counted.
      await executor.execute(
        signal?.aborted
          ? sql`update alert_deliveries set lease_owner = null, lease_until = null, attempts = attempts - 1 where id = ${alert.id} and lease_owner = ${INSTANCE}`
          : sql`
            update alert_deliveries set last_error = ${outcome.error.slice(0, 500)}, last_error_at = now(), lease_owner = null, lease_until = null,
              next_attempt_at = now() + ${retryDelayMs(alert.attempts)}::int * interval '1 millisecond'
            where id = ${alert.id} and lease_owner = ${INSTANCE}`,
      );
    }
  }
  return { sent, failed };
}

async function pruneSentAlerts(db: Database): Promise<void> {
  await db.execute(sql`delete from alert_deliveries where sent_at < now() - ${SENT_KEPT_DAYS}::int * interval '1 day'`);
}

const POLL_MS = 1_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Every instance runs this loop: detection (one instance at a time, by the single cursor's row
 * lock) and sending (each alert by one instance, by its lease). It never touches the sign-in
 * path: it reads sealed rows only.
 */
export function startAlertSender({ pollMs = POLL_MS }: { pollMs?: number } = {}): { stop: () => Promise<void> } {
  let prunedAt = 0;
  // Each part on its own: detection that keeps failing does not hold back alerts already made.
  const part = async (name: string, work: (db: Database) => Promise<unknown>) => {
    try {
      await work(await getDb());
    } catch (error) {
      logServerError(`alerts could not be ${name}`, error);
    }
  };
  const loop = startPollLoop(
    async (signal) => {
      await part("detected", (db) => detectAlerts(db));
      await part("sent", (db) => sendDueAlerts(db, { signal }));
      if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await part("pruned", pruneSentAlerts);
      }
    },
    { pollMs, failure: "alerts could not be detected or sent" },
  );
  return {
    stop: async () => {
      await loop.stop();
      mailer?.transport.close();
      mailer = undefined;
    },
  };
}
