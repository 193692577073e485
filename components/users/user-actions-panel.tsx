"use client";

import { useActionState, useId, useState } from "react";
import { IDLE, type FormAction, type UserActionState, type UserFormField } from "@/lib/actions/state";
import type { UserRole } from "@/db/schema";
import { EndSessionsForm } from "@/components/sessions/end-sessions-form";
import { SessionDetails, type SessionView } from "@/components/sessions/session-details";
import { AccountLockForm } from "./account-lock-form";
import { ActionMessage } from "./action-message";
import { ChangeRoleForm } from "./change-role-form";
import { ResetPasswordForm } from "./reset-password-form";

type Action = FormAction<UserFormField>;

export type UserActions = { resetPassword: Action; changeRole: Action; lock: Action; unlock: FormAction<"reason">; endSession: Action; endAllSessions: Action };

type Props = {
  user: { id: number; username: string; role: UserRole; locked: boolean; sessions: SessionView[] };
  isCurrentUser: boolean;
  currentSessionId: number;
  actions: UserActions;
};

/**
 * An account's admin actions behind a disclosure, with one status line for whichever ran last.
 * The server actions are the forms' actions themselves, so they also work without JavaScript
 * (the disclosure is then rendered open with the outcome).
 */
export function UserActionsPanel({ user, isCurrentUser, currentSessionId, actions }: Props) {
  const id = useId();
  const [resetState, resetAction, resetPending] = useActionState(actions.resetPassword, IDLE);
  const [roleState, roleAction, rolePending] = useActionState(actions.changeRole, IDLE);
  const [lockState, lockAction, lockPending] = useActionState(actions.lock, IDLE);
  const [unlockState, unlockAction, unlockPending] = useActionState(actions.unlock, IDLE);
  const [endState, endAction, endPending] = useActionState(actions.endSession, IDLE);
  const [endAllState, endAllAction, endAllPending] = useActionState(actions.endAllSessions, IDLE);

  // The newest outcome: a lock swaps the lock form for the unlock form, and its message must stay.
  const states = [resetState, roleState, lockState, unlockState, endState, endAllState];
  const [seen, setSeen] = useState(states);
  const [latest, setLatest] = useState<UserActionState | undefined>(() => states.find((state) => state.status !== "idle"));
  const changed = states.find((state, index) => state !== seen[index]);
  if (changed) {
    setSeen(states);
    setLatest(changed);
  }

  const messageId = `${id}-message`;
  const errorOn = (state: UserActionState, field: UserFormField) =>
    latest === state && state.status === "error" && state.field === field ? messageId : undefined;

  return (
    <details className="min-w-64" open={latest ? true : undefined}>
      <summary className="cursor-pointer rounded px-2 py-1 text-sm font-medium text-blue-800 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-blue-600">
        Manage<span className="sr-only"> {user.username}</span>
      </summary>
      <div className="mt-2 space-y-3 rounded border border-slate-200 bg-slate-50 p-3">
        <ResetPasswordForm
          idPrefix={id}
          userId={user.id}
          username={user.username}
          action={resetAction}
          pending={resetPending}
          errorId={errorOn(resetState, "password")}
        />
        <ChangeRoleForm userId={user.id} username={user.username} role={user.role} action={roleAction} pending={rolePending} />
        {user.locked ? (
          <AccountLockForm
            mode="unlock"
            idPrefix={id}
            userId={user.id}
            username={user.username}
            action={unlockAction}
            pending={unlockPending}
            errorId={errorOn(unlockState, "reason")}
          />
        ) : isCurrentUser ? (
          <p className="text-xs text-slate-600">This is your account: another admin can lock it.</p>
        ) : (
          <AccountLockForm
            mode="lock"
            idPrefix={id}
            userId={user.id}
            username={user.username}
            action={lockAction}
            pending={lockPending}
            errorId={errorOn(lockState, "reason")}
          />
        )}
        <section aria-label={`Active sessions of ${user.username}`} className="space-y-2 border-t border-slate-200 pt-3">
          <h3 className="text-xs font-semibold">
            Active sessions <span className="font-normal text-slate-600">({user.sessions.length})</span>
          </h3>
          {user.sessions.length === 0 ? (
            <p className="text-xs text-slate-600">No active sessions.</p>
          ) : (
            <>
              <ul className="space-y-2" data-testid="active-sessions">
                {user.sessions.map((session) => (
                  <li key={session.id} className="space-y-2 rounded border border-slate-200 bg-white p-2 text-sm" data-session-id={session.id}>
                    <SessionDetails session={session} current={session.id === currentSessionId} />
                    <EndSessionsForm
                      idPrefix={`${id}-session-${session.id}`}
                      userId={user.id}
                      sessionId={session.id}
                      label="End session"
                      detail={`${session.device ?? "unknown device"}, ${session.ip ?? "unknown address"}, of ${user.username}`}
                      askReason
                      action={endAction}
                      pending={endPending}
                      errorId={errorOn(endState, "reason")}
                    />
                  </li>
                ))}
              </ul>
              <EndSessionsForm
                idPrefix={`${id}-sessions`}
                userId={user.id}
                label="End all sessions"
                detail={`of ${user.username}`}
                askReason
                action={endAllAction}
                pending={endAllPending}
                errorId={errorOn(endAllState, "reason")}
              />
            </>
          )}
        </section>
        <ActionMessage id={messageId} state={latest} />
      </div>
    </details>
  );
}
