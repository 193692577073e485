import { accountLogSearchParams, filtersOf, type AccountLogFilters } from "@/lib/account-log/search-params";

/** Plain download links: the export selects what the page's URL selects, every page of it. */
export function ExportLinks({ filters }: { filters: AccountLogFilters }) {
  const href = (format: "csv" | "ndjson") => {
    const params = accountLogSearchParams(filtersOf(filters));
    params.set("format", format);
    return `/admin/account-logs/export?${params}`;
  };
  const linkClass = "rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-50";
  return (
    <div className="flex gap-2" aria-label="Export the rows of this search">
      <a href={href("csv")} download className={linkClass}>
        Export CSV
      </a>
      <a href={href("ndjson")} download className={linkClass}>
        Export JSON
      </a>
    </div>
  );
}
