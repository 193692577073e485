import type { AccountLog } from "@/db/schema";
import { accountLogHref, exactUsernameTerm } from "@/lib/account-log/search-params";
import type { UnlockActionState } from "@/app/(signed-in)/admin/account-logs/actions";
import { IpAddressCell, IpLocationCredit } from "./ip-address-cell";
import { LogTime } from "./log-time";
import { MetadataCell } from "./metadata-cell";
import { ResultBadge } from "./result-badge";
import { SignalMark } from "./signal-mark";
import { UnlockButton } from "./unlock-button";

type Props = {
  rows: AccountLog[];
  lockedUserIds: Set<number>;
  /** Addresses spraying passwords and usernames with failure bursts, from "Needs attention". */
  flagged?: { sprayingIps: Set<string>; burstUsernames: Set<string> };
  unlockAction: (state: UnlockActionState, form: FormData) => Promise<UnlockActionState>;
};

const COLUMNS = ["ID", "Username", "Time", "Result", "IP Address", "Metadata"] as const;

/**
 * Every value from the log is rendered as text by React: markup in a username stays text. The
 * table scrolls sideways on a narrow screen; its container is positioned so the visually hidden
 * labels inside scroll with it instead of widening the page. Cell styles are set once on the
 * table, and usernames are plain links: each of the rows' elements costs the page its render.
 */
export function LogTable({ rows, lockedUserIds, flagged, unlockAction }: Props) {
  return (
    <div className="space-y-1">
      <div className="relative overflow-x-auto rounded border border-slate-200 bg-white">
        <table
          className="min-w-full text-left text-sm [&_:is(th,td)]:px-3 [&_:is(th,td)]:py-2 [&_tbody_tr]:border-t [&_tbody_tr]:border-slate-100 [&_tbody_tr]:align-top"
          data-testid="log-table"
        >
          <caption className="sr-only">Account log entries, newest first</caption>
          <thead className="bg-slate-100">
            <tr>
              {COLUMNS.map((column) => (
                <th key={column} scope="col" className="font-semibold">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <td className="tabular-nums">{row.id}</td>
                <td className="max-w-xs">
                  <a
                    href={accountLogHref({ term: exactUsernameTerm(row.usernameNormalized) })}
                    className="break-all whitespace-pre-wrap text-blue-800 underline"
                    title={`Show only ${row.usernameNormalized}`}
                  >
                    {row.username}
                  </a>
                  {flagged?.burstUsernames.has(row.usernameNormalized) && <SignalMark label="Failure burst" />}
                  {row.usernameTruncated && <span className="ml-1 text-xs text-slate-500">(cut at 256 characters)</span>}
                  {row.userId !== null && lockedUserIds.has(row.userId) && (
                    <div className="mt-1">
                      <UnlockButton userId={row.userId} username={row.username} action={unlockAction} />
                    </div>
                  )}
                </td>
                <td>
                  <LogTime at={row.occurredAt} />
                </td>
                <td>
                  <ResultBadge result={row.result} />
                  {row.metadata.signals?.newIp && <SignalMark label="New IP" />}
                  {row.metadata.signals?.newCountry && <SignalMark label="New country" />}
                  {row.ip && row.result.startsWith("login_failed") && flagged?.sprayingIps.has(row.ip) && <SignalMark label="Password spraying" />}
                </td>
                <td>
                  <IpAddressCell ip={row.ip} />
                </td>
                <td>
                  <MetadataCell metadata={row.metadata} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <IpLocationCredit />
    </div>
  );
}
