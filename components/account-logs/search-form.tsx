import Link from "next/link";
import { PAGE_SIZE_DEFAULT, SEARCH_TERM_MAX } from "@/lib/account-log/search-params";

/** A plain GET form: the search lives in the URL, works without JavaScript, and Back works. */
export function SearchForm({ term, size }: { term: string; size: number }) {
  return (
    <form role="search" method="get" action="/admin/account-logs" className="flex flex-wrap items-end gap-2">
      <div>
        <label htmlFor="account-log-search" className="block text-sm font-medium">
          Search by username
        </label>
        <input
          id="account-log-search"
          name="q"
          type="search"
          defaultValue={term}
          maxLength={SEARCH_TERM_MAX}
          autoComplete="off"
          spellCheck={false}
          className="mt-1 w-72 rounded border border-slate-300 px-3 py-1.5 focus:outline-2 focus:outline-blue-600"
        />
      </div>
      {size !== PAGE_SIZE_DEFAULT && <input type="hidden" name="size" value={size} />}
      <button type="submit" className="rounded bg-blue-700 px-3 py-1.5 font-medium text-white hover:bg-blue-800">
        Search
      </button>
      {term && (
        <Link href="/admin/account-logs" className="px-2 py-1.5 text-blue-700 underline">
          Clear search
        </Link>
      )}
    </form>
  );
}
