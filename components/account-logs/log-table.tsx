import type { AccountLog } from "@/db/schema";
import { logRowView, type RowFlags } from "@/lib/account-log/row-view";
import { IpLocationCredit } from "./ip-location-credit";
import { LogRows } from "./log-rows";

type Props = {
  rows: AccountLog[];
  flags: RowFlags;
};

const COLUMNS = ["ID", "Username", "Time", "Result", "IP Address", "Metadata"] as const;

/**
 * The log's rows, newest first. The table scrolls sideways on a narrow screen; its container is
 * positioned so the visually hidden labels inside scroll with it instead of widening the page.
 * Cell styles are set once on the table rather than on each of its hundreds of cells.
 */
export function LogTable({ rows, flags }: Props) {
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
          <LogRows rows={rows.map((row) => logRowView(row, flags))} />
        </table>
      </div>
      <IpLocationCredit />
    </div>
  );
}
