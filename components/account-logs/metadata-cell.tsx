import type { AccountLogMetadata } from "@/db/schema";

/** What an export selected, every filter named: an auditor reads what left the system. */
function describeExportFilter(filter: NonNullable<AccountLogMetadata["export"]>["filter"]): string {
  const parts = [
    filter.q && (filter.exact ? `username “${filter.q}”` : `usernames containing “${filter.q}”`),
    filter.results?.length && `results ${filter.results.join(", ")}`,
    filter.from && `from ${filter.from}`,
    filter.to && `to ${filter.to}`,
    filter.ip && `address ${filter.ip}`,
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : "every row";
}

/** "Chrome 131 · Windows 11", expandable to the raw user agent and what else was recorded. */
export function MetadataCell({ metadata }: { metadata: AccountLogMetadata }) {
  const summary = metadata.summary ?? "—";
  const details: [string, string][] = [];
  if (metadata.userAgent) {
    const { value, length, truncated } = metadata.userAgent;
    details.push(["User agent", truncated ? `${value}… (${length} characters, cut)` : value]);
  }
  for (const [name, value] of Object.entries(metadata.clientHints ?? {})) details.push([name, value]);
  for (const [name, value] of Object.entries(metadata.forwardedHeaders ?? {})) details.push([`${name} (sent by client, untrusted)`, value]);
  if (metadata.actor) {
    const via = metadata.actor.via === "command line" ? " (command line)" : "";
    details.push(["By", `${metadata.actor.username}${via}`]);
  }
  if (metadata.reason) details.push(["Reason", metadata.reason]);
  if (metadata.role) details.push(["Role", metadata.role.from ? `${metadata.role.from} → ${metadata.role.to}` : metadata.role.to]);
  if (metadata.export) {
    const { format, filter } = metadata.export;
    details.push(["Exported", `${format === "ndjson" ? "JSON" : format.toUpperCase()}, ${describeExportFilter(filter)}`]);
  }
  if (metadata.resource) details.push(["Asked for", metadata.resource]);
  if (metadata.failedAttempts !== undefined) details.push(["Consecutive failures", String(metadata.failedAttempts)]);
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
