import { accountLogHref, exactUsernameTerm } from "@/lib/account-log/search-params";
import { ATTENTION_WINDOW_HOURS, FAILED_SIGN_IN_RESULTS, type Attention } from "@/lib/account-log/signals";
import { countryLabel } from "@/lib/ip-location/locate";
import { LogTime } from "./log-time";

const HOUR_MS = 3_600_000;
const linkClass = "text-blue-800 underline";

/** The last day's signals, each linking to the filtered view that shows its rows (plain links, like the table's). */
export function NeedsAttention({ attention, lockedTotal }: { attention: Attention; lockedTotal: number }) {
  const { spraying, bursts, newPlaces, newPlacesTotal } = attention;
  const items = lockedTotal + spraying.length + bursts.length + newPlacesTotal;
  const hourOf = (hour: Date) => ({ from: hour, to: new Date(hour.getTime() + HOUR_MS) });
  return (
    <section aria-labelledby="needs-attention-heading" className="rounded border border-amber-300 bg-amber-50 p-4 text-sm" data-testid="needs-attention">
      <h2 id="needs-attention-heading" className="text-base font-semibold">
        Needs attention <span className="font-normal text-slate-700">(last {ATTENTION_WINDOW_HOURS} hours)</span>
      </h2>
      {items === 0 ? (
        <p className="mt-1 text-slate-700">Nothing unusual: no locked account, no password spraying, no failure bursts, no sign-ins from new places.</p>
      ) : (
        <ul className="mt-2 list-disc space-y-1 pl-5">
          {lockedTotal > 0 && (
            <li>
              <a href="#locked-accounts" className={linkClass}>
                {lockedTotal === 1 ? "1 account is locked" : `${lockedTotal} accounts are locked`}
              </a>
            </li>
          )}
          {spraying.map((entry) => (
            <li key={`${entry.ip}-${entry.hour.getTime()}`} data-testid="attention-spraying">
              Password spraying:{" "}
              <a href={accountLogHref({ ip: entry.ip, results: FAILED_SIGN_IN_RESULTS, ...hourOf(entry.hour) })} className={`${linkClass} font-mono`}>
                {entry.ip}
              </a>{" "}
              failed against {entry.usernames} usernames ({entry.failures} attempts) in the hour from <LogTime at={entry.hour} />
            </li>
          ))}
          {bursts.map((entry) => (
            <li key={`${entry.username}-${entry.hour.getTime()}`} data-testid="attention-burst">
              Failure burst:{" "}
              <a
                href={accountLogHref({ term: exactUsernameTerm(entry.username), results: FAILED_SIGN_IN_RESULTS, ...hourOf(entry.hour) })}
                className={linkClass}
              >
                {entry.username}
              </a>{" "}
              had {entry.failures} failed sign-ins in the hour from <LogTime at={entry.hour} />
            </li>
          ))}
          {newPlaces.map((entry) => (
            <li key={entry.id} data-testid="attention-new-place">
              <a href={accountLogHref({ term: exactUsernameTerm(entry.username), before: entry.id + 1 })} className={linkClass}>
                {entry.username}
              </a>{" "}
              signed in from {entry.newCountry && entry.country ? `a new country, ${countryLabel(entry.country)}` : "a new address"}
              {entry.ip && <span className="font-mono"> {entry.ip}</span>} at <LogTime at={entry.at} />
            </li>
          ))}
          {newPlacesTotal > newPlaces.length && (
            <li>
              and {newPlacesTotal - newPlaces.length} more sign-ins from new places (
              <a href={accountLogHref({ results: ["login_successful"], from: attention.since })} className={linkClass}>
                successful sign-ins of the last {ATTENTION_WINDOW_HOURS} hours
              </a>
              )
            </li>
          )}
        </ul>
      )}
    </section>
  );
}
