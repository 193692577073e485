import { sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf, type Database } from "@/db";
import type { ApiTokenScope } from "@/db/schema";
import { FILTER_PARAMS, readFilters, writeFilters } from "@/lib/account-log/filters";
import type { RequestContext } from "@/lib/client/request-context";
import { metrics } from "@/lib/metrics/registry";
import { logServerError } from "@/lib/server-log";
import { API_FORMATS, apiRow, formatRow, type ApiFormat } from "./formats";
import { API_LIMIT_DEFAULT, API_LIMIT_MAX, readApiPage } from "./log-page";
import { authorizeApiToken } from "./authorize";
import { admitTokenRequest } from "./refusals";

const REALM = 'Bearer realm="account-logs"';
/** The longest value any parameter may have: a filter's bound is far below. */
const PARAM_LENGTH_MAX = 2_048;

const whole = (name: string, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n <= max, `${name} must be at most ${max.toLocaleString("en-US")}`);

const pagingSchema = z.object({
  after: whole("after", Number.MAX_SAFE_INTEGER).default(0),
  limit: whole("limit", API_LIMIT_MAX)
    .refine((n) => n >= 1, "limit must be at least 1")
    .default(API_LIMIT_DEFAULT),
  format: z.enum(API_FORMATS, { error: `format must be one of: ${API_FORMATS.join(", ")}` }).default("json"),
});

const PAGING_PARAMS = ["after", "limit", "format"] as const;
const KNOWN_PARAMS = new Map<string, boolean>([...PAGING_PARAMS.map((name) => [name, false] as const), ...FILTER_PARAMS.map(({ name, repeated }) => [name, repeated] as const)]);

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  metrics().apiRequests.inc({ status: String(status) });
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

const problem = (status: number, error: string, detail: string, headers?: Record<string, string>) => json(status, { error, detail }, headers);

/** The bearer token of an `Authorization` header; undefined without one, null when it is not a bearer token. */
export function bearerToken(authorization: string | null): string | undefined | null {
  if (authorization === null || authorization.trim() === "") return undefined;
  const match = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(authorization);
  return match ? match[1]! : null;
}

export type ParsedApiQuery = {
  after: number;
  limit: number;
  format: ApiFormat;
  filters: ReturnType<typeof readFilters>["filters"];
};

/** The query string, checked whole: an unknown, repeated or malformed parameter is named, never ignored. */
export function parseApiQuery(search: URLSearchParams): { query: ParsedApiQuery } | { problems: string[] } {
  const problems: string[] = [];
  const names = new Set(search.keys());
  for (const name of names) {
    const repeated = KNOWN_PARAMS.get(name);
    if (repeated === undefined) problems.push(`unknown parameter ${JSON.stringify(name.slice(0, 64))}`);
    else if (!repeated && search.getAll(name).length > 1) problems.push(`${name} may be given once`);
  }
  for (const [name, value] of search) if (value.length > PARAM_LENGTH_MAX) problems.push(`${name} is longer than ${PARAM_LENGTH_MAX} characters`);
  if (problems.length) return { problems };
  const paging = pagingSchema.safeParse(Object.fromEntries(PAGING_PARAMS.flatMap((name) => (search.has(name) ? [[name, search.get(name)]] : []))));
  if (!paging.success) problems.push(...paging.error.issues.map((issue) => issue.message));
  const { filters, problems: filterProblems } = readFilters(
    Object.fromEntries(FILTER_PARAMS.map(({ name, repeated }) => [name, repeated ? search.getAll(name) : (search.get(name) ?? undefined)])),
  );
  // The page shows a bad filter and goes on without it; the API refuses the request instead.
  problems.push(...filterProblems.map((text) => text.replace(/;? ?(it|the [a-z ]+) was ignored\.$/, "")));
  if (problems.length || !paging.success) return { problems };
  return { query: { ...paging.data, filters } };
}

/** The same request from `nextAfter` on: filters and format kept, so following `next` never changes the selection. */
function nextLink(url: URL, query: ParsedApiQuery, nextAfter: number): string {
  const next = new URL(url.pathname, url.origin);
  next.searchParams.set("after", String(nextAfter));
  next.searchParams.set("limit", String(query.limit));
  if (query.format !== "json") next.searchParams.set("format", query.format);
  writeFilters(query.filters, next.searchParams);
  return `<${next.pathname}${next.search}>; rel="next"`;
}

/**
 * `GET /api/v1/account-logs`: sealed log rows after a cursor, for a bearer token with `logs:read`.
 * The order of the checks keeps refusals cheap: no header costs no query; an address with too
 * many refused tokens is turned away before its token is looked up.
 */
export async function answerLogRequest(db: Database, { url, authorization, context }: { url: URL; authorization: string | null; context: RequestContext }): Promise<Response> {
  const presented = bearerToken(authorization);
  // No bearer token at all (none, or another scheme): no error code (RFC 6750), no query, not counted.
  if (!presented) return problem(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.", { "WWW-Authenticate": REALM });
  try {
    const needed: ApiTokenScope = "logs:read";
    const verdict = await authorizeApiToken(db, presented, needed, context);
    if (verdict.status === "throttled") {
      return problem(429, "too_many_refusals", "Too many refused tokens from this address; try again later.", { "Retry-After": String(verdict.retryAfterSeconds) });
    }
    if (verdict.status === "refused") {
      return problem(401, "invalid_token", "The token is not valid: unknown, revoked or expired.", { "WWW-Authenticate": `${REALM}, error="invalid_token"` });
    }
    if (verdict.status === "lacks scope") {
      return problem(403, "insufficient_scope", `This token lacks the ${needed} scope.`, {
        "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${needed}"`,
      });
    }
    const admitted = admitTokenRequest(verdict.token);
    if (!admitted.allowed) {
      return problem(429, "rate_limited", "Too many requests for this token; slow down.", { "Retry-After": String(admitted.retryAfterSeconds) });
    }
    const parsed = parseApiQuery(url.searchParams);
    if ("problems" in parsed) return problem(400, "invalid_parameter", `${parsed.problems.join("; ")}.`);
    const { query } = parsed;
    const retained = async () =>
      rowsOf<{ seq: number | string; retained_at: string | Date; months: string }>(
        await db.execute(sql`select seq, retained_at, (select string_agg(s->>'month', ', ') from jsonb_array_elements(spans) s) as months
          from account_log_boundaries order by seq desc limit 1`),
      )[0];
    // A reader with no cursor yet starts where the log starts now.
    if (!url.searchParams.has("after")) query.after = Number((await retained())?.seq ?? 0);
    let page = await readApiPage(db, query);
    // Read after the page: a retention that committed meanwhile is seen, so a cursor below the
    // boundary is never answered with the rows after the hole.
    let boundary = await retained();
    if (boundary && !url.searchParams.has("after") && query.after < Number(boundary.seq)) {
      // No cursor: the log's start moved while the page was read; read from the new start.
      query.after = Number(boundary.seq);
      page = await readApiPage(db, query);
      boundary = await retained();
    }
    if (boundary && query.after < Number(boundary.seq)) {
      const seq = Number(boundary.seq);
      return json(
        410,
        {
          error: "retained",
          detail: `Rows through seq ${seq} were archived and removed by retention (${boundary.months}) on ${new Date(boundary.retained_at).toISOString()}. The log goes on after seq ${seq}; the archives hold the rest.`,
          first_after: seq,
        },
        { Link: nextLink(url, query, seq) },
      );
    }
    const headers = { Link: nextLink(url, query, page.nextAfter), "X-Sealed-Through": String(page.sealedThrough), "X-Log-Id": page.logId };
    const rows = page.rows.map(apiRow);
    if (query.format === "ndjson") {
      metrics().apiRequests.inc({ status: "200" });
      return new Response(rows.map((row) => `${JSON.stringify(row)}\n`).join(""), {
        status: 200,
        headers: { "Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store", ...headers },
      });
    }
    return json(200, { data: rows.map((row) => formatRow(query.format, row)), next_after: page.nextAfter, sealed_through: page.sealedThrough, log_id: page.logId }, headers);
  } catch (error) {
    logServerError("log API request failed", error);
    return problem(503, "unavailable", "The log could not be read; try again in a moment.", { "Retry-After": "5" });
  }
}
