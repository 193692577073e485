import Link from "next/link";
import type { CurrentUser } from "@/lib/auth/session";
import { AdminMenu } from "./admin-menu";
import { SignOutButton } from "./sign-out-button";

export function MenuBar({ user }: { user: CurrentUser }) {
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Menu bar" className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-1 px-4 py-2">
        <Link href="/" className="font-semibold">
          Account Logs
        </Link>
        {user.role === "admin" && <AdminMenu />}
        <div className="ml-auto flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
          <span>
            Signed in as <strong data-testid="current-username">{user.username}</strong>
          </span>
          <Link href="/account/sessions" className="rounded px-2 py-1 text-blue-800 underline hover:bg-slate-100">
            Your sessions
          </Link>
          <SignOutButton />
        </div>
      </nav>
    </header>
  );
}
