/** A short flag beside a value that deserves a second look; its words are the whole message. */
export function SignalMark({ label }: { label: string }) {
  return (
    <span className="ml-1 inline-block rounded bg-amber-200 px-1.5 py-0.5 text-xs font-semibold whitespace-nowrap text-amber-950 ring-1 ring-amber-500 ring-inset">
      {label}
    </span>
  );
}
