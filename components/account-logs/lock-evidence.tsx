import type { AttemptSummary, LockedAccount } from "@/lib/account-log/queries";
import { countryName, countryOf } from "@/lib/ip-location/locate";
import { assessLock } from "@/lib/account-log/lock-evidence";
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

/** The failures behind a lock beside the user's recent sign-ins, so a typo reads differently from an attack. */
export function LockEvidence({ account }: { account: LockedAccount }) {
  // Rows written before countries were recorded get today's answer from the offline database.
  const located = (attempts: AttemptSummary[]) => attempts.map((a) => ({ ...a, country: a.country ?? countryOf(a.ip) ?? null }));
  // An admin's lock was not caused by the wrong passwords before it.
  const lockedByAdmin = Boolean(account.lock?.actor);
  const failures = lockedByAdmin ? [] : located(account.failures);
  const recentSuccesses = located(account.recentSuccesses);
  const assessment = assessLock(failures, recentSuccesses);
  const matchOf = new Map(assessment.matches.map((match) => [match.id, match]));
  return (
    <details className="w-full text-sm" data-testid={`lock-evidence-${account.id}`}>
      <summary className="cursor-pointer text-blue-800 underline">Why is {account.username} locked?</summary>
      <div className={`mt-2 space-y-2 rounded border p-3 ${TONES[assessment.verdict]}`}>
        {account.lock?.actor && (
          <p>
            Locked by {account.lock.actor}
            {account.lock.reason ? <>: “{account.lock.reason}”</> : "."}
          </p>
        )}
        <p data-testid="lock-verdict">{assessment.summary}</p>
        {account.failures.length > 0 && (
          <ScrollRegion label={`Wrong passwords that locked ${account.username}`}>
            <table className="min-w-full text-left text-xs [&_:is(th,td)]:px-2 [&_:is(th,td)]:py-1">
              <caption className="sr-only">Wrong passwords that locked {account.username}, newest first</caption>
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
                {failures.map((failure) => {
                  const match = matchOf.get(failure.id)!;
                  return (
                    <tr key={failure.id} className="border-t border-current/20">
                      <td>
                        <LogTime at={failure.at} />
                      </td>
                      <td className="font-mono">{failure.ip ?? "—"}</td>
                      <td>{failure.country ? `${countryName(failure.country)} (${failure.country})` : "—"}</td>
                      <td>{failure.browser ?? "—"}</td>
                      <td>{yesNo(match.knownIp)}</td>
                      <td>{failure.country ? yesNo(match.knownCountry) : "—"}</td>
                      <td>{yesNo(match.knownBrowser)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        <p>
          {recentSuccesses.length === 0 ? (
            "No successful sign-in in the last 90 days."
          ) : (
            <>
              Recent successful sign-ins (last 90 days, newest {recentSuccesses.length}):{" "}
              {[...new Set(recentSuccesses.map((s) => [s.ip ?? "no address", s.country, s.browser].filter(Boolean).join(", ")))].join("; ")}.
            </>
          )}
        </p>
      </div>
    </details>
  );
}
