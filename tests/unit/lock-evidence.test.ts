import { describe, expect, it } from "vitest";
import { assessLock, lockEvidenceView } from "@/lib/account-log/lock-evidence";
import type { AttemptSummary, LockedAccount } from "@/lib/account-log/queries";

let id = 0;
const attempt = (ip: string | null, browser: string | null, country: string | null = null): AttemptSummary => ({
  id: ++id,
  at: new Date("2026-11-26T10:00:00Z"),
  ip,
  browser,
  country,
});
const usual = [attempt("198.51.100.20", "Chrome 131 · Windows 11", "DE"), attempt("198.51.100.21", "Chrome 131 · Windows 11", "DE")];

describe("assessLock", () => {
  it("calls failures from the user's usual addresses a likely typo, and trusts no country or browser alone", () => {
    const usualOnly = [attempt("198.51.100.20", "Chrome 131 · Windows 11", "DE"), attempt("198.51.100.21", "Chrome 131 · Windows 11", "DE")];
    expect(assessLock(usualOnly, usual).verdict).toBe("familiar");
    const failures = [attempt("198.51.100.20", "Chrome 131 · Windows 11", "DE"), attempt("203.0.113.5", "Chrome 131 · Windows 11", "DE")];
    const assessment = assessLock(failures, usual);
    expect(assessment.verdict).toBe("mixed");
    expect(assessment.matches.map((m) => [m.knownIp, m.knownCountry, m.knownBrowser])).toEqual([
      [true, true, true],
      [false, true, true],
    ]);
  });

  it("flags failures from places and browsers the user never used", () => {
    const failures = [attempt("45.155.205.99", "curl 8.5", "RU"), attempt("45.155.205.98", "Firefox 133 · Linux", "DE")];
    expect(assessLock(failures, usual).verdict).toBe("unfamiliar");
  });

  it("says how many failures are unfamiliar when some are", () => {
    const failures = [attempt("198.51.100.21", "Chrome 131 · Windows 11"), attempt("45.155.205.99", "curl 8.5", "RU"), attempt(null, null)];
    const assessment = assessLock(failures, usual);
    expect(assessment.verdict).toBe("mixed");
    expect(assessment.summary).toMatch(/^2 of 3 failures/);
  });

  it("says when there is nothing to compare with, or no failures at all", () => {
    expect(assessLock([attempt("198.51.100.20", "x")], []).verdict).toBe("no_history");
    expect(assessLock([], usual).verdict).toBe("no_failures");
  });
});

describe("lockEvidenceView", () => {
  const account = (failures: AttemptSummary[], lock: LockedAccount["lock"] = null): LockedAccount => ({
    id: 9,
    username: "ivan",
    lockedAt: new Date("2026-11-26T10:05:00Z"),
    failedAttempts: failures.length,
    failureIps: [],
    failures,
    recentSuccesses: usual,
    lock,
  });

  it("names each failure's country, says which match a recent sign-in, and lists the usual places once", () => {
    // 8.8.8.8 was written before countries were recorded: the offline database answers.
    const view = lockEvidenceView(account([attempt("198.51.100.20", "Chrome 131 · Windows 11", "DE"), attempt("8.8.8.8", "curl 8.5"), attempt(null, null)]));
    expect(view.verdict).toBe("mixed");
    expect(view.failures.map(({ ip, country, knownIp, knownCountry, knownBrowser }) => [ip, country, knownIp, knownCountry, knownBrowser])).toEqual([
      ["198.51.100.20", "Germany (DE)", true, true, true],
      ["8.8.8.8", "United States (US)", false, false, false],
      [null, null, false, null, false],
    ]);
    expect(view.recentPlaces).toEqual(["198.51.100.20, DE, Chrome 131 · Windows 11", "198.51.100.21, DE, Chrome 131 · Windows 11"]);
    expect(view.recentCount).toBe(2);
    expect(view.lockedBy).toBeNull();
  });

  it("shows no failures for an administrator's lock, and who locked it and why", () => {
    const view = lockEvidenceView(account([attempt("45.155.205.99", "curl 8.5")], { id: 1, actor: "root", reason: "left the company" }));
    expect(view.failures).toEqual([]);
    expect(view.verdict).toBe("no_failures");
    expect(view.lockedBy).toEqual({ actor: "root", reason: "left the company" });
  });
});
