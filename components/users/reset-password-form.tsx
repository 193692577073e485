import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/users/limits";

type Props = {
  idPrefix: string;
  userId: number;
  username: string;
  action: (form: FormData) => void;
  pending: boolean;
  /** The message's ID when the last error was about the password. */
  errorId?: string;
};

export function ResetPasswordForm({ idPrefix, userId, username, action, pending, errorId }: Props) {
  return (
    <form action={action} className="flex flex-wrap items-end gap-2">
      <input type="hidden" name="userId" value={userId} />
      <div>
        <label htmlFor={`${idPrefix}-password`} className="block text-xs font-medium">
          New password<span className="sr-only"> for {username}</span>
        </label>
        <input
          id={`${idPrefix}-password`}
          name="password"
          type="password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          maxLength={PASSWORD_MAX_LENGTH}
          autoComplete="new-password"
          aria-invalid={errorId ? true : undefined}
          aria-describedby={[`${idPrefix}-password-hint`, errorId].filter(Boolean).join(" ")}
          className="mt-1 w-48 rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-2 focus:outline-blue-600"
        />
        <p id={`${idPrefix}-password-hint`} className="mt-0.5 text-xs text-slate-600">
          At least {PASSWORD_MIN_LENGTH} characters; ends their sessions.
        </p>
      </div>
      <button
        type="submit"
        disabled={pending}
        className="mb-5 rounded bg-blue-700 px-3 py-1 text-sm font-medium text-white hover:bg-blue-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60"
      >
        Set password<span className="sr-only"> for {username}</span>
      </button>
    </form>
  );
}
