"use client";

import { useActionState } from "react";
import type { UnlockActionState } from "@/app/(signed-in)/admin/account-logs/actions";
import { useReportUnlock } from "./unlock-notice";

type Props = {
  userId: number;
  username: string;
  action: (state: UnlockActionState, form: FormData) => Promise<UnlockActionState>;
};

export function UnlockButton({ userId, username, action }: Props) {
  const report = useReportUnlock();
  const [, formAction, pending] = useActionState<UnlockActionState, FormData>(
    async (previous, form) => {
      const outcome = await action(previous, form);
      report(outcome);
      return outcome;
    },
    { status: "idle", message: "" },
  );
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
    </form>
  );
}
