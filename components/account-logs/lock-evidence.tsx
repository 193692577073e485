"use client";

import type { LockEvidenceView } from "@/lib/account-log/lock-evidence";
import { LogTime } from "./log-time";
import { ScrollRegion } from "./scroll-region";

const TONES = {
  familiar: "border-green-300 bg-green-50 text-green-950",
  mixed: "border-amber-300 bg-amber-50 text-amber-950",
  unfamiliar: "border-red-300 bg-red-100 text-red-950",
  no_history: "border-slate-300 bg-white text-slate-900",
  no_failures: "border-slate-300 bg-white text-slate-900",
} as const;

const yesNo = (known: boolean) => (known ? "yes" : <strong>no</strong>);

/**
 * The failures behind a lock beside the user's recent sign-ins, so a typo reads differently from
 * an attack. Drawn from the values the server worked out (`lockEvidenceView`), like the table.
 */
export function LockEvidence({ evidence }: { evidence: LockEvidenceView }) {
  const { username, lockedBy, failures, recentPlaces, recentCount } = evidence;
  return (
    <details className="w-full text-sm" data-testid={`lock-evidence-${evidence.accountId}`}>
      <summary className="cursor-pointer text-blue-800 underline">Why is {username} locked?</summary>
      <div className={`mt-2 space-y-2 rounded border p-3 ${TONES[evidence.verdict]}`}>
        {lockedBy && (
          <p>
            Locked by {lockedBy.actor}
            {lockedBy.reason ? <>: “{lockedBy.reason}”</> : "."}
          </p>
        )}
        <p data-testid="lock-verdict">{evidence.summary}</p>
        {failures.length > 0 && (
          <ScrollRegion label={`Wrong passwords that locked ${username}`}>
            <table className="min-w-full text-left text-xs [&_:is(th,td)]:px-2 [&_:is(th,td)]:py-1">
              <caption className="sr-only">Wrong passwords that locked {username}, newest first</caption>
              <thead>
                <tr>
                  {["Time", "IP Address", "Country", "Browser", "Address seen in recent sign-ins", "Country seen", "Browser seen"].map((column) => (
                    <th key={column} scope="col" className="font-semibold">
                      {column}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {failures.map((failure) => (
                  <tr key={failure.id} className="border-t border-current/20">
                    <td>
                      <LogTime at={failure.at} />
                    </td>
                    <td className="font-mono">{failure.ip ?? "—"}</td>
                    <td>{failure.country ?? "—"}</td>
                    <td>{failure.browser ?? "—"}</td>
                    <td>{yesNo(failure.knownIp)}</td>
                    <td>{failure.knownCountry === null ? "—" : yesNo(failure.knownCountry)}</td>
                    <td>{yesNo(failure.knownBrowser)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        <p>
          {recentCount === 0 ? (
            "No successful sign-in in the last 90 days."
          ) : (
            <>
              Recent successful sign-ins (last 90 days, newest {recentCount}): {recentPlaces.join("; ")}.
            </>
          )}
        </p>
      </div>
    </details>
  );
}
