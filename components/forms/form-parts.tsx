/** A text input or textarea of a form, red-bordered while an error points at it. */
export const fieldInputClass = "mt-1 w-full rounded border border-slate-300 bg-white px-3 py-1.5 focus:outline-2 focus:outline-blue-600 aria-[invalid=true]:border-red-600";

/** A small button acting on one item of a list. */
export const rowButtonClass = "rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-blue-600 disabled:opacity-60";

/**
 * One button acting on one item of a list (pause, remove, send a test): a form carrying the item's
 * ID and any fixed values, its accessible name naming the item.
 */
export function RowAction({
  action,
  fields,
  pending,
  label,
  accessibleName,
  danger = false,
}: {
  action: (form: FormData) => void;
  fields: Record<string, string | number>;
  pending: boolean;
  label: string;
  accessibleName: string;
  danger?: boolean;
}) {
  return (
    <form action={action}>
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" disabled={pending} className={danger ? `${rowButtonClass} border-red-300 text-red-800` : rowButtonClass} aria-label={accessibleName}>
        {label}
      </button>
    </form>
  );
}

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
