import { sql, type SQL } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";

export type ThrottleLimits = { maxFailures: number; windowSeconds: number };

const attemptsInProgress = new Map<string, number>();

/**
 * Claims one of an address's `maxConcurrent` places for an attempt in this process, or none when
 * all are taken. Without it, a burst from one address would all pass the count below before
 * the first of them is logged; with it, a burst overshoots the limit by at most this number per
 * app process. Returns the release to call when the attempt is over.
 */
export function claimAttemptPlace(ip: string, maxConcurrent: number): (() => void) | undefined {
  const taken = attemptsInProgress.get(ip) ?? 0;
  if (taken >= maxConcurrent) return undefined;
  attemptsInProgress.set(ip, taken + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (attemptsInProgress.get(ip) ?? 1) - 1;
    if (left > 0) attemptsInProgress.set(ip, left);
    else attemptsInProgress.delete(ip);
  };
}

/**
 * Whether a client address has made `maxFailures` failed sign-ins within the window: counted in
 * the log itself, so every app process on the database sees the same number. Refused attempts
 * count too (every `login_failed_*` row), so an address that keeps trying stays throttled until
 * it stops for a whole window.
 *
 * A soft limit: the count and the attempt's own row are not one atomic step, so attempts that
 * arrive together just under the limit all pass. With `claimAttemptPlace`, at most
 * `maxFailures + maxConcurrent × app processes - 1` passwords are checked in a window.
 */
export async function isAddressThrottled(executor: Executor, ip: string, { maxFailures, windowSeconds }: ThrottleLimits): Promise<boolean> {
  // The literal `like 'login_failed%'` matches the partial index account_logs_ip_failures_idx;
  // the limit stops the scan once the answer is known. Rows not sealed yet count too: they are
  // read from the inbox in the same statement, so a row moving to the log counts once.
  const recent = (table: SQL) => sql`
    (select 1 from ${table}
     where ip = ${ip}::inet
       and occurred_at > now() - ${windowSeconds}::int * interval '1 second'
       and result like 'login_failed%'
     limit ${maxFailures}::int)`;
  const result = await executor.execute(sql`
    select count(*)::int as failures from (${recent(sql`account_logs`)} union all ${recent(sql`account_log_inbox`)}) recent`);
  const [row] = rowsOf<{ failures: number }>(result);
  return Number(row?.failures ?? 0) >= maxFailures;
}
