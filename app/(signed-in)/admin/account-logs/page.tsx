import type { Metadata } from "next";
import { Suspense } from "react";
import { AccountStatusCard } from "@/components/account-logs/account-status";
import { ActivityChart } from "@/components/account-logs/activity-chart";
import { ChainStatusPanel } from "@/components/account-logs/chain-status";
import { ExportLinks } from "@/components/account-logs/export-links";
import { LockedAccountsPanel } from "@/components/account-logs/locked-accounts-panel";
import { LogTable } from "@/components/account-logs/log-table";
import { NeedsAttention } from "@/components/account-logs/needs-attention";
import { Pager } from "@/components/account-logs/pager";
import { PanelLoading } from "@/components/account-logs/panel-loading";
import { SearchForm } from "@/components/account-logs/search-form";
import { UnlockNoticeProvider } from "@/components/account-logs/unlock-notice";
import { findActivity, type Activity } from "@/lib/account-log/activity";
import { findAccountLogs, findAccountStatus, listLockedAccounts } from "@/lib/account-log/queries";
import { NO_ROW_FLAGS } from "@/lib/account-log/row-view";
import { accountLogHref, hasFilters, parseAccountLogQuery, type AccountLogQuery } from "@/lib/account-log/search-params";
import { ATTENTION_WINDOW_HOURS, attentionWindow, FAILED_SIGN_IN_RESULTS, findAttention, findRowFlags } from "@/lib/account-log/signals";
import { chainStatus } from "@/lib/audit/verify";
import { requireAdmin } from "@/lib/auth/session";
import { env } from "@/lib/env";
import { logServerError } from "@/lib/server-log";
import { getDb } from "@/db";
import { unlockAccountAction } from "../actions";

export const metadata: Metadata = { title: "Account Logs" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** A part's data, or undefined once its failure is logged: one failed query leaves the rest of the page. */
function settle<T>(part: string, load: () => Promise<T>): Promise<T | undefined> {
  return load().catch((error: unknown) => {
    logServerError(`account log page: ${part} could not be loaded`, error);
    return undefined;
  });
}

/**
 * Every query starts at once. The log (the Number of Logs, an exact search's account and the
 * table) is the page's shell and is sent first; the chart and the panels beside it stream in
 * after it, each when its own data is in. The table's marks are read for its own rows, so it
 * never waits for a panel.
 */
function loadPage(query: AccountLogQuery, now: Date) {
  const db = getDb();
  const logs = settle("log entries", () => findAccountLogs(query));
  return {
    logs,
    rowFlags: logs.then((view) => (view ? settle("row flags", () => findRowFlags(view.page.rows, now)) : undefined)),
    locked: settle("locked accounts", () => listLockedAccounts()),
    chain: settle("audit chain", async () => chainStatus(await db)),
    attention: settle("signals", () => findAttention(now)),
    account: query.exact ? settle("account", () => findAccountStatus(query.q)) : Promise.resolve(undefined),
    activity: settle("activity", async () => findActivity(await db, query, now)),
  };
}

type Page = ReturnType<typeof loadPage>;

function LoadError({ what }: { what: string }) {
  return (
    <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900" data-testid="load-error">
      {what} could not be loaded right now. Try again in a moment.
    </p>
  );
}

async function Attention({ page }: { page: Page }) {
  const [attention, locked] = await Promise.all([page.attention, page.locked]);
  return attention && locked ? <NeedsAttention attention={attention} lockedTotal={locked.total} /> : null;
}

async function NumberOfLogs({ page, query }: { page: Page; query: AccountLogQuery }) {
  const logs = await page.logs;
  return (
    <div className="flex flex-wrap items-center justify-between gap-2">
      {logs ? (
        <p className="text-lg" data-testid="number-of-logs">
          <span className="font-semibold">Number of Logs:</span> {logs.numberOfLogs.toLocaleString("en-US")}
        </p>
      ) : (
        <LoadError what="The account log" />
      )}
      <ExportLinks filters={query} />
    </div>
  );
}

async function AccountStatus({ page }: { page: Page }) {
  const account = await page.account;
  return account ? <AccountStatusCard status={account} threshold={env().LOCKOUT_THRESHOLD} /> : null;
}

const minute = (date: Date) => `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;

function activityCaption({ bucketLabel, from, to }: Activity, filtered: boolean): string {
  return `Sign-ins per ${bucketLabel}, ${minute(from)} to ${minute(to)}${filtered ? ", for this search and filters" : ""}`;
}

async function ActivitySection({ page, query }: { page: Page; query: AccountLogQuery }) {
  const activity = await page.activity;
  if (!activity) return <LoadError what="The activity chart" />;
  return (
    <>
      {activity.note && (
        <p className="text-sm text-slate-700" data-testid="activity-note">
          {activity.note}
        </p>
      )}
      {activity.buckets.length > 0 && (
        <ActivityChart buckets={activity.buckets} bucketLabel={activity.bucketLabel} caption={activityCaption(activity, hasFilters(query))} />
      )}
    </>
  );
}

async function ChainStatus({ page }: { page: Page }) {
  const chain = await page.chain;
  return chain ? <ChainStatusPanel status={chain} /> : <LoadError what="The audit chain's status" />;
}

async function LockedAccounts({ page }: { page: Page }) {
  const locked = await page.locked;
  return locked ? (
    <LockedAccountsPanel accounts={locked.accounts} total={locked.total} />
  ) : (
    <LoadError what="The locked accounts" />
  );
}

async function LogEntries({ page, query }: { page: Page; query: AccountLogQuery }) {
  const [logs, flags] = await Promise.all([page.logs, page.rowFlags]);
  if (!logs) return null;
  const paged = query.before !== undefined || query.after !== undefined;
  if (logs.page.rows.length === 0) {
    return (
      <>
        <p className="rounded border border-slate-200 bg-white p-4 text-slate-700" data-testid="no-results">
          {paged
            ? "No more entries in this direction."
            : hasFilters(query)
              ? "No log entries match this search and these filters."
              : "The log has no entries yet."}
        </p>
        {paged && <Pager query={query} />}
      </>
    );
  }
  return (
    <>
      {!flags && <LoadError what="The table's Unlock buttons and signal marks" />}
      <LogTable rows={logs.page.rows} flags={flags ?? NO_ROW_FLAGS} />
      <Pager query={query} newerCursor={logs.page.newerCursor} olderCursor={logs.page.olderCursor} />
    </>
  );
}

export default async function AccountLogsPage({ searchParams }: Props) {
  await requireAdmin();
  const { query, problems } = parseAccountLogQuery(await searchParams);
  const now = new Date();
  const { since } = attentionWindow(now);
  const page = loadPage(query, now);

  // The log first, as the how-to reads: the search, the Number of Logs and the table lead the
  // page and come in its first bytes; the panels that help an investigation sit beside it on a
  // wide screen, after it on a narrow one. Streamed content stays hidden without JavaScript, so
  // each panel's placeholder says where to find the same without it.
  return (
    <main className="mx-auto max-w-screen-2xl space-y-3 p-4 lg:px-6">
      <h1 className="text-2xl font-semibold">Account Logs</h1>
      <UnlockNoticeProvider action={unlockAccountAction}>
        <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_22rem]">
          <div className="min-w-0 space-y-3">
            <SearchForm query={query} now={now} />
            {problems.length > 0 && (
              <ul className="rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900" data-testid="query-problems">
                {problems.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            )}
            <NumberOfLogs page={page} query={query} />
            <AccountStatus page={page} />
            <LogEntries page={page} query={query} />
            <Suspense
              fallback={
                <PanelLoading label="Loading the activity chart…">
                  The chart needs JavaScript to load. The Number of Logs above counts any period set with From and To.
                </PanelLoading>
              }
            >
              <ActivitySection page={page} query={query} />
            </Suspense>
          </div>
          <aside aria-label="Needs attention, locked accounts and the audit chain" className="min-w-0 space-y-4">
            <Suspense
              fallback={
                <PanelLoading label="Loading Needs attention…">
                  Needs attention needs JavaScript to load. The table still marks password spraying and failure bursts; see the{" "}
                  <a href={accountLogHref({ results: FAILED_SIGN_IN_RESULTS, from: since })} className="text-blue-800 underline">
                    failed sign-ins of the last {ATTENTION_WINDOW_HOURS} hours
                  </a>
                  .
                </PanelLoading>
              }
            >
              <Attention page={page} />
            </Suspense>
            <Suspense
              fallback={
                <PanelLoading label="Loading locked accounts…">
                  The locked accounts need JavaScript to load. A locked account&apos;s rows in the table offer Unlock, and{" "}
                  <a href="/admin/users" className="text-blue-800 underline">
                    Admin → Users
                  </a>{" "}
                  shows every account&apos;s lock.
                </PanelLoading>
              }
            >
              <LockedAccounts page={page} />
            </Suspense>
            <Suspense
              fallback={
                <PanelLoading label="Loading the audit chain's status…">
                  The audit chain&apos;s status needs JavaScript to load. <code>npm run audit:verify</code> on the server checks the chain.
                </PanelLoading>
              }
            >
              <ChainStatus page={page} />
            </Suspense>
          </aside>
        </div>
      </UnlockNoticeProvider>
    </main>
  );
}
