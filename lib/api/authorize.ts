import type { Executor } from "@/db";
import type { ApiTokenScope } from "@/db/schema";
import type { RequestContext } from "@/lib/client/request-context";
import { metrics } from "@/lib/metrics/registry";
import { recordTokenRefusal, tokenRefusalThrottle } from "./refusals";
import { checkApiToken, markTokenUsed } from "./tokens";

export type Authorization =
  | { status: "allowed"; token: { id: number; name: string } }
  /** A valid token without the scope asked for: 403. */
  | { status: "lacks scope" }
  /** Unknown, revoked or expired (or not a token at all): 401, counted against the address. */
  | { status: "refused" }
  /** The address had too many tokens refused: 429 until the window moves on. */
  | { status: "throttled"; retryAfterSeconds: number };

/**
 * An API token presented for `scope`: the address's refusals first (a throttled address is
 * turned away before its token is looked up), then one index probe for the token. A refusal is
 * counted against the address; a use is recorded at most once a minute.
 */
export async function authorizeApiToken(executor: Executor, presented: string | null, scope: ApiTokenScope, context: RequestContext): Promise<Authorization> {
  if (context.ip) {
    const throttle = await tokenRefusalThrottle(executor, context.ip);
    if (throttle.throttled) {
      metrics().apiTokenRefusals.inc({ why: "throttled" });
      return { status: "throttled", retryAfterSeconds: throttle.retryAfterSeconds };
    }
  }
  const check = presented === null ? ({ status: "refused", why: "unknown" } as const) : await checkApiToken(executor, presented);
  if (check.status === "refused") {
    await recordTokenRefusal(executor, { context, refused: check });
    return { status: "refused" };
  }
  if (!check.token.scopes.includes(scope)) return { status: "lacks scope" };
  await markTokenUsed(executor, check.token.id, context.ip ?? null);
  return { status: "allowed", token: check.token };
}
