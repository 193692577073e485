"use client";

import type { LogRowView } from "@/lib/account-log/row-view";
import { IpAddressCell } from "./ip-address-cell";
import { LogTime } from "./log-time";
import { MetadataCell } from "./metadata-cell";
import { ResultBadge } from "./result-badge";
import { SignalMark } from "./signal-mark";
import { UnlockButton } from "./unlock-button";

type Props = {
  rows: LogRowView[];
};

/**
 * The table's rows, rendered from plain values: as a client component its props are a compact
 * list, where a server component's output would be sent as its whole element tree beside the
 * HTML. The server still renders the HTML; every value is rendered as text, so markup in a
 * username stays text.
 */
export function LogRows({ rows }: Props) {
  return (
    <tbody>
      {rows.map((row) => (
        <tr key={row.id}>
          <td className="tabular-nums">{row.id}</td>
          <td className="max-w-xs">
            <a href={row.href} className="break-all whitespace-pre-wrap text-blue-800 underline" title={`Show only ${row.usernameNormalized}`}>
              {row.username}
            </a>
            {row.burst && <SignalMark label="Failure burst" />}
            {row.usernameTruncated && <span className="ml-1 text-xs text-slate-500">(cut at 256 characters)</span>}
            {row.unlockUserId !== null && (
              <div className="mt-1">
                <UnlockButton userId={row.unlockUserId} username={row.username} />
              </div>
            )}
          </td>
          <td>
            <LogTime at={row.at} />
          </td>
          <td>
            <ResultBadge result={row.result} />
            {row.marks.map((mark) => (
              <SignalMark key={mark} label={mark} />
            ))}
          </td>
          <td>
            <IpAddressCell ip={row.ip} place={row.place} />
          </td>
          <td>
            <MetadataCell summary={row.summary} details={row.details} />
          </td>
        </tr>
      ))}
    </tbody>
  );
}
