import { ADMIN_REASON_MAX_LENGTH } from "@/lib/users/limits";

type Props = {
  id: string;
  /** Read after "Reason" by screen readers: what the reason is for. */
  purpose: string;
  errorId?: string;
};

/** The short reason an admin gives for an action on an account (1–200 characters), labelled. */
export function ReasonField({ id, purpose, errorId }: Props) {
  return (
    <div>
      <label htmlFor={id} className="block text-xs font-medium">
        Reason<span className="sr-only"> {purpose}</span>
      </label>
      <input
        id={id}
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
  );
}
