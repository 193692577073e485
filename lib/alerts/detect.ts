import { sql } from "drizzle-orm";
import { rowsOf, type Database, type Executor } from "@/db";
import { alertDeliveries, alertRules, type AlertEvent, type AlertMessage, type AlertRule } from "@/db/schema";
import { accountLogHref, exactUsernameTerm } from "@/lib/account-log/search-params";
import { FAILED_SIGN_IN_RESULTS, SPRAYING_MIN_USERNAMES, sprayingHours } from "@/lib/account-log/signals";
import { env } from "@/lib/env";

/** Sealed rows read per step: detection never holds its one row lock long. */
export const ALERT_SCAN_ROWS = 5_000;
const HOUR_MS = 3_600_000;

type EventRow = { id: number | string; seq: number | string; occurred_at: string; username: string; username_normalized: string; result: string; ip: string | null; actor: string | null };

/** A path on this app as a link: absolute when the app knows its address (NEXTAUTH_URL), as an email needs. */
export function appLink(path: string): string {
  const base = env().NEXTAUTH_URL;
  return base ? new URL(path, base).toString() : path;
}

const hourOf = (time: string) => new Date(Math.floor(Date.parse(time) / HOUR_MS) * HOUR_MS);

/**
 * The alert events in the sealed rows after `after` up to `through`, in seq order: each lock and
 * unlock; the first throttled sign-in of an address in a clock hour; and an address whose
 * failures that hour reached SPRAYING_MIN_USERNAMES usernames, by the counters "Needs attention"
 * reads. Each event has a key that names it whatever batch finds it, so it is made once.
 */
export async function alertEventsIn(executor: Executor, after: number, through: number): Promise<AlertMessage[]> {
  const results = ["account_locked", "account_unlocked", ...FAILED_SIGN_IN_RESULTS];
  const rows = rowsOf<EventRow>(
    await executor.execute(sql`
      select id, seq, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_at,
        username, username_normalized, result, host(ip) as ip, metadata->'actor'->>'username' as actor
      from account_logs
      where seq > ${after} and seq <= ${through} and result in (${sql.join(results.map((result) => sql`${result}`), sql`, `)})
      order by seq`),
  );
  const events: AlertMessage[] = [];
  const failedPairs = new Map<string, { ip: string; hour: Date; seq: number }>();
  for (const row of rows) {
    const seq = Number(row.seq);
    const account = { username: row.username, link: appLink(accountLogHref({ term: exactUsernameTerm(row.username_normalized) })) };
    if (row.result === "account_locked") {
      events.push({ type: "account_locked", key: `account_locked:${row.id}`, summary: `Account ${row.username} was locked${row.ip ? ` after failures from ${row.ip}` : ""}.`, seq, time: row.occurred_at, ...account, ...(row.ip && { ip: row.ip }) });
    } else if (row.result === "account_unlocked") {
      events.push({ type: "account_unlocked", key: `account_unlocked:${row.id}`, summary: `Account ${row.username} was unlocked${row.actor ? ` by ${row.actor}` : ""}.`, seq, time: row.occurred_at, ...account, ...(row.actor && { details: { by: row.actor } }) });
    } else if (row.ip) {
      const hour = hourOf(row.occurred_at);
      const hourRange = { from: hour, to: new Date(hour.getTime() + HOUR_MS) };
      if (row.result === "login_failed_rate_limited") {
        events.push({
          type: "throttle_tripped",
          key: `throttle_tripped:${row.ip}:${hour.toISOString()}`,
          summary: `The address ${row.ip} tripped the sign-in throttle: its sign-ins are refused before any password is checked.`,
          link: appLink(accountLogHref({ ip: row.ip, results: ["login_failed_rate_limited"], ...hourRange })),
          seq,
          time: row.occurred_at,
          ip: row.ip,
        });
      }
      // The newest failure of the pair in these rows: the one by which the threshold was reached
      // at the latest, so a rule added during a spray still hears of it.
      failedPairs.set(`${row.ip}|${hour.toISOString()}`, { ip: row.ip, hour, seq });
    }
  }
  if (failedPairs.size > 0) {
    const pairs = [...failedPairs.values()];
    const spraying = rowsOf<{ ip: string; hour: string | Date; usernames: number | string; failures: number | string }>(
      await executor.execute(sql`
        select host(s.ip) as ip, s.hour, s.usernames, s.failures from ${sprayingHours(
          sql`(f.ip, f.hour) in (${sql.join(pairs.map((pair) => sql`(${pair.ip}::inet, ${pair.hour.toISOString()}::timestamptz)`), sql`, `)})`,
        )} s`),
    );
    for (const hit of spraying) {
      const hour = new Date(hit.hour);
      const pair = failedPairs.get(`${hit.ip}|${hour.toISOString()}`);
      if (!pair) continue;
      events.push({
        type: "password_spraying",
        key: `password_spraying:${hit.ip}:${hour.toISOString()}`,
        summary: `Password spraying: ${hit.ip} failed against ${Number(hit.usernames)} usernames (${Number(hit.failures)} failures) in the hour from ${hour.toISOString().slice(0, 16)}Z; ${SPRAYING_MIN_USERNAMES} is the threshold.`,
        link: appLink(accountLogHref({ ip: hit.ip, results: FAILED_SIGN_IN_RESULTS, from: hour, to: new Date(hour.getTime() + HOUR_MS) })),
        seq: pair.seq,
        time: hour.toISOString(),
        ip: hit.ip,
        details: { usernames: Number(hit.usernames), failures: Number(hit.failures) },
      });
    }
  }
  return events.sort((a, b) => a.seq - b.seq);
}

/** The channels a rule sends on. */
export function channelsOf(rule: Pick<AlertRule, "webhookTarget" | "emailTo">): ("webhook" | "email")[] {
  return [...(rule.webhookTarget ? (["webhook"] as const) : []), ...(rule.emailTo.length ? (["email"] as const) : [])];
}

/**
 * One step of detection: takes the single detection cursor (another instance holding it means
 * it is already being done), reads up to ALERT_SCAN_ROWS sealed rows past it, and in the same
 * transaction records an alert per event, rule and channel (never twice: the key is unique) and
 * moves the cursor. Returns how far it read, and how many alerts it made.
 */
export async function detectAlertsStep(db: Database): Promise<{ scanned: number; alerts: number }> {
  return db.transaction(async (tx) => {
    const [state] = rowsOf<{ cursor_seq: number | string; head: number | string }>(
      await tx.execute(sql`select a.cursor_seq, s.seq as head from alert_state a cross join account_log_seal_state s for update of a skip locked`),
    );
    if (!state) return { scanned: 0, alerts: 0 };
    const cursor = Number(state.cursor_seq);
    const through = Math.min(Number(state.head), cursor + ALERT_SCAN_ROWS);
    if (through <= cursor) return { scanned: 0, alerts: 0 };
    const rules = await tx.select().from(alertRules).where(sql`${alertRules.enabled}`);
    let alerts = 0;
    if (rules.length > 0) {
      const events = await alertEventsIn(tx, cursor, through);
      const wanted = events.flatMap((event) =>
        rules
          .filter((rule) => rule.events.includes(event.type as AlertEvent) && event.seq > rule.fromSeq)
          .flatMap((rule) => channelsOf(rule).map((channel) => ({ ruleId: rule.id, channel, eventKey: event.key, event }))),
      );
      if (wanted.length > 0) alerts = (await tx.insert(alertDeliveries).values(wanted).onConflictDoNothing().returning({ id: alertDeliveries.id })).length;
    }
    await tx.execute(sql`update alert_state set cursor_seq = ${through}`);
    return { scanned: through - cursor, alerts };
  });
}

/** Detection until it has caught up with the seal (or `maxSteps`). */
export async function detectAlerts(db: Database, maxSteps = 20): Promise<{ scanned: number; alerts: number }> {
  const total = { scanned: 0, alerts: 0 };
  for (let step = 0; step < maxSteps; step++) {
    const { scanned, alerts } = await detectAlertsStep(db);
    total.scanned += scanned;
    total.alerts += alerts;
    if (scanned < ALERT_SCAN_ROWS) break;
  }
  return total;
}
