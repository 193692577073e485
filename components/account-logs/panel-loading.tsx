/**
 * A panel's place while its data loads. With JavaScript the panel replaces it; without, the
 * streamed panel stays hidden, so the note under `<noscript>` says where the same is found.
 */
export function PanelLoading({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="rounded border border-slate-200 bg-white p-3 text-sm text-slate-700" data-testid="panel-loading">
      <p>{label}</p>
      <noscript>
        <p className="mt-1">{children}</p>
      </noscript>
    </div>
  );
}
