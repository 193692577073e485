"use client";

export default function AccountLogsError({ reset }: { error: Error; reset: () => void }) {
  return (
    <main className="mx-auto max-w-7xl p-6">
      <h1 className="text-2xl font-semibold">Account Logs</h1>
      <p className="mt-2 text-red-900">Something went wrong while showing the account log.</p>
      <button type="button" onClick={reset} className="mt-2 rounded border border-slate-300 px-3 py-1">
        Try again
      </button>
    </main>
  );
}
