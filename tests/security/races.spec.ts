import { expect, test } from "@playwright/test";
import { accountOf, createAccount, rowsForUser } from "./support/database";
import { newClientIp, newSignInClient, request, signIn, type SignInClient } from "../support/http";
import { recordFinding, suiteState } from "./support/state";

/**
 * Parallel sign-ins on one account over real HTTP, on one app process and spread over two on
 * one database. Each attempt comes from its own address (a distributed attacker), so the per-
 * address throttle does not hide the lockout rule being raced.
 */
type Round = { rows: number; locks: number; invalid: number; locked: number; sessions: number; sessionSurvived: boolean; statuses: number[] };

async function raceRound(serverUrls: string[], { wrong, right }: { wrong: number; right: boolean }, label: string): Promise<Round> {
  const { main } = suiteState().servers;
  const account = await createAccount(main.databaseUrl, { prefix: "race" });
  const clients = await Promise.all(serverUrls.map((url) => newSignInClient(url)));
  const passwords = Array.from({ length: wrong }, (_, i) => `wrong-${i}`);
  if (right) passwords.splice(Math.floor(Math.random() * (wrong + 1)), 0, account.password);
  const attempt = (password: string, i: number) => {
    const base = clients[i % clients.length]!;
    const client: SignInClient = { ...base, ip: newClientIp(), userAgent: `${label}-${i}` };
    return signIn(client, account.username, password);
  };
  const results = await Promise.all(passwords.map(attempt));

  const rows = await rowsForUser(main.databaseUrl, account.id);
  const lockRows = rows.filter((row) => row.result === "account_locked");
  const sessions = results.filter((result) => result.session);
  let sessionSurvived = false;
  for (const result of sessions) {
    // A session from before the lock must not outlive it: the next request is signed out.
    const page = await request(`${clients[0]!.baseUrl}/`, { headers: { cookie: result.session! } });
    if (page.status === 200) sessionSurvived = true;
  }
  const successRows = rows.filter((row) => row.result === "login_successful");
  if (successRows.length > 0) expect(successRows.every((row) => row.id < lockRows[0]!.id)).toBe(true);
  expect((await accountOf(main.databaseUrl, account.id)).failed_attempts).toBe(6);
  return {
    rows: rows.filter((row) => row.result !== "account_locked").length,
    locks: lockRows.length,
    invalid: results.filter((result) => result.error === "CredentialsSignin").length,
    locked: results.filter((result) => result.error === "AccountLocked").length,
    sessions: sessions.length,
    sessionSurvived,
    statuses: [...new Set(results.map((result) => result.status))],
  };
}

function expectRound(round: Round, attempts: number) {
  expect(round.statuses.every((status) => status < 500)).toBe(true);
  expect(round.rows).toBe(attempts);
  expect(round.locks).toBe(1);
  expect(round.sessions).toBeLessThanOrEqual(1);
  expect(round.invalid + round.locked + round.sessions).toBe(attempts);
  expect(round.sessionSurvived).toBe(false);
}

function summarize(rounds: Round[], attempts: number): string {
  const sessions = rounds.reduce((n, round) => n + round.sessions, 0);
  const invalid = [...new Set(rounds.map((round) => round.invalid))].join("/");
  const sessionText = sessions === 0 ? "no session" : `${sessions} session(s) in all, each granted before the lock and signed out at its next request`;
  return `every round: ${attempts} rows, exactly 1 lock, "invalid" answers per round ${invalid}; ${sessionText}; no 5xx`;
}

test.describe.configure({ mode: "serial" });

// Enough rounds to meet the rare interleavings over HTTP in a few minutes; the integration
// tests repeat the same races at the function level.
const ROUNDS = { wrong50: 8, wrong200: 3, mixed: 10, twoProcessWrong200: 3, twoProcessMixed: 8 };

for (const [wrong, rounds] of [
  [50, ROUNDS.wrong50],
  [200, ROUNDS.wrong200],
] as const) {
  test(`one app process: ${wrong} parallel wrong passwords, ${rounds} rounds`, async () => {
    const { main } = suiteState().servers;
    const results: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const round = await raceRound([main.url], { wrong, right: false }, `race-${wrong}-${i}`);
      expectRound(round, wrong);
      expect(round).toMatchObject({ invalid: 5, locked: wrong - 5, sessions: 0 });
      results.push(round);
    }
    recordFinding(`race: ${wrong} parallel wrong passwords, one process`, `${rounds} rounds`, summarize(results, wrong));
  });
}

test(`one app process: 49 wrong + 1 right in parallel, ${ROUNDS.mixed} rounds`, async () => {
  const { main } = suiteState().servers;
  const results: Round[] = [];
  for (let i = 0; i < ROUNDS.mixed; i++) {
    const round = await raceRound([main.url], { wrong: 49, right: true }, `race-mixed-${i}`);
    expectRound(round, 50);
    results.push(round);
  }
  recordFinding("race: 49 wrong + 1 right in parallel, one process", `${ROUNDS.mixed} rounds`, summarize(results, 50));
});

test(`two app processes on one database: 200 wrong split between them, ${ROUNDS.twoProcessWrong200} rounds`, async () => {
  const { main, second } = suiteState().servers;
  const results: Round[] = [];
  for (let i = 0; i < ROUNDS.twoProcessWrong200; i++) {
    const round = await raceRound([main.url, second.url], { wrong: 200, right: false }, `race2-200-${i}`);
    expectRound(round, 200);
    expect(round).toMatchObject({ invalid: 5, locked: 195, sessions: 0 });
    results.push(round);
  }
  recordFinding("race: 200 parallel wrong passwords over two processes", `${ROUNDS.twoProcessWrong200} rounds`, summarize(results, 200));
});

test(`two app processes on one database: 49 wrong + 1 right split between them, ${ROUNDS.twoProcessMixed} rounds`, async () => {
  const { main, second } = suiteState().servers;
  const results: Round[] = [];
  for (let i = 0; i < ROUNDS.twoProcessMixed; i++) {
    const round = await raceRound([main.url, second.url], { wrong: 49, right: true }, `race2-mixed-${i}`);
    expectRound(round, 50);
    results.push(round);
  }
  recordFinding("race: 49 wrong + 1 right over two processes", `${ROUNDS.twoProcessMixed} rounds`, summarize(results, 50));
});
