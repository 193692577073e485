import { z } from "zod";
import { normalizeUsername } from "@/lib/users/username";
import { storableText } from "./text";

export const PAGE_SIZE_DEFAULT = 50;
export const PAGE_SIZE_MAX = 200;
export const SEARCH_TERM_MAX = 256;

export type AccountLogQuery = {
  /** The search as typed, for the search box. */
  term: string;
  /** The search normalized like sign-in usernames; "" for none. */
  q: string;
  before?: number;
  after?: number;
  size: number;
};

type RawParams = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const idSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const sizeSchema = z.coerce.number().int().min(1).max(PAGE_SIZE_MAX);

/**
 * The page's URL parameters. Anything invalid falls back to its default and is reported, so a
 * mangled link still shows a page and says what was ignored.
 */
export function parseAccountLogQuery(params: RawParams): { query: AccountLogQuery; problems: string[] } {
  const problems: string[] = [];
  let term = storableText(first(params.q) ?? "");
  // Counted in code points, so a cut never splits a character.
  const codePoints = [...term.slice(0, SEARCH_TERM_MAX * 2 + 1)];
  if (codePoints.length > SEARCH_TERM_MAX) {
    problems.push(`The search was longer than ${SEARCH_TERM_MAX} characters and was shortened.`);
    term = codePoints.slice(0, SEARCH_TERM_MAX).join("");
  }
  const query: AccountLogQuery = { term, q: normalizeUsername(term), size: PAGE_SIZE_DEFAULT };

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

/** The page's URL for a query, with defaults left out so links stay short. */
export function accountLogHref(query: Partial<AccountLogQuery> & { term?: string }): string {
  const params = new URLSearchParams();
  if (query.term) params.set("q", query.term);
  if (query.size && query.size !== PAGE_SIZE_DEFAULT) params.set("size", String(query.size));
  if (query.before) params.set("before", String(query.before));
  if (query.after) params.set("after", String(query.after));
  const search = params.toString();
  return `/admin/account-logs${search ? `?${search}` : ""}`;
}

/** `%`, `_` and `\` match themselves in a LIKE pattern with the default escape character. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (char) => `\\${char}`);
}
