import { ReasonField } from "@/components/ui/reason-field";

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
      <ReasonField id={inputId} purpose={`for ${mode === "lock" ? "locking" : "unlocking"} ${username}`} errorId={errorId} />
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
