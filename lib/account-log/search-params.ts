import { z } from "zod";
import { readFilters, writeFilters, type AccountLogFilters, type RawParams } from "./filters";

export { escapeLike, parseInstant, parseIpFilter, EARLIEST_INSTANT, INSTANT_LIMIT } from "./filter-values";
export { exactUsernameTerm, filtersOf, hasFilters, SEARCH_TERM_MAX, type AccountLogFilters } from "./filters";

export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 200;

export type AccountLogQuery = AccountLogFilters & { before?: number; after?: number; size: number };

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const idSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const sizeSchema = z.coerce.number().int().min(1).max(PAGE_SIZE_MAX);

/**
 * The page's URL parameters: the filters' (`filters.ts`), and `size`, `before` and `after` for
 * paging. Anything invalid is left out and reported, so a mangled link still shows a page and
 * says what was ignored.
 */
export function parseAccountLogQuery(params: RawParams): { query: AccountLogQuery; problems: string[] } {
  const { filters, problems } = readFilters(params);
  const query: AccountLogQuery = { ...filters, size: PAGE_SIZE_DEFAULT };

  const size = first(params.size);
  if (size !== undefined && size !== "") {
    const parsed = sizeSchema.safeParse(size);
    if (parsed.success) query.size = parsed.data;
    else problems.push(`Page size must be a whole number from 1 to ${PAGE_SIZE_MAX}; showing ${PAGE_SIZE_DEFAULT}.`);
  }
  for (const key of ["before", "after"] as const) {
    const value = first(params[key]);
    if (value === undefined || value === "") continue;
    const parsed = idSchema.safeParse(value);
    if (parsed.success) query[key] = parsed.data;
    else problems.push(`"${key}" must be a log ID; showing the newest entries.`);
  }
  if (query.before !== undefined && query.after !== undefined) {
    problems.push(`Use either "before" or "after", not both; showing the newest entries.`);
    delete query.before;
    delete query.after;
  }
  return { query, problems };
}

/** The URL parameters of a query, with defaults left out so links stay short. */
export function accountLogSearchParams(query: Partial<AccountLogQuery>): URLSearchParams {
  const params = writeFilters(query);
  if (query.size && query.size !== PAGE_SIZE_DEFAULT) params.set("size", String(query.size));
  if (query.before) params.set("before", String(query.before));
  if (query.after) params.set("after", String(query.after));
  return params;
}

/** The page's URL for a query. */
export function accountLogHref(query: Partial<AccountLogQuery>): string {
  const search = accountLogSearchParams(query).toString();
  return `/admin/account-logs${search ? `?${search}` : ""}`;
}

