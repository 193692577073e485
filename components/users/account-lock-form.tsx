import { ADMIN_REASON_MAX_LENGTH } from "@/lib/users/limits";

type Props = {
  mode: "lock" | "unlock";
  idPrefix: string;
  userId: number;
  username: string;
  action: (form: FormData) => void;
  pending: boolean;
  /** The message's ID when the last error was about the reason. */
  errorId?: string;
};

/** Lock or unlock, each with the short reason the log row records. */
export function AccountLockForm({ mode, idPrefix, userId, username, action, pending, errorId }: Props) {
  const verb = mode === "lock" ? "Lock" : "Unlock";
  const inputId = `${idPrefix}-${mode}-reason`;
  return (
    <form action={action} className="flex flex-wrap items-end gap-2">
      <input type="hidden" name="userId" value={userId} />
      <div>
        <label htmlFor={inputId} className="block text-xs font-medium">
          Reason<span className="sr-only"> for {mode === "lock" ? "locking" : "unlocking"} {username}</span>
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
      <button
        type="submit"
        disabled={pending}
        className={`rounded px-3 py-1 text-sm font-medium text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60 ${
          mode === "lock" ? "bg-red-700 hover:bg-red-800" : "bg-blue-700 hover:bg-blue-800"
        }`}
      >
        {verb}
        <span className="sr-only"> {username}</span>
      </button>
    </form>
  );
}
