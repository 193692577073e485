"use client";

import { useId } from "react";
import { ADMIN_REASON_MAX_LENGTH } from "@/lib/users/limits";
import { useUnlock } from "./unlock-notice";

type Props = {
  userId: number;
  username: string;
};

/** Unlock, with the short reason the `account_unlocked` row records. */
export function UnlockButton({ userId, username }: Props) {
  const { action, state, pending, sentBy, sending } = useUnlock();
  const id = useId();
  const sentHere = sentBy === id;
  const reasonError = sentHere && state.status === "error" && state.field === "reason" ? state.message : undefined;
  return (
    <form action={action} onSubmit={() => sending(id)} className="relative inline-flex flex-wrap items-center gap-2">
      <input type="hidden" name="userId" value={userId} />
      <label htmlFor={`${id}-reason`} className="text-xs font-medium">
        Reason<span className="sr-only"> for unlocking {username}</span>
      </label>
      <input
        id={`${id}-reason`}
        name="reason"
        type="text"
        required
        maxLength={ADMIN_REASON_MAX_LENGTH}
        autoComplete="off"
        aria-invalid={reasonError ? true : undefined}
        aria-describedby={reasonError ? `${id}-reason-error` : undefined}
        className="w-44 rounded border border-slate-300 bg-white px-1.5 py-0.5 text-xs focus:outline-2 focus:outline-blue-600"
      />
      <button
        type="submit"
        disabled={pending && sentHere}
        aria-label={`Unlock ${username}`}
        className="rounded bg-blue-700 px-2 py-0.5 text-xs font-medium text-white hover:bg-blue-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60"
      >
        {pending && sentHere ? "Unlocking…" : "Unlock"}
      </button>
      {reasonError && (
        <span id={`${id}-reason-error`} className="text-xs text-red-700">
          {reasonError}
        </span>
      )}
    </form>
  );
}
