import "server-only";
import { countryLabel, countryOf } from "@/lib/ip-location/locate";
import type { AttemptSummary, LockedAccount } from "./queries";

export type LockAssessment = {
  verdict: "familiar" | "mixed" | "unfamiliar" | "no_history" | "no_failures";
  /** One sentence for the admin deciding whether to unlock. */
  summary: string;
  /** Per failure: whether its address, country and browser match a recent successful sign-in. */
  matches: { id: number; knownIp: boolean; knownCountry: boolean; knownBrowser: boolean }[];
};

/**
 * Compares the failures that locked an account with its recent successful sign-ins: failures
 * from the user's usual addresses look like a forgotten password; failures from addresses the
 * user never signed in from look like someone else. Countries and browsers are shown, not
 * trusted: both are easy to fake.
 */
export function assessLock(failures: AttemptSummary[], recentSuccesses: AttemptSummary[]): LockAssessment {
  const ips = new Set(recentSuccesses.flatMap((s) => (s.ip ? [s.ip] : [])));
  const countries = new Set(recentSuccesses.flatMap((s) => (s.country ? [s.country] : [])));
  const browsers = new Set(recentSuccesses.flatMap((s) => (s.browser ? [s.browser] : [])));
  const matches = failures.map((failure) => ({
    id: failure.id,
    knownIp: failure.ip !== null && ips.has(failure.ip),
    knownCountry: failure.country !== null && countries.has(failure.country),
    knownBrowser: failure.browser !== null && browsers.has(failure.browser),
  }));
  if (failures.length === 0) {
    return { verdict: "no_failures", summary: "No wrong passwords led to this lock: an administrator locked the account.", matches };
  }
  if (recentSuccesses.length === 0) {
    return {
      verdict: "no_history",
      summary: "This account has no successful sign-in in the last 90 days to compare the failures with.",
      matches,
    };
  }
  // Only an address the user signed in from counts: a country and a browser name are easy to fake.
  const familiar = matches.filter((m) => m.knownIp).length;
  if (familiar === failures.length) {
    return {
      verdict: "familiar",
      summary: "Every failure came from an address this user signed in from in the last 90 days: most likely a mistyped or forgotten password. Confirm with the user before unlocking.",
      matches,
    };
  }
  if (familiar === 0) {
    return {
      verdict: "unfamiliar",
      summary: "None of the failures came from an address this user signed in from in the last 90 days: possibly someone else. Confirm with the user before unlocking.",
      matches,
    };
  }
  return {
    verdict: "mixed",
    summary: `${failures.length - familiar} of ${failures.length} failures came from addresses this user has not signed in from in the last 90 days. Check them, and confirm with the user, before unlocking.`,
    matches,
  };
}

/** The lock panel's evidence for one account, as plain values for the page to draw. */
export type LockEvidenceView = {
  accountId: number;
  username: string;
  /** Who locked the account, when an administrator did, and why. */
  lockedBy: { actor: string; reason: string | null } | null;
  verdict: LockAssessment["verdict"];
  summary: string;
  failures: {
    id: number;
    at: Date;
    ip: string | null;
    /** "Germany (DE)". */
    country: string | null;
    browser: string | null;
    knownIp: boolean;
    /** Null when the failure's country is unknown. */
    knownCountry: boolean | null;
    knownBrowser: boolean;
  }[];
  /** The distinct places of the recent successful sign-ins: "198.51.100.20, DE, Chrome 131 · Windows 11". */
  recentPlaces: string[];
  recentCount: number;
};

export function lockEvidenceView(account: LockedAccount): LockEvidenceView {
  // Rows written before countries were recorded get today's answer from the offline database.
  const located = (attempts: AttemptSummary[]) => attempts.map((a) => ({ ...a, country: a.country ?? countryOf(a.ip) ?? null }));
  // An admin's lock was not caused by the wrong passwords before it.
  const failures = account.lock?.actor ? [] : located(account.failures);
  const recentSuccesses = located(account.recentSuccesses);
  const { verdict, summary, matches } = assessLock(failures, recentSuccesses);
  return {
    accountId: account.id,
    username: account.username,
    lockedBy: account.lock?.actor ? { actor: account.lock.actor, reason: account.lock.reason } : null,
    verdict,
    summary,
    failures: failures.map((failure, index) => ({
      id: failure.id,
      at: failure.at,
      ip: failure.ip,
      country: failure.country ? countryLabel(failure.country) : null,
      browser: failure.browser,
      knownIp: matches[index]!.knownIp,
      knownCountry: failure.country ? matches[index]!.knownCountry : null,
      knownBrowser: matches[index]!.knownBrowser,
    })),
    recentPlaces: [...new Set(recentSuccesses.map((s) => [s.ip ?? "no address", s.country, s.browser].filter(Boolean).join(", ")))],
    recentCount: recentSuccesses.length,
  };
}
