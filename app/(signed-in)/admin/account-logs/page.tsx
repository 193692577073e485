import type { Metadata } from "next";
import { ChainStatusPanel } from "@/components/account-logs/chain-status";
import { ExportLinks } from "@/components/account-logs/export-links";
import { LockedAccountsPanel } from "@/components/account-logs/locked-accounts-panel";
import { LogTable } from "@/components/account-logs/log-table";
import { Pager } from "@/components/account-logs/pager";
import { SearchForm } from "@/components/account-logs/search-form";
import { UnlockNoticeProvider } from "@/components/account-logs/unlock-notice";
import { AccountStatusCard } from "@/components/account-logs/account-status";
import { ActivityChart } from "@/components/account-logs/activity-chart";
import { findActivity, type Activity } from "@/lib/account-log/activity";
import { NeedsAttention } from "@/components/account-logs/needs-attention";
import { findAccountLogs, findAccountStatus, listLockedAccounts } from "@/lib/account-log/queries";
import { hasFilters, parseAccountLogQuery, type AccountLogQuery } from "@/lib/account-log/search-params";
import { findAttention } from "@/lib/account-log/signals";
import { env } from "@/lib/env";
import { chainStatus } from "@/lib/audit/verify";
import { requireAdmin } from "@/lib/auth/session";
import { getDb } from "@/db";
import { logServerError } from "@/lib/server-log";
import { unlockAccountAction } from "./actions";

export const metadata: Metadata = { title: "Account Logs" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

async function loadPage(query: AccountLogQuery, now: Date) {
  try {
    const db = await getDb();
    const [{ numberOfLogs, page }, locked, chain, attention, account, activity] = await Promise.all([
      findAccountLogs(query),
      listLockedAccounts(),
      chainStatus(db),
      findAttention(now),
      query.exact ? findAccountStatus(query.q) : undefined,
      findActivity(db, query, now),
    ]);
    return { numberOfLogs, page, locked, chain, attention, account, activity };
  } catch (error) {
    logServerError("account log page could not be loaded", error);
    return undefined;
  }
}

const minute = (date: Date) => `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;

function activityCaption({ bucketLabel, from, to }: Activity, filtered: boolean): string {
  return `Sign-ins per ${bucketLabel}, ${minute(from)} to ${minute(to)}${filtered ? ", for this search and filters" : ""}`;
}

export default async function AccountLogsPage({ searchParams }: Props) {
  await requireAdmin();
  const { query, problems } = parseAccountLogQuery(await searchParams);
  const now = new Date();
  const data = await loadPage(query, now);
  const paged = query.before !== undefined || query.after !== undefined;

  return (
    <main className="mx-auto max-w-7xl space-y-4 p-6">
      <h1 className="text-2xl font-semibold">Account Logs</h1>
      {data && <NeedsAttention attention={data.attention} lockedTotal={data.locked.total} />}
      <SearchForm query={query} now={now} />
      {problems.length > 0 && (
        <ul className="rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" data-testid="query-problems">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
      {!data ? (
        <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900" data-testid="load-error">
          The account log could not be loaded right now. Try again in a moment.
        </p>
      ) : (
        <UnlockNoticeProvider>
          <div className="flex flex-wrap items-center justify-between gap-2">
            <p className="text-lg" data-testid="number-of-logs">
              <span className="font-semibold">Number of Logs:</span> {data.numberOfLogs.toLocaleString("en-US")}
            </p>
            <ExportLinks filters={query} />
          </div>
          {data.account && <AccountStatusCard status={data.account} threshold={env().LOCKOUT_THRESHOLD} />}
          {data.activity.note && (
            <p className="text-sm text-slate-700" data-testid="activity-note">
              {data.activity.note}
            </p>
          )}
          {data.activity.buckets.length > 0 && (
            <ActivityChart
              buckets={data.activity.buckets}
              bucketLabel={data.activity.bucketLabel}
              caption={activityCaption(data.activity, hasFilters(query))}
            />
          )}
          <ChainStatusPanel status={data.chain} />
          <LockedAccountsPanel accounts={data.locked.accounts} total={data.locked.total} unlockAction={unlockAccountAction} />
          {data.page.rows.length === 0 ? (
            <>
              <p className="rounded border border-slate-200 bg-white p-4 text-slate-700" data-testid="no-results">
                {paged ? (
                  "No more entries in this direction."
                ) : hasFilters(query) ? (
                  "No log entries match this search and these filters."
                ) : (
                  "The log has no entries yet."
                )}
              </p>
              {paged && <Pager query={query} />}
            </>
          ) : (
            <>
              <LogTable
                rows={data.page.rows}
                lockedUserIds={new Set(data.locked.accounts.map((account) => account.id))}
                flagged={{
                  sprayingIps: new Set(data.attention.spraying.map((entry) => entry.ip)),
                  burstUsernames: new Set(data.attention.bursts.map((entry) => entry.username)),
                }}
                unlockAction={unlockAccountAction}
              />
              <Pager query={query} newerCursor={data.page.newerCursor} olderCursor={data.page.olderCursor} />
            </>
          )}
        </UnlockNoticeProvider>
      )}
    </main>
  );
}
