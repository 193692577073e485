import Link from "next/link";
import { ACCOUNT_LOG_RESULTS, type AccountLogResult } from "@/db/schema";
import {
  accountLogHref,
  hasFilters,
  PAGE_SIZE_DEFAULT,
  SEARCH_TERM_MAX,
  type AccountLogQuery,
} from "@/lib/account-log/search-params";
import { countryParamValues } from "@/lib/account-log/filter-values";
import { localInputValue } from "@/lib/account-log/time-zone";
import { TimeZoneField } from "./time-zone-field";

const RESULT_GROUPS: { label: string; results: AccountLogResult[] }[] = [
  { label: "Sign-ins", results: ["login_successful", "logout", "session_revoked"] },
  { label: "Failures", results: ACCOUNT_LOG_RESULTS.filter((result) => result.startsWith("login_failed")) },
  { label: "Account and admin events", results: ["account_locked", "account_unlocked", "user_created", "password_reset", "role_changed", "logs_exported", "logs_retained", "access_denied"] },
  { label: "API, streams and alerts", results: ["api_token_created", "api_token_revoked", "api_token_refused", "stream_created", "stream_changed", "stream_removed", "stream_replayed", "alert_rule_created", "alert_rule_changed", "alert_rule_removed"] },
];

const QUICK_RANGES = [
  { label: "Last hour", ms: 3_600_000 },
  { label: "Last 24 hours", ms: 86_400_000 },
  { label: "Last 7 days", ms: 7 * 86_400_000 },
  { label: "Last 30 days", ms: 30 * 86_400_000 },
] as const;

const TIME_FIELDS = [
  { name: "from", label: "From" },
  { name: "to", label: "To" },
] as const;

const inputClass = "mt-1 rounded border border-slate-300 px-3 py-1.5 focus:outline-2 focus:outline-blue-600";

/**
 * A plain GET form: the search and filters live in the URL, work without JavaScript, and Back
 * works. Times without an offset are read in the zone the form sends (the viewer's, once the
 * page's script has run; UTC before).
 */
export function SearchForm({ query, now }: { query: AccountLogQuery; now: Date }) {
  const zone = query.tz ?? "UTC";
  const selected = new Set(query.results);
  const filtered = hasFilters(query);
  return (
    <form role="search" method="get" action="/admin/account-logs" className="space-y-3 rounded border border-slate-200 bg-white p-3">
      <div className="flex flex-wrap items-end gap-2">
        <div className="w-full sm:w-auto">
          <label htmlFor="account-log-search" className="block text-sm font-medium">
            Search by username
          </label>
          <input
            id="account-log-search"
            name="q"
            type="search"
            defaultValue={query.term}
            maxLength={SEARCH_TERM_MAX}
            autoComplete="off"
            spellCheck={false}
            aria-describedby="account-log-search-hint"
            className={`${inputClass} w-full sm:w-64`}
          />
        </div>
        <div className="w-full sm:w-auto">
          <label htmlFor="account-log-ip" className="block text-sm font-medium">
            IP address or network
          </label>
          <input
            id="account-log-ip"
            name="ip"
            type="text"
            defaultValue={query.ip ?? ""}
            maxLength={64}
            autoComplete="off"
            spellCheck={false}
            placeholder="203.0.113.7 or 203.0.113.0/24"
            className={`${inputClass} w-full font-mono text-sm sm:w-56`}
          />
        </div>
        <div>
          <label htmlFor="account-log-country" className="block text-sm font-medium">
            Country
          </label>
          <input
            id="account-log-country"
            name="country"
            type="text"
            defaultValue={query.country ? countryParamValues(query.country).join(" ") : ""}
            maxLength={200}
            autoComplete="off"
            spellCheck={false}
            placeholder="DE, !US"
            aria-describedby="account-log-country-hint"
            className={`${inputClass} w-28 font-mono text-sm`}
          />
        </div>
        {/* The two times wrap together, so a narrow row never leaves "To" alone on a line. */}
        <div className="flex flex-wrap items-end gap-2">
          {TIME_FIELDS.map(({ name, label }) => (
            <div key={name}>
              <label htmlFor={`account-log-${name}`} className="block text-sm font-medium">
                {label}
              </label>
              <input
                id={`account-log-${name}`}
                name={name}
                type="datetime-local"
                step={1}
                defaultValue={query[name] ? localInputValue(query[name], zone) : ""}
                aria-describedby="account-log-zone"
                className={inputClass}
              />
            </div>
          ))}
        </div>
      </div>
      <p id="account-log-search-hint" className="text-xs text-slate-600">
        Usernames containing the search; &quot;bob&quot; in double quotes for exactly that username.{" "}
        <span id="account-log-country-hint">Country: ISO codes as recorded at sign-in, !US to leave one out.</span>
      </p>
      <TimeZoneField
        zone={zone}
        fields={{ "account-log-from": query.from?.toISOString(), "account-log-to": query.to?.toISOString() }}
      />
      {/* Folded unless results are chosen, so the log's first rows stay in view; a native
          disclosure, so it opens without JavaScript too. */}
      <details open={selected.size > 0} data-testid="result-filters">
        <summary className="cursor-pointer text-sm font-medium">
          Result{selected.size > 0 ? ` (${selected.size} chosen)` : ": all"}
        </summary>
        <fieldset className="mt-2 flex flex-wrap gap-x-6 gap-y-2">
          <legend className="sr-only">Result</legend>
          {RESULT_GROUPS.map((group) => (
            <div key={group.label} role="group" aria-label={group.label} className="text-sm">
              <p className="text-xs font-semibold text-slate-600 uppercase">{group.label}</p>
              {group.results.map((result) => (
                <label key={result} className="flex min-h-6 items-center gap-1.5">
                  <input type="checkbox" name="result" value={result} defaultChecked={selected.has(result)} className="size-4" />
                  <span className="font-mono text-xs">{result}</span>
                </label>
              ))}
            </div>
          ))}
        </fieldset>
      </details>
      {query.size !== PAGE_SIZE_DEFAULT && <input type="hidden" name="size" value={query.size} />}
      <div className="flex flex-wrap items-center gap-2">
        <button type="submit" className="rounded bg-blue-700 px-3 py-1.5 font-medium text-white hover:bg-blue-800">
          Search
        </button>
        {filtered && (
          <Link href={accountLogHref({ tz: query.tz })} className="px-2 py-1.5 text-blue-700 underline">
            Clear search and filters
          </Link>
        )}
        <nav aria-label="Quick time ranges" className="flex flex-wrap gap-2 text-sm">
          {QUICK_RANGES.map((range) => (
            <Link
              key={range.label}
              href={accountLogHref({ ...query, from: new Date(now.getTime() - range.ms), to: undefined, before: undefined, after: undefined })}
              className="rounded border border-slate-300 px-2 py-1 text-slate-800 hover:bg-slate-50"
            >
              {range.label}
            </Link>
          ))}
        </nav>
      </div>
    </form>
  );
}
