import type { LogRowView } from "@/lib/account-log/row-view";

/** "Chrome 131 · Windows 11", expandable to the raw user agent and what else was recorded. */
export function MetadataCell({ summary, details }: Pick<LogRowView, "summary" | "details">) {
  if (details.length === 0) return <span>{summary}</span>;
  return (
    <details className="max-w-md">
      <summary className="cursor-pointer">{summary}</summary>
      <dl className="mt-1 space-y-1 text-xs text-slate-600">
        {details.map(([name, value]) => (
          <div key={name}>
            <dt className="font-medium">{name}</dt>
            <dd className="break-all font-mono">{value}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
