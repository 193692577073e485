"use client";

import { createContext, useActionState, useContext, useState } from "react";
import { IDLE, isProblem, type FormAction, type UnlockActionState } from "@/lib/actions/state";

type Unlock = {
  /** The forms' action: the server action itself, so a form also posts without JavaScript. */
  action: (form: FormData) => void;
  state: UnlockActionState;
  pending: boolean;
  /** The form sent last (its id), to show a field error beside it. */
  sentBy: string | undefined;
  sending: (formId: string) => void;
};

const UnlockContext = createContext<Unlock | null>(null);

export function useUnlock(): Unlock {
  const unlock = useContext(UnlockContext);
  if (!unlock) throw new Error("An Unlock button must be inside UnlockNoticeProvider.");
  return unlock;
}

/**
 * The page's one unlock, shared by every Unlock button, and its outcome above the panel and
 * table. The state lives here, not in a button, because a successful unlock removes the button
 * that was clicked. Without JavaScript the form posts the action and the page comes back with
 * the outcome here.
 */
export function UnlockNoticeProvider({ action, children }: { action: FormAction<"reason">; children: React.ReactNode }) {
  const [state, formAction, pending] = useActionState(action, IDLE);
  const [sentBy, sending] = useState<string>();
  return (
    <UnlockContext.Provider value={{ action: formAction, state, pending, sentBy, sending }}>
      <p role="status" data-testid="unlock-notice" className={isProblem(state) ? "text-sm text-red-700" : "text-sm text-green-800"}>
        {state.status !== "idle" ? state.message : null}
      </p>
      {children}
    </UnlockContext.Provider>
  );
}
