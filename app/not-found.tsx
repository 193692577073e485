import Link from "next/link";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-xl p-8">
      <h1 className="text-xl font-semibold">404 · Not found</h1>
      <Link href="/" className="mt-4 inline-block text-blue-700 underline">
        Back to the dashboard
      </Link>
    </main>
  );
}
