"use client";

import { useActionState, useId, useState } from "react";
import { IDLE, type FormAction, type SessionActionState } from "@/lib/actions/state";
import { ActionMessage } from "@/components/users/action-message";
import { EndSessionsForm } from "./end-sessions-form";
import { SessionDetails, type SessionView } from "./session-details";

type Props = {
  sessions: SessionView[];
  currentSessionId: number;
  actions: {
    endOne: FormAction;
    endOthers: FormAction;
  };
};

/** The signed-in user's own sessions, this one first, each other one with End session. */
export function OwnSessions({ sessions, currentSessionId, actions }: Props) {
  const id = useId();
  const [oneState, oneAction, onePending] = useActionState(actions.endOne, IDLE);
  const [othersState, othersAction, othersPending] = useActionState(actions.endOthers, IDLE);
  const states = [oneState, othersState];
  const [seen, setSeen] = useState(states);
  const [latest, setLatest] = useState<SessionActionState | undefined>(() => states.find((state) => state.status !== "idle"));
  const changed = states.find((state, index) => state !== seen[index]);
  if (changed) {
    setSeen(states);
    setLatest(changed);
  }
  const ordered = [...sessions].sort((a, b) => Number(b.id === currentSessionId) - Number(a.id === currentSessionId));
  const others = sessions.filter((session) => session.id !== currentSessionId);
  return (
    <section aria-labelledby={`${id}-heading`} className="space-y-3">
      <h2 id={`${id}-heading`} className="text-lg font-semibold">
        Active sessions <span className="text-base font-normal text-slate-600">({sessions.length})</span>
      </h2>
      <ul className="space-y-2" data-testid="own-sessions">
        {ordered.map((session) => {
          const current = session.id === currentSessionId;
          return (
            <li
              key={session.id}
              data-session-id={session.id}
              data-current={current ? "true" : undefined}
              className="flex flex-wrap items-start justify-between gap-3 rounded border border-slate-200 bg-white p-3 text-sm"
            >
              <SessionDetails session={session} current={current} />
              {current ? (
                <p className="text-xs text-slate-600">Sign out to end this session.</p>
              ) : (
                <EndSessionsForm
                  idPrefix={`${id}-${session.id}`}
                  sessionId={session.id}
                  label="End session"
                  detail={`${session.device ?? "unknown device"}, ${session.ip ?? "unknown address"}`}
                  askReason={false}
                  action={oneAction}
                  pending={onePending}
                />
              )}
            </li>
          );
        })}
      </ul>
      {others.length > 0 && (
        <EndSessionsForm
          idPrefix={`${id}-others`}
          label="End all other sessions"
          detail={`${others.length} ${others.length === 1 ? "session" : "sessions"}, all but this one`}
          askReason={false}
          action={othersAction}
          pending={othersPending}
        />
      )}
      <ActionMessage id={`${id}-message`} state={latest} />
    </section>
  );
}
