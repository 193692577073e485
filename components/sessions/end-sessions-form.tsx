import { ADMIN_REASON_MAX_LENGTH } from "@/lib/users/limits";

type Props = {
  /** Unique on the page: the reason field's ID starts with it. */
  idPrefix: string;
  userId?: number;
  /** One session; without it, the form ends several (all, or all but the current one). */
  sessionId?: number;
  /** The button's words: "End session", "End all sessions", "End all other sessions". */
  label: string;
  /** Read after the label by screen readers: which session or account it ends. */
  detail: string;
  /** Admins give a short reason, as for a lock; owners ending their own sessions do not. */
  askReason: boolean;
  action: (form: FormData) => void;
  pending: boolean;
  /** The message's ID when the last error was about the reason. */
  errorId?: string;
};

/** Ends one session or several; the log row records who did it (and an admin's reason). */
export function EndSessionsForm({ idPrefix, userId, sessionId, label, detail, askReason, action, pending, errorId }: Props) {
  const inputId = `${idPrefix}-reason`;
  return (
    <form action={action} className="flex flex-wrap items-end gap-2">
      {userId !== undefined && <input type="hidden" name="userId" value={userId} />}
      {sessionId !== undefined && <input type="hidden" name="sessionId" value={sessionId} />}
      {askReason && (
        <div>
          <label htmlFor={inputId} className="block text-xs font-medium">
            Reason<span className="sr-only"> for: {label} ({detail})</span>
          </label>
          <input
            id={inputId}
            name="reason"
            type="text"
            required
            maxLength={ADMIN_REASON_MAX_LENGTH}
            autoComplete="off"
            aria-invalid={errorId ? true : undefined}
            aria-describedby={errorId}
            className="mt-1 w-56 rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-2 focus:outline-blue-600"
          />
        </div>
      )}
      <button
        type="submit"
        disabled={pending}
        className="rounded bg-red-700 px-3 py-1 text-sm font-medium text-white hover:bg-red-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60"
      >
        {label}
        <span className="sr-only"> ({detail})</span>
      </button>
    </form>
  );
}
