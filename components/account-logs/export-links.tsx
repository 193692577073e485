/** Plain download links: the export selects what the page's URL selects, every page of it. */
export function ExportLinks({ term }: { term: string }) {
  const href = (format: "csv" | "ndjson") => {
    const params = new URLSearchParams({ format });
    if (term) params.set("q", term);
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
