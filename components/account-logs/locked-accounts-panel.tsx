import type { LockedAccount } from "@/lib/account-log/queries";
import { accountLogHref, exactUsernameTerm } from "@/lib/account-log/search-params";
import { lockEvidenceView } from "@/lib/account-log/lock-evidence";
import { LockEvidence } from "./lock-evidence";
import { LogTime } from "./log-time";
import { UnlockButton } from "./unlock-button";

type Props = {
  accounts: LockedAccount[];
  total: number;
};

export function LockedAccountsPanel({ accounts, total }: Props) {
  return (
    <section id="locked-accounts" aria-labelledby="locked-accounts-heading" className="rounded border border-red-200 bg-red-50 p-4">
      <h2 id="locked-accounts-heading" className="font-semibold">
        Locked accounts ({total})
      </h2>
      {accounts.length === 0 ? (
        <p className="mt-1 text-sm text-slate-700">No account is locked.</p>
      ) : (
        <ul className="mt-2 space-y-2">
          {accounts.map((account) => (
            <li key={account.id} className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
              <a href={accountLogHref({ term: exactUsernameTerm(account.username) })} className="font-medium text-blue-800 underline">
                {account.username}
              </a>
              <span>
                locked since <LogTime at={account.lockedAt} />
              </span>
              {account.failedAttempts > 0 && !account.lock?.actor ? (
                <span>
                  after {account.failedAttempts} consecutive wrong passwords
                  {account.failureIps.length > 0 && <> from {account.failureIps.join(", ")}</>}
                </span>
              ) : (
                <span>by {account.lock?.actor ?? "an administrator"}</span>
              )}
              <UnlockButton userId={account.id} username={account.username} />
              <LockEvidence evidence={lockEvidenceView(account)} />
            </li>
          ))}
        </ul>
      )}
      {total > accounts.length && (
        <p className="mt-2 text-sm text-slate-700">
          Showing the {accounts.length} most recent locks of {total}.
        </p>
      )}
    </section>
  );
}
