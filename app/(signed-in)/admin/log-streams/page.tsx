import type { Metadata } from "next";
import { AddStreamForm, AddSyslogForm } from "@/components/log-streams/add-stream-form";
import { StreamsList } from "@/components/log-streams/streams-list";
import { AddAlertRuleForm, AlertRulesList } from "@/components/alerts/alert-rules";
import { listAlertRules } from "@/lib/alerts/rules";
import { requireAdmin } from "@/lib/auth/session";
import { env } from "@/lib/env";
import { logServerError } from "@/lib/server-log";
import { listStreams } from "@/lib/streams/store";
import {
  addAlertRuleAction,
  addStreamAction,
  addSyslogAction,
  removeAlertRuleAction,
  removeStreamAction,
  replayStreamAction,
  testStreamAction,
  toggleAlertRuleAction,
  toggleStreamAction,
} from "./actions";

export const metadata: Metadata = { title: "Log streams" };

async function loadStreams() {
  try {
    return await listStreams();
  } catch (error) {
    logServerError("log streams page could not be loaded", error);
    return undefined;
  }
}

async function loadAlertRules() {
  try {
    return await listAlertRules();
  } catch (error) {
    logServerError("alert rules could not be loaded", error);
    return undefined;
  }
}

export default async function LogStreamsPage() {
  await requireAdmin();
  const [streams, rules] = await Promise.all([loadStreams(), loadAlertRules()]);
  return (
    <main className="mx-auto max-w-7xl space-y-6 p-4 sm:p-6">
      <h1 className="text-2xl font-semibold">Log streams</h1>
      <p className="max-w-3xl text-sm text-slate-700">
        Every sealed row of the account log goes to each destination once or more, in order, from its own cursor; a destination that
        fails is retried with backoff and shows its error here until it recovers. Adding, pausing, replaying and removing are logged.
        See docs/integrations.md.
      </p>
      <div className="grid gap-4 xl:grid-cols-2">
        <AddStreamForm action={addStreamAction} />
        <AddSyslogForm action={addSyslogAction} />
      </div>
      <section aria-labelledby="streams-heading" className="space-y-3">
        <h2 id="streams-heading" className="text-lg font-semibold">
          Destinations
        </h2>
        {!streams ? (
          <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900" data-testid="load-error">
            The streams could not be loaded right now. Try again in a moment.
          </p>
        ) : streams.length === 0 ? (
          <p className="rounded border border-slate-200 bg-white p-4 text-slate-700">No stream yet.</p>
        ) : (
          <StreamsList streams={streams} actions={{ test: testStreamAction, replay: replayStreamAction, toggle: toggleStreamAction, remove: removeStreamAction }} />
        )}
      </section>
      <section aria-labelledby="alerts-heading" className="space-y-3">
        <h2 id="alerts-heading" className="text-lg font-semibold">
          Alerts
        </h2>
        <p className="max-w-3xl text-sm text-slate-700">
          Each event is sent once per rule, by webhook and email, with a link to the rows behind it. A failed send is tried again with
          backoff until it goes through, and shows here meanwhile. Adding, pausing and removing rules are logged.
        </p>
        <AddAlertRuleForm action={addAlertRuleAction} emailConfigured={Boolean(env().SMTP_URL)} />
        {!rules ? (
          <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900">The alert rules could not be loaded right now. Try again in a moment.</p>
        ) : rules.length === 0 ? (
          <p className="rounded border border-slate-200 bg-white p-4 text-slate-700">No alert rule yet.</p>
        ) : (
          <AlertRulesList rules={rules} actions={{ toggle: toggleAlertRuleAction, remove: removeAlertRuleAction }} />
        )}
      </section>
    </main>
  );
}
