"use client";

import { useActionState, useId } from "react";
import { IDLE, type AlertRuleFormField, type FormAction } from "@/lib/actions/state";
import { fieldInputClass, RevealedSecret, RowAction, SubmitButton } from "@/components/forms/form-parts";
import { useFieldForm, useLatestState } from "@/components/forms/use-field-form";
import { ALERT_EVENT_LABELS, ALERT_EVENT_ORDER } from "@/lib/alerts/events";
import type { AlertRuleSummary } from "@/lib/alerts/rules";
import { ActionMessage } from "@/components/users/action-message";
import { LogTime } from "@/components/account-logs/log-time";


/** A rule: its events, and a webhook and/or email addresses; the webhook's signing secret is shown once. */
export function AddAlertRuleForm({ action, emailConfigured }: { action: FormAction<AlertRuleFormField>; emailConfigured: boolean }) {
  const { id, state, formAction, pending, messageId, invalid, describedBy, kept } = useFieldForm(action);
  return (
    <section aria-labelledby={`${id}-heading`} className="rounded border border-slate-200 bg-white p-4">
      <h3 id={`${id}-heading`} className="text-base font-semibold">
        Add an alert rule
      </h3>
      <form action={formAction} className="mt-3 grid gap-3 sm:grid-cols-2">
        <div>
          <label htmlFor={`${id}-name`} className="block text-sm font-medium">
            Name
          </label>
          <input id={`${id}-name`} name="name" required maxLength={100} autoComplete="off" placeholder="On-call" defaultValue={kept?.name} aria-invalid={invalid("name") || undefined} aria-describedby={describedBy("name")} className={fieldInputClass} />
        </div>
        <fieldset className="row-span-3" aria-invalid={invalid("events") || undefined} aria-describedby={describedBy("events")}>
          <legend className="text-sm font-medium">Alert when</legend>
          {ALERT_EVENT_ORDER.map((event) => (
            <label key={event} className="mt-1 flex items-center gap-2 text-sm">
              <input type="checkbox" name={event} defaultChecked={event !== "account_unlocked"} className="h-4 w-4" />
              {ALERT_EVENT_LABELS[event]}
            </label>
          ))}
        </fieldset>
        <div>
          <label htmlFor={`${id}-webhook`} className="block text-sm font-medium">
            Webhook URL (optional)
          </label>
          <input
            id={`${id}-webhook`}
            name="webhookUrl"
            type="url"
            maxLength={2048}
            placeholder="https://hooks.slack.com/services/…"
            defaultValue={kept?.webhookUrl}
            aria-invalid={invalid("webhookUrl") || undefined}
            aria-describedby={describedBy("webhookUrl", `${id}-webhook-hint`)}
            className={fieldInputClass}
          />
          <p id={`${id}-webhook-hint`} className="mt-1 text-xs text-slate-600">
            Signed like a stream&apos;s batches; the JSON has a <code>text</code> field for chat webhooks.
          </p>
        </div>
        <div>
          <label htmlFor={`${id}-email`} className="block text-sm font-medium">
            Email to (optional)
          </label>
          <input
            id={`${id}-email`}
            name="emailTo"
            maxLength={4096}
            autoComplete="off"
            placeholder="oncall@example.com, secops@example.com"
            defaultValue={kept?.emailTo}
            aria-invalid={invalid("emailTo") || undefined}
            aria-describedby={describedBy("emailTo", `${id}-email-hint`)}
            className={fieldInputClass}
          />
          <p id={`${id}-email-hint`} className={`mt-1 text-xs ${emailConfigured ? "text-slate-600" : "font-medium text-amber-900"}`}>
            {emailConfigured ? "Up to 20 addresses, separated by commas." : "SMTP_URL is not set: emails will wait, failing, until it is."}
          </p>
        </div>
        <div className="sm:col-span-2">
          <SubmitButton pending={pending} label="Add alert rule" pendingLabel="Adding…" />
        </div>
      </form>
      <ActionMessage id={messageId} state={state} />
      {state.status === "done" && state.reveal && <RevealedSecret id={`${id}-secret`} label="Webhook signing secret" value={state.reveal} testId="new-alert-secret" />}
    </section>
  );
}

export type AlertRuleActions = { toggle: FormAction; remove: FormAction };

/** Each rule with what waits to be sent for it, its last error, and pause and remove. */
export function AlertRulesList({ rules, actions }: { rules: AlertRuleSummary[]; actions: AlertRuleActions }) {
  const id = useId();
  const [toggleState, toggleAction, toggling] = useActionState(actions.toggle, IDLE);
  const [removeState, removeAction, removing] = useActionState(actions.remove, IDLE);
  const latest = useLatestState([toggleState, removeState]);
  return (
    <div className="space-y-3">
      <ul className="space-y-3" data-testid="alert-rules">
        {rules.map((rule) => {
          const failing = rule.failing > 0;
          return (
            <li key={rule.id} className="rounded border border-slate-200 bg-white p-3 text-sm">
              <div className="flex flex-wrap items-baseline justify-between gap-2">
                <h4 className="font-semibold">{rule.name}</h4>
                <span className={!rule.enabled ? "text-slate-600" : failing ? "font-medium text-red-800" : "text-green-800"} data-testid="alert-state">
                  {!rule.enabled ? "Paused" : failing ? `Failing (${rule.failing} waiting to be sent again)` : "Watching"}
                </span>
              </div>
              <dl className="mt-2 grid gap-x-4 gap-y-1 sm:grid-cols-[auto_1fr]">
                <dt className="text-slate-600">When</dt>
                <dd>{rule.events.map((event) => ALERT_EVENT_LABELS[event]).join("; ")}</dd>
                <dt className="text-slate-600">To</dt>
                <dd className="break-all">{[rule.webhookUrl && `webhook ${rule.webhookUrl}`, rule.emailTo.length > 0 && `email ${rule.emailTo.join(", ")}`].filter(Boolean).join("; ")}</dd>
                <dt className="text-slate-600">Waiting</dt>
                <dd data-testid="alert-pending">{rule.pending === 0 ? "Nothing" : `${rule.pending} ${rule.pending === 1 ? "alert" : "alerts"}`}</dd>
                <dt className="text-slate-600">Last sent</dt>
                <dd>{rule.lastSentAt ? <LogTime at={rule.lastSentAt} /> : "Never"}</dd>
                <dt className="text-slate-600">Last error</dt>
                <dd data-testid="alert-error">
                  {rule.lastError ? (
                    <>
                      <LogTime at={rule.lastError.at} /> ({rule.lastError.channel}): {rule.lastError.message}
                      {rule.nextAttemptAt && (
                        <>
                          {" "}
                          (next try <LogTime at={rule.nextAttemptAt} />)
                        </>
                      )}
                    </>
                  ) : (
                    "None"
                  )}
                </dd>
              </dl>
              <div className="mt-2 flex flex-wrap gap-2">
                <RowAction
                  action={toggleAction}
                  fields={{ ruleId: rule.id, enabled: String(!rule.enabled) }}
                  pending={toggling}
                  label={rule.enabled ? "Pause" : "Resume"}
                  accessibleName={`${rule.enabled ? "Pause" : "Resume"} alert rule ${rule.name}`}
                />
                <RowAction action={removeAction} fields={{ ruleId: rule.id }} pending={removing} label="Remove" accessibleName={`Remove alert rule ${rule.name}`} danger />
              </div>
            </li>
          );
        })}
      </ul>
      <ActionMessage id={`${id}-message`} state={latest} />
    </div>
  );
}
