/** An unambiguous UTC timestamp; the exact instant (ISO 8601, milliseconds) on hover. */
export function LogTime({ at }: { at: Date }) {
  const iso = at.toISOString();
  return (
    <time dateTime={iso} title={iso} className="whitespace-nowrap tabular-nums">
      {iso.slice(0, 10)} {iso.slice(11, 19)} UTC
    </time>
  );
}
