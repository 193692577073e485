import { ReasonField } from "@/components/ui/reason-field";

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
      {askReason && <ReasonField id={inputId} purpose={`for: ${label} (${detail})`} errorId={errorId} />}
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
