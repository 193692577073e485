import Link from "next/link";
import type { AccountStatus } from "@/lib/account-log/queries";
import { LogTime } from "./log-time";

/** The account behind an exact-username view: is it usable, how close to a lock, when it last worked. */
export function AccountStatusCard({ status, threshold }: { status: AccountStatus; threshold: number }) {
  const locked = status.lockedAt !== null;
  return (
    <section aria-labelledby="account-status-heading" className="rounded border border-slate-200 bg-white p-4 text-sm" data-testid="account-status">
      <h2 id="account-status-heading" className="text-base font-semibold">
        Account {status.username}
      </h2>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 sm:grid-cols-[auto_1fr_auto_1fr]">
        <dt className="font-medium">Status</dt>
        <dd data-testid="account-status-state">
          {locked ? (
            <span className="font-semibold text-red-800">
              Locked since <LogTime at={status.lockedAt!} />
            </span>
          ) : (
            <span className="text-green-800">Active</span>
          )}
        </dd>
        <dt className="font-medium">Consecutive failures</dt>
        <dd data-testid="account-status-failures">
          {status.failedAttempts} of {threshold}
          <span className="text-slate-600"> (one more than {threshold} locks the account)</span>
        </dd>
        <dt className="font-medium">Last successful sign-in</dt>
        <dd data-testid="account-status-last-success">
          {status.lastSuccess ? (
            <>
              <LogTime at={status.lastSuccess.at} />
              {status.lastSuccess.ip && <span className="font-mono"> from {status.lastSuccess.ip}</span>}
              {status.lastSuccess.browser && <> with {status.lastSuccess.browser}</>}
            </>
          ) : (
            "never"
          )}
        </dd>
        <dt className="font-medium">Role</dt>
        <dd data-testid="account-status-role">{status.role}</dd>
      </dl>
      <p className="mt-2">
        <Link href={`/admin/users?q=${encodeURIComponent(status.username)}`} className="text-blue-800 underline">
          Manage this account in Users
        </Link>
      </p>
    </section>
  );
}
