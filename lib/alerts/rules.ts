import { asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, rowsOf, type Executor } from "@/db";
import { ALERT_EVENTS, alertRules, type AlertRule } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { checkWebhookDestination, displayUrl } from "@/lib/streams/destination";
import { openSecret, sealSecret } from "@/lib/streams/secrets";
import { streamNameSchema, type StreamActor } from "@/lib/streams/store";
import { newWebhookSecret } from "@/lib/streams/webhook";

const MAX_RECIPIENTS = 20;

export const newAlertRuleSchema = z
  .object({
    name: streamNameSchema,
    events: z.array(z.enum(ALERT_EVENTS, { error: "That is not an event an alert can follow." })).min(1, "Choose at least one event.").max(ALERT_EVENTS.length),
    webhookUrl: z
      .string()
      .trim()
      .max(2048, "A URL has at most 2,048 characters.")
      .transform((url) => url || undefined)
      .optional(),
    /** Addresses separated by commas, spaces or lines. */
    emailTo: z
      .string()
      .max(4096, "At most 20 addresses.")
      .transform((text) => [...new Set(text.split(/[\s,;]+/).filter(Boolean))])
      .pipe(z.array(z.email("Write each address as name@example.com.")).max(MAX_RECIPIENTS, `At most ${MAX_RECIPIENTS} addresses.`))
      .default([]),
  })
  .refine((rule) => rule.webhookUrl || rule.emailTo.length > 0, { message: "Give a webhook URL, email addresses, or both.", path: ["webhookUrl"] });
export type NewAlertRule = z.input<typeof newAlertRuleSchema>;

export type AlertRuleSummary = Pick<AlertRule, "id" | "name" | "events" | "webhookUrl" | "emailTo" | "enabled" | "createdAt"> & {
  /** Alerts not sent yet, and of those how many have failed at least once. */
  pending: number;
  failing: number;
  lastSentAt: Date | null;
  /** The newest error of an alert still waiting, with its channel. */
  lastError: { channel: string; message: string; at: Date } | null;
  nextAttemptAt: Date | null;
};

type RuleRequest = { actor: StreamActor; context: RequestContext };

function logAlertRuleEvent(executor: Executor, result: "alert_rule_created" | "alert_rule_changed" | "alert_rule_removed", rule: AlertRule, request: RuleRequest, change: Record<string, unknown>) {
  return appendAccountLog(executor, [
    {
      username: `alert:${rule.name}`,
      userId: null,
      result,
      ip: request.context.ip ?? null,
      metadata: {
        ...requestMetadata(request.context),
        actor: request.actor,
        alertRule: { id: rule.id, events: rule.events, webhook: rule.webhookUrl, emailTo: rule.emailTo, ...change },
      },
    },
  ]);
}

/**
 * Adds an alert rule, logged: the webhook checked after DNS as a stream's is, its whole URL and
 * a new signing secret sealed. It alerts on rows sealed from now on. Returns the secret, shown
 * once, when the rule has a webhook.
 */
export async function addAlertRule(request: RuleRequest & { input: NewAlertRule }): Promise<{ id: number; secret?: string }> {
  const input = newAlertRuleSchema.parse(request.input);
  if (input.webhookUrl) await checkWebhookDestination(input.webhookUrl, { allowPrivate: env().STREAM_ALLOW_PRIVATE });
  const secret = input.webhookUrl ? newWebhookSecret() : undefined;
  const db = await getDb();
  return db.transaction(async (tx) => {
    // Waits for a detection step in progress: its rules were read before this one existed, so
    // this rule starts after what that step reads (the seal head once it has committed).
    await tx.execute(sql`select cursor_seq from alert_state for update`);
    const [rule] = await tx
      .insert(alertRules)
      .values({
        name: input.name,
        events: input.events,
        // Placeholders until the ID they are bound to exists: the check wants both or neither.
        ...(input.webhookUrl && { webhookUrl: displayUrl(input.webhookUrl), webhookTarget: "", webhookSecret: "" }),
        emailTo: input.emailTo,
        fromSeq: sql`(select seq from account_log_seal_state)`,
        createdBy: request.actor.userId,
      })
      .returning();
    if (input.webhookUrl && secret) {
      await tx.update(alertRules).set(sealedRuleWebhook(rule!.id, input.webhookUrl, secret)).where(eq(alertRules.id, rule!.id));
    }
    await logAlertRuleEvent(tx, "alert_rule_created", rule!, request, { from: rule!.fromSeq });
    return { id: rule!.id, ...(secret && { secret }) };
  });
}

function sealedRuleWebhook(id: number, target: string, secret: string) {
  return { webhookTarget: sealSecret(target, `alert rule ${id} target`), webhookSecret: sealSecret(secret, `alert rule ${id} secret ${target}`) };
}

/** A rule's webhook URL and signing secret, opened. */
export function openRuleWebhook(rule: Pick<AlertRule, "id" | "webhookTarget" | "webhookSecret">): { target: string; secret: string } | undefined {
  if (!rule.webhookTarget || !rule.webhookSecret) return undefined;
  const target = openSecret(rule.webhookTarget, `alert rule ${rule.id} target`);
  return { target, secret: openSecret(rule.webhookSecret, `alert rule ${rule.id} secret ${target}`) };
}

/** Every rule with what is waiting to be sent for it, oldest rule first. */
export async function listAlertRules(executor?: Executor): Promise<AlertRuleSummary[]> {
  const db = executor ?? (await getDb());
  const rules = await db.select().from(alertRules).orderBy(asc(alertRules.id));
  const states = rowsOf<{ rule_id: number; pending: number | string; failing: number | string; last_sent: string | Date | null; next_attempt: string | Date | null; error: string | null; error_channel: string | null; error_at: string | Date | null }>(
    await db.execute(sql`
      select d.rule_id,
        count(*) filter (where d.sent_at is null) as pending,
        count(*) filter (where d.sent_at is null and d.attempts > 0 and d.last_error is not null) as failing,
        max(d.sent_at) as last_sent,
        min(d.next_attempt_at) filter (where d.sent_at is null) as next_attempt,
        (array_agg(d.last_error order by d.last_error_at desc) filter (where d.sent_at is null and d.last_error is not null))[1] as error,
        (array_agg(d.channel order by d.last_error_at desc) filter (where d.sent_at is null and d.last_error is not null))[1] as error_channel,
        max(d.last_error_at) filter (where d.sent_at is null) as error_at
      from alert_deliveries d group by d.rule_id`),
  );
  const byRule = new Map(states.map((state) => [Number(state.rule_id), state]));
  return rules.map(({ id, name, events, webhookUrl, emailTo, enabled, createdAt }) => {
    const state = byRule.get(id);
    return {
      ...{ id, name, events, webhookUrl, emailTo, enabled, createdAt },
      pending: Number(state?.pending ?? 0),
      failing: Number(state?.failing ?? 0),
      lastSentAt: state?.last_sent ? new Date(state.last_sent) : null,
      lastError: state?.error && state.error_at ? { channel: state.error_channel ?? "", message: state.error, at: new Date(state.error_at) } : null,
      nextAttemptAt: state?.next_attempt ? new Date(state.next_attempt) : null,
    };
  });
}

/** Pauses or resumes a rule: a paused rule makes no alerts, and its waiting ones wait. */
export async function setAlertRuleEnabled(request: RuleRequest & { ruleId: number; enabled: boolean }): Promise<"changed" | "unchanged" | "not_found"> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [rule] = await tx.select().from(alertRules).where(eq(alertRules.id, request.ruleId)).for("update");
    if (!rule) return "not_found";
    if (rule.enabled === request.enabled) return "unchanged";
    await tx.update(alertRules).set({ enabled: request.enabled }).where(eq(alertRules.id, rule.id));
    await logAlertRuleEvent(tx, "alert_rule_changed", rule, request, { enabled: request.enabled });
    return "changed";
  });
}

/** Removes a rule and its alerts, sent or not, logged with how many were still waiting. */
export async function removeAlertRule(request: RuleRequest & { ruleId: number }): Promise<"removed" | "not_found"> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [waiting] = rowsOf<{ n: number | string }>(await tx.execute(sql`select count(*) as n from alert_deliveries where rule_id = ${request.ruleId} and sent_at is null`));
    const [rule] = await tx.delete(alertRules).where(eq(alertRules.id, request.ruleId)).returning();
    if (!rule) return "not_found";
    await logAlertRuleEvent(tx, "alert_rule_removed", rule, request, { unsentAlerts: Number(waiting?.n ?? 0) });
    return "removed";
  });
}
