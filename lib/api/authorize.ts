import type { Executor } from "@/db";
import type { ApiTokenScope } from "@/db/schema";
import type { RequestContext } from "@/lib/client/request-context";
import { metrics } from "@/lib/metrics/registry";
import { recordTokenRefusal, tokenRefusalThrottle } from "./refusals";
import { checkApiToken, markTokenUsed } from "./tokens";

export type Authorization =
  | { status: "allowed"; token: { id: number; name: string; hint: string } }
  /** A valid token without the scope asked for: 403. */
  | { status: "lacks scope" }
  /** Unknown, revoked or expired: 401, counted against the address. */
  | { status: "refused" }
  /** A refused token from an address that had too many refused: 429 until the window moves on. */
  | { status: "throttled"; retryAfterSeconds: number };

/**
 * An API token presented for `scope`: one index probe for the token first, so a valid token is
 * served whatever others do from its address (a shared proxy or NAT). A refused one is counted
 * against the address; once the address has too many, it is answered 429 and no longer counted.
 * A use is recorded at most once a minute.
 */
export async function authorizeApiToken(executor: Executor, presented: string, scope: ApiTokenScope, context: RequestContext): Promise<Authorization> {
  const check = await checkApiToken(executor, presented);
  if (check.status === "valid") {
    if (!check.token.scopes.includes(scope)) return { status: "lacks scope" };
    await markTokenUsed(executor, check.token.id, context.ip ?? null);
    return { status: "allowed", token: check.token };
  }
  if (context.ip) {
    const throttle = await tokenRefusalThrottle(executor, context.ip);
    if (throttle.throttled) {
      metrics().apiTokenRefusals.inc({ why: "throttled" });
      return { status: "throttled", retryAfterSeconds: throttle.retryAfterSeconds };
    }
  }
  await recordTokenRefusal(executor, { context, refused: check });
  return { status: "refused" };
}
