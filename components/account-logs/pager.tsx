import Link from "next/link";
import { accountLogHref, filtersOf, type AccountLogQuery } from "@/lib/account-log/search-params";

type Props = { query: AccountLogQuery; newerCursor?: number; olderCursor?: number };

const linkClass = "rounded border border-slate-300 px-3 py-1 hover:bg-slate-100";
const disabledClass = "rounded border border-slate-200 px-3 py-1 text-slate-400";

export function Pager({ query, newerCursor, olderCursor }: Props) {
  const base = { ...filtersOf(query), size: query.size };
  return (
    <nav aria-label="Pages" className="flex items-center gap-2 text-sm">
      <Link href={accountLogHref(base)} className={linkClass}>
        Newest
      </Link>
      {newerCursor !== undefined ? (
        <Link href={accountLogHref({ ...base, after: newerCursor })} rel="prev" className={linkClass}>
          ← Newer
        </Link>
      ) : (
        <span aria-disabled="true" className={disabledClass}>
          ← Newer
        </span>
      )}
      {olderCursor !== undefined ? (
        <Link href={accountLogHref({ ...base, before: olderCursor })} rel="next" className={linkClass}>
          Older →
        </Link>
      ) : (
        <span aria-disabled="true" className={disabledClass}>
          Older →
        </span>
      )}
    </nav>
  );
}
