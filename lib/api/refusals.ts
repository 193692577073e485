import { and, eq, sql } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import { apiTokens } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { metrics } from "@/lib/metrics/registry";
import { logServerInfo } from "@/lib/server-log";
import { tokenLogName, type TokenCheck } from "./tokens";

/** An address with this many refused tokens within the window gets 429 for further refused ones. */
export const TOKEN_REFUSAL_LIMIT = 20;
export const TOKEN_REFUSAL_WINDOW_MINUTES = 15;

/**
 * What refusals are counted by: the address, or for IPv6 its /64, which one client commonly
 * holds whole (counting single IPv6 addresses would let it rotate through them).
 */
const refusalKey = (ip: string) => sql`(case when family(${ip}::inet) = 6 then network(set_masklen(${ip}::inet, 64))::inet else host(${ip}::inet)::inet end)`;
const inWindow = (ip: string) => sql`ip = ${refusalKey(ip)} and minute > now() - ${TOKEN_REFUSAL_WINDOW_MINUTES}::int * interval '1 minute'`;

/**
 * Whether an address has had `TOKEN_REFUSAL_LIMIT` tokens refused within the window, as every app
 * instance counts them, and when to come back: once the oldest counted minute leaves the window.
 */
export async function tokenRefusalThrottle(executor: Executor, ip: string): Promise<{ throttled: false } | { throttled: true; retryAfterSeconds: number }> {
  const [row] = rowsOf<{ refusals: number | string; retry_after: number | string | null }>(
    await executor.execute(sql`
      select coalesce(sum(refusals), 0) as refusals,
        ceil(extract(epoch from min(minute) + ${TOKEN_REFUSAL_WINDOW_MINUTES + 1}::int * interval '1 minute' - now())) as retry_after
      from api_token_refusals where ${inWindow(ip)}`),
  );
  if (Number(row?.refusals ?? 0) < TOKEN_REFUSAL_LIMIT) return { throttled: false };
  return { throttled: true, retryAfterSeconds: Math.max(1, Number(row?.retry_after ?? 60)) };
}

/** How often a revoked or expired token's use is a log row: once a window per token, on every instance together. */
const REFUSED_TOKEN_ROW_MINUTES = TOKEN_REFUSAL_WINDOW_MINUTES;

/**
 * Counts a refused token against its address: one row per address and minute, so a flood adds
 * counts, not rows. A token nobody ever made is not a log row (an anonymous caller must not grow
 * the log): it is counted, in the metrics and, once a window per address, in the server log. A
 * real token used after it was revoked or expired is a log row naming it, once a window per token:
 * a forgotten collector, or a leaked token being tried.
 */
export async function recordTokenRefusal(
  executor: Executor,
  { context, refused }: { context: RequestContext; refused: Extract<TokenCheck, { status: "refused" }> },
): Promise<void> {
  metrics().apiTokenRefusals.inc({ why: refused.why });
  const ip = context.ip;
  if (ip) {
    const [row] = rowsOf<{ refusals: number | string }>(
      await executor.execute(sql`
        with bumped as (
          insert into api_token_refusals (ip, minute, refusals) values (${refusalKey(ip)}, date_trunc('minute', now()), 1)
          on conflict (ip, minute) do update set refusals = api_token_refusals.refusals + 1
          returning refusals)
        select (select refusals from bumped) + (select coalesce(sum(refusals), 0) from api_token_refusals
          where ${inWindow(ip)} and minute <> date_trunc('minute', now())) as refusals`),
    );
    const refusals = Number(row?.refusals ?? 0);
    if (refusals === 1) {
      await executor.execute(sql`delete from api_token_refusals where minute < now() - interval '1 day'`);
      logServerInfo("API token refused", { ip: ip.slice(0, 64), why: refused.why });
    } else if (refusals === TOKEN_REFUSAL_LIMIT) {
      logServerInfo("API token refusals throttled", { ip: ip.slice(0, 64), refusals, windowMinutes: TOKEN_REFUSAL_WINDOW_MINUTES });
    }
  }
  if (!refused.token) return;
  const [due] = await executor
    .update(apiTokens)
    .set({ lastRefusedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, refused.token.id),
        sql`(${apiTokens.lastRefusedAt} is null or ${apiTokens.lastRefusedAt} < now() - ${REFUSED_TOKEN_ROW_MINUTES}::int * interval '1 minute')`,
      ),
    )
    .returning({ id: apiTokens.id });
  if (!due) return;
  await appendAccountLog(executor, [
    {
      username: tokenLogName(refused.token.name),
      userId: null,
      result: "api_token_refused",
      ip: ip ?? null,
      metadata: { ...requestMetadata(context), apiToken: { id: refused.token.id, hint: refused.token.hint, refused: refused.why } },
    },
  ]);
}

/**
 * Requests per token and app process: a bucket of `burst` requests refilled at `perSecond`, so
 * a poller that pages quickly is served and a runaway loop gets 429 with Retry-After. Pure: the
 * caller keeps the buckets and the clock.
 */
export type Bucket = { tokens: number; at: number };
export const TOKEN_RATE = { perSecond: 10, burst: 20 } as const;

export function takeFromBucket(bucket: Bucket | undefined, now: number, { perSecond, burst }: { perSecond: number; burst: number } = TOKEN_RATE) {
  const filled = bucket ? Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond) : burst;
  if (filled >= 1) return { allowed: true as const, bucket: { tokens: filled - 1, at: now } };
  return { allowed: false as const, bucket: { tokens: filled, at: now }, retryAfterSeconds: Math.max(1, Math.ceil((1 - filled) / perSecond)) };
}

const buckets = new Map<string, Bucket>();

/** Takes one request from a token's bucket in this process (by its ID and hint: IDs repeat across databases). */
export function admitTokenRequest(token: { id: number; hint: string }, now = Date.now()): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
  const key = `${token.id}:${token.hint}`;
  const taken = takeFromBucket(buckets.get(key), now);
  buckets.set(key, taken.bucket);
  return taken.allowed ? { allowed: true } : { allowed: false, retryAfterSeconds: taken.retryAfterSeconds };
}
