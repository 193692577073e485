"use client";

import { useActionState, useId } from "react";
import { IDLE, type FormAction, type ReplayFormField } from "@/lib/actions/state";
import { RowAction, rowButtonClass } from "@/components/forms/form-parts";
import { useLatestState } from "@/components/forms/use-field-form";
import type { StreamSummary } from "@/lib/streams/store";
import { ActionMessage } from "@/components/users/action-message";
import { LogTime } from "@/components/account-logs/log-time";

export type StreamActions = {
  test: FormAction;
  replay: FormAction<ReplayFormField>;
  toggle: FormAction;
  remove: FormAction;
};

const count = (n: number) => n.toLocaleString("en-US");

function lagText(stream: StreamSummary): string {
  if (stream.lagRows === 0) return "Up to date";
  const seconds = stream.lagSeconds;
  const age = seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`;
  return `${count(stream.lagRows)} ${stream.lagRows === 1 ? "row" : "rows"} behind, oldest ${age}`;
}

/** Each destination with its lag, last success and last error, and what an admin does with it. */
export function StreamsList({ streams, actions }: { streams: StreamSummary[]; actions: StreamActions }) {
  const id = useId();
  const [testState, testAction, testing] = useActionState(actions.test, IDLE);
  const [replayState, replayAction, replaying] = useActionState(actions.replay, IDLE);
  const [toggleState, toggleAction, toggling] = useActionState(actions.toggle, IDLE);
  const [removeState, removeAction, removing] = useActionState(actions.remove, IDLE);
  const latest = useLatestState([testState, replayState, toggleState, removeState]);
  return (
    <div className="space-y-3">
      <ul className="space-y-3" data-testid="log-streams">
        {streams.map((stream) => {
          const failing = stream.failures > 0;
          return (
            <li key={stream.id} data-stream-id={stream.id} className="rounded border border-slate-200 bg-white p-3 text-sm">
              <div className="flex flex-wrap items-baseline justify-between gap-2">
                <h3 className="font-semibold">
                  {stream.name} <span className="font-normal text-slate-600">({stream.kind}, {stream.format})</span>
                </h3>
                <span className={!stream.enabled ? "text-slate-600" : failing ? "font-medium text-red-800" : "text-green-800"} data-testid="stream-state">
                  {!stream.enabled ? "Paused" : failing ? `Failing (${stream.failures} ${stream.failures === 1 ? "try" : "tries"})` : "Sending"}
                </span>
              </div>
              <p className="break-all font-mono text-xs text-slate-700">{stream.url}</p>
              <dl className="mt-2 grid gap-x-4 gap-y-1 sm:grid-cols-[auto_1fr]">
                <dt className="text-slate-600">Lag</dt>
                <dd data-testid="stream-lag" className={stream.lagRows > 0 && (failing || !stream.enabled) ? "font-medium text-amber-900" : undefined}>
                  {lagText(stream)} (sent through seq {count(stream.cursorSeq)}; {count(stream.deliveredRows)} rows delivered)
                </dd>
                <dt className="text-slate-600">Last success</dt>
                <dd>{stream.lastSuccessAt ? <LogTime at={stream.lastSuccessAt} /> : "Never"}</dd>
                <dt className="text-slate-600">Last error</dt>
                <dd data-testid="stream-error">
                  {stream.lastError ? (
                    <>
                      {stream.lastErrorAt && <LogTime at={stream.lastErrorAt} />}: {stream.lastError}
                      {failing && stream.nextAttemptAt && (
                        <>
                          {" "}
                          (next try <LogTime at={stream.nextAttemptAt} />)
                        </>
                      )}
                    </>
                  ) : (
                    "None"
                  )}
                </dd>
              </dl>
              <div className="mt-2 flex flex-wrap items-end gap-2">
                <RowAction action={testAction} fields={{ streamId: stream.id }} pending={testing} label="Send test event" accessibleName={`Send test event to ${stream.name}`} />
                <form action={replayAction} className="flex items-end gap-1">
                  <input type="hidden" name="streamId" value={stream.id} />
                  <label className="text-xs">
                    <span className="block text-slate-600">Replay from seq or time</span>
                    <input name="from" required maxLength={64} placeholder="1 or 2026-11-30T08:00:00Z" className="w-56 rounded border border-slate-300 px-2 py-0.5" />
                  </label>
                  <button type="submit" disabled={replaying} className={rowButtonClass} aria-label={`Replay ${stream.name}`}>
                    Replay
                  </button>
                </form>
                <RowAction
                  action={toggleAction}
                  fields={{ streamId: stream.id, enabled: String(!stream.enabled) }}
                  pending={toggling}
                  label={stream.enabled ? "Pause" : "Resume"}
                  accessibleName={`${stream.enabled ? "Pause" : "Resume"} ${stream.name}`}
                />
                <RowAction action={removeAction} fields={{ streamId: stream.id }} pending={removing} label="Remove" accessibleName={`Remove ${stream.name}`} danger />
              </div>
            </li>
          );
        })}
      </ul>
      <ActionMessage id={`${id}-message`} state={latest} />
    </div>
  );
}
