import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="mx-auto max-w-xl p-8">
      <h1 className="text-xl font-semibold">403 · Not allowed</h1>
      <p className="mt-2 text-slate-700">This page is for administrators only.</p>
      <Link href="/" className="mt-4 inline-block text-blue-700 underline">
        Back to the dashboard
      </Link>
    </main>
  );
}
