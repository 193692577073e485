import type { Metadata } from "next";
import { requireAdmin } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Account Logs" };

export default async function AccountLogsPage() {
  await requireAdmin();
  return (
    <main className="mx-auto max-w-7xl p-6">
      <h1 className="text-2xl font-semibold">Account Logs</h1>
    </main>
  );
}
