"use client";

import { useActionState } from "react";
import type { UnlockActionState } from "@/app/(signed-in)/admin/account-logs/actions";

type Props = {
  userId: number;
  username: string;
  action: (state: UnlockActionState, form: FormData) => Promise<UnlockActionState>;
};

export function UnlockButton({ userId, username, action }: Props) {
  const [state, formAction, pending] = useActionState<UnlockActionState, FormData>(action, { status: "idle", message: "" });
  return (
    <form action={formAction} className="inline-flex items-center gap-2">
      <input type="hidden" name="userId" value={userId} />
      <button
        type="submit"
        disabled={pending}
        aria-label={`Unlock ${username}`}
        className="rounded bg-blue-700 px-2 py-0.5 text-xs font-medium text-white hover:bg-blue-800 disabled:opacity-60"
      >
        {pending ? "Unlocking…" : "Unlock"}
      </button>
      <span role="status" className={`text-xs ${state.status === "error" ? "text-red-700" : "text-green-800"}`}>
        {state.message}
      </span>
    </form>
  );
}
