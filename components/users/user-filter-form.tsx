import Link from "next/link";
import { USERNAME_MAX_LENGTH } from "@/lib/users/limits";

/** A plain GET form: the filter lives in the URL (`?q=`), works without JavaScript, and Back works. */
export function UserFilterForm({ q }: { q: string }) {
  return (
    <form role="search" method="get" action="/admin/users" className="flex flex-wrap items-end gap-2">
      <div>
        <label htmlFor="user-filter" className="block text-sm font-medium">
          Filter by username
        </label>
        <input
          id="user-filter"
          name="q"
          type="search"
          defaultValue={q}
          maxLength={USERNAME_MAX_LENGTH}
          autoComplete="off"
          spellCheck={false}
          className="mt-1 w-64 max-w-full rounded border border-slate-300 bg-white px-3 py-1.5 focus:outline-2 focus:outline-blue-600"
        />
      </div>
      <button
        type="submit"
        className="rounded bg-blue-700 px-3 py-1.5 font-medium text-white hover:bg-blue-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600"
      >
        Filter
      </button>
      {q && (
        <Link href="/admin/users" className="px-2 py-1.5 text-blue-700 underline">
          Clear filter
        </Link>
      )}
    </form>
  );
}
