"use client";

import Link from "next/link";
import { useRef, type KeyboardEvent } from "react";

const itemClass =
  "block px-3 py-1.5 hover:bg-slate-100 focus-visible:bg-slate-100 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-blue-600";

/**
 * A disclosure menu: works without JavaScript and from the keyboard (Enter or Space on "Admin").
 * The menu bar stays mounted across navigations, so choosing an item closes the menu instead of
 * leaving it open over the next page; Escape closes it and returns focus to "Admin".
 */
export function AdminMenu() {
  const menu = useRef<HTMLDetailsElement>(null);
  const close = () => menu.current?.removeAttribute("open");
  const closeOnEscape = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || !menu.current?.open) return;
    close();
    menu.current.querySelector("summary")?.focus();
  };
  return (
    <details ref={menu} className="group relative" onKeyDown={closeOnEscape}>
      <summary className="cursor-pointer list-none rounded px-2 py-1 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-blue-600">
        Admin <span aria-hidden="true">▾</span>
      </summary>
      <ul className="absolute left-0 z-10 mt-1 min-w-44 rounded border border-slate-200 bg-white py-1 shadow-md" onClick={close}>
        <li>
          <Link href="/admin/account-logs" className={itemClass}>
            Account Logs
          </Link>
        </li>
        <li>
          <Link href="/admin/users" className={itemClass}>
            Users
          </Link>
        </li>
        <li>
          <Link href="/admin/api-tokens" className={itemClass}>
            API tokens
          </Link>
        </li>
        <li>
          <Link href="/admin/log-streams" className={itemClass}>
            Log streams
          </Link>
        </li>
      </ul>
    </details>
  );
}
