import type { LogRowView } from "@/lib/account-log/row-view";

/** The address as logged, and beside it its country or the kind of range it is in. */
export function IpAddressCell({ ip, place }: Pick<LogRowView, "ip" | "place">) {
  // The place is null exactly when there is no address.
  if (place === null) return <span className="font-mono text-xs">—</span>;
  const [prefix, text] = place;
  return (
    <span className="flex flex-wrap items-baseline gap-x-2">
      <span className="font-mono text-xs break-all" data-testid="ip-address">
        {ip}
      </span>
      <span className="text-xs whitespace-nowrap text-slate-600" data-testid="ip-location">
        <span className="sr-only">{prefix}</span>
        {text}
      </span>
    </span>
  );
}
