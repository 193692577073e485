/** A form's main button: its label while the action runs says so. */
export function SubmitButton({ pending, label, pendingLabel }: { pending: boolean; label: string; pendingLabel: string }) {
  return (
    <button
      type="submit"
      disabled={pending}
      className="rounded bg-blue-700 px-4 py-1.5 font-medium text-white hover:bg-blue-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60"
    >
      {pending ? pendingLabel : label}
    </button>
  );
}

/** A secret shown once after it was made (a signing secret), selected on focus for copying. */
export function RevealedSecret({ id, label, value, testId, children }: { id: string; label: string; value: string; testId: string; children?: React.ReactNode }) {
  return (
    <div className="mt-2 rounded border border-amber-300 bg-amber-50 p-3">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input id={id} readOnly value={value} data-testid={testId} onFocus={(event) => event.currentTarget.select()} className="mt-1 w-full rounded border border-slate-300 bg-white px-3 py-1.5 font-mono text-sm" />
      {children}
    </div>
  );
}
