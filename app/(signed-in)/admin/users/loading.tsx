export default function Loading() {
  return (
    <main className="mx-auto max-w-7xl space-y-4 p-4 sm:p-6" aria-busy="true">
      <h1 className="text-2xl font-semibold">Users</h1>
      <p className="text-slate-600" role="status">
        Loading the users…
      </p>
      <div className="h-64 animate-pulse rounded bg-slate-200" />
    </main>
  );
}
