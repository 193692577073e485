import Link from "next/link";
import { requireUser } from "@/lib/auth/session";

export default async function HomePage() {
  const user = await requireUser();
  return (
    <main className="mx-auto max-w-5xl p-6">
      <h1 className="text-2xl font-semibold">Dashboard</h1>
      <p className="mt-2 text-slate-700">Signed in as {user.username}.</p>
      {user.role === "admin" && (
        <p className="mt-4">
          <Link href="/admin/account-logs" className="text-blue-700 underline">
            Open Account Logs
          </Link>
        </p>
      )}
    </main>
  );
}
