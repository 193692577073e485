import Link from "next/link";

/** A disclosure menu: works without JavaScript and from the keyboard (Enter or Space on "Admin"). */
export function AdminMenu() {
  return (
    <details className="group relative">
      <summary className="cursor-pointer list-none rounded px-2 py-1 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-blue-600">
        Admin <span aria-hidden="true">▾</span>
      </summary>
      <ul className="absolute left-0 z-10 mt-1 min-w-44 rounded border border-slate-200 bg-white py-1 shadow-md">
        <li>
          <Link href="/admin/account-logs" className="block px-3 py-1.5 hover:bg-slate-100 focus-visible:bg-slate-100">
            Account Logs
          </Link>
        </li>
        <li>
          <Link href="/admin/users" className="block px-3 py-1.5 hover:bg-slate-100 focus-visible:bg-slate-100">
            Users
          </Link>
        </li>
      </ul>
    </details>
  );
}
