"use client";

import { useActionState, useId, useState } from "react";
import { IDLE, type ActionState, type FormAction } from "@/lib/actions/state";

/**
 * A form's action state and what its fields need from it: whether a field is the one an error
 * points at, the IDs that describe it (its hint, and the message when it is), and the values
 * typed before the error, to put back.
 */
export function useFieldForm<Field extends string>(action: FormAction<Field>) {
  const id = useId();
  const [state, formAction, pending] = useActionState(action, IDLE);
  const messageId = `${id}-message`;
  const invalid = (field: Field) => state.status === "error" && state.field === field;
  const describedBy = (field: Field, hint?: string) => [hint, invalid(field) ? messageId : undefined].filter(Boolean).join(" ") || undefined;
  const kept = state.status === "error" ? state.values : undefined;
  return { id, state, formAction, pending, messageId, invalid, describedBy, kept };
}

/** Of several buttons' action states, the one that changed last: what a list's one message shows. */
export function useLatestState(states: ActionState<string>[]): ActionState<string> | undefined {
  const [seen, setSeen] = useState(states);
  const [latest, setLatest] = useState<ActionState<string> | undefined>(undefined);
  const changed = states.find((state, index) => state !== seen[index]);
  if (changed) {
    setSeen(states);
    setLatest(changed);
  }
  return latest;
}
