import { expect, test } from "@playwright/test";
import { encode } from "next-auth/jwt";
import { createAccount, rowsForUser, sqlFor } from "./support/database";
import { cookieHeader, newClientIp, newSignInClient, request, sessionFor, sessionCookieOf, signIn, type RawResponse } from "../support/http";
import { SERVER_DEFAULTS } from "../support/servers";
import { recordFinding, serverOutput, serverOutputSize, suiteState } from "./support/state";
import { captureAction, replayHeaders } from "../support/actions";

/** Stolen, kept, tampered and forged session cookies, and the cookies' own flags. */
test.describe.configure({ mode: "serial" });

async function signedIn(url: string, cookie: string): Promise<boolean> {
  const home = await request(`${url}/`, { headers: { cookie } });
  return home.status === 200;
}

/** What a kept cookie gets once its session has ended: the pages send it to sign in again, the session endpoint answers {} and clears it. */
async function expectEnded(url: string, cookie: string, label: string) {
  const home = await request(`${url}/`, { headers: { cookie } });
  expect(home.status, label).toBe(307);
  expect(home.headers.location, label).toBe("/login?error=SessionEnded");
  const admin = await request(`${url}/admin/users`, { headers: { cookie } });
  expect(admin.status, label).toBe(307);
  const api = await request(`${url}/api/auth/session`, { headers: { cookie } });
  expect(JSON.parse(api.body), label).toEqual({});
  expect(api.setCookies.some((c) => /next-auth\.session-token=;.*Max-Age=0/.test(c)), label).toBe(true);
}

async function sessionRecordsOf(databaseUrl: string, userId: number) {
  return sqlFor(databaseUrl)<{ id: number; expires_at: Date; last_seen_at: Date; revoked_at: Date | null; revoked_reason: string | null }[]>`
    select id, expires_at, last_seen_at, revoked_at, revoked_reason from user_sessions where user_id = ${userId} order by id`;
}

/** The session cookie a response set, or the one sent when it set none (a browser keeps the newest). */
function newestCookie(response: RawResponse, sent: string): string {
  return sessionCookieOf(response) ?? sent;
}

test("a kept session cookie is signed out once the account is locked from another client", async () => {
  const { main } = suiteState().servers;
  const account = await createAccount(main.databaseUrl, { prefix: "kept" });
  const cookie = await sessionFor(main.url, account.username, account.password);
  expect(await signedIn(main.url, cookie)).toBe(true);
  const session = await request(`${main.url}/api/auth/session`, { headers: { cookie } });
  expect(JSON.parse(session.body)).toMatchObject({ user: { name: account.username } });

  const attacker = await newSignInClient(main.url, { ip: newClientIp() });
  for (let i = 0; i < 6; i++) await signIn(attacker, account.username, `guess-${i}`);

  const home = await request(`${main.url}/`, { headers: { cookie } });
  expect(home.status).toBe(307);
  expect(home.headers.location).toBe("/login?error=SessionEnded");
  const api = await request(`${main.url}/api/auth/session`, { headers: { cookie } });
  expect(JSON.parse(api.body)).toEqual({});
  expect(api.setCookies.some((c) => /next-auth\.session-token=;.*Max-Age=0/.test(c))).toBe(true);
  recordFinding(
    "sessions: cookie kept through a lock",
    "1 session, locked from another client, replayed on / and /api/auth/session",
    "before: signed in; after: / → /login?error=SessionEnded, /api/auth/session → {} and the cookie cleared",
  );
});

test("a tampered or foreign-minted session token is refused, and the server logs it on one line", async () => {
  const { main } = suiteState().servers;
  const outputStart = serverOutputSize(main);
  const account = await createAccount(main.databaseUrl, { prefix: "tamper" });
  const real = await sessionFor(main.url, account.username, account.password);
  const [name, value] = [real.slice(0, real.indexOf("=")), real.slice(real.indexOf("=") + 1)];
  const flip = (text: string, at: number) => `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
  const [admin] = await sqlFor(main.databaseUrl)<{ id: number; session_version: number }[]>`
    select id, session_version from users where username = ${SERVER_DEFAULTS.ADMIN_USERNAME}`;
  const forgedClaims = { name: SERVER_DEFAULTS.ADMIN_USERNAME, uid: admin!.id, role: "admin" as const, sessionVersion: admin!.session_version };
  const tokens: [string, string][] = [
    ["one character of the ciphertext changed", flip(value, Math.floor(value.length / 2))],
    ["authentication tag changed", flip(value, value.length - 2)],
    ["header changed", flip(value, 5)],
    ["truncated", value.slice(0, -10)],
    ["an admin token minted with another secret", await encode({ token: forgedClaims, secret: "not-the-secret-not-the-secret-not-the-secret" })],
    ["unencrypted JWT with alg none", `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(forgedClaims)).toString("base64url")}.`],
  ];
  for (const [label, token] of tokens) {
    const cookie = `${name}=${token}`;
    const page = await request(`${main.url}/admin/account-logs`, { headers: { cookie } });
    expect(page.status, label).toBe(307);
    expect(page.headers.location, label).toMatch(/^\/login/);
    expect(JSON.parse((await request(`${main.url}/api/auth/session`, { headers: { cookie } })).body), label).toEqual({});
  }
  const lines = serverOutput(main, outputStart).split("\n").filter(Boolean);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(() => JSON.parse(line), line.slice(0, 200)).not.toThrow();
  recordFinding(
    "sessions: tampered / forged JWT",
    `${tokens.length} tokens (bit flips, truncation, another secret claiming admin, alg none)`,
    `all refused (admin page → /login, /api/auth/session → {}); ${lines.length} server log lines, each one JSON line`,
  );
});

test("cookies are HttpOnly and SameSite=Lax, and Secure with __Secure-/__Host- names behind HTTPS", async () => {
  const { main, direct } = suiteState().servers;
  const flags = async (url: string, databaseUrl: string) => {
    const account = await createAccount(databaseUrl, { prefix: "flags" });
    const client = await newSignInClient(url);
    const csrf = await request(`${url}/api/auth/csrf`);
    const result = await signIn(client, account.username, account.password, { headers: { "x-forwarded-for": newClientIp() } });
    return [...csrf.setCookies, ...result.setCookies];
  };
  const plain = await flags(main.url, main.databaseUrl);
  expect(plain.length).toBeGreaterThanOrEqual(3);
  for (const cookie of plain) {
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
  }
  expect(plain.some((cookie) => cookie.startsWith("next-auth.session-token="))).toBe(true);

  const secure = await flags(direct.url, direct.databaseUrl);
  for (const cookie of secure) {
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/^__(Secure|Host)-/);
  }
  expect(secure.some((cookie) => cookie.startsWith("__Secure-next-auth.session-token="))).toBe(true);
  expect(secure.some((cookie) => cookie.startsWith("__Host-next-auth.csrf-token="))).toBe(true);
  recordFinding(
    "sessions: cookie flags",
    "csrf, callback-url and session cookies on http and behind an https public URL",
    "all HttpOnly + SameSite=Lax; behind https all Secure, named __Secure-/__Host-",
  );
});

test("a session cookie captured before sign-out no longer works after it, on every app process", async () => {
  const { main, second } = suiteState().servers;
  const account = await createAccount(main.databaseUrl, { prefix: "signout" });
  const client = await newSignInClient(main.url, { ip: newClientIp() });
  const result = await signIn(client, account.username, account.password);
  const captured = result.session!;
  expect(await signedIn(main.url, captured)).toBe(true);
  expect(await signedIn(second.url, captured)).toBe(true);

  const signOut = await request(`${main.url}/api/auth/signout`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `${cookieHeader(client.cookies)}; ${captured}`,
      "x-forwarded-for": client.ip!,
    },
    body: new URLSearchParams({ csrfToken: client.csrfToken, json: "true" }).toString(),
  });
  expect(signOut.status).toBeLessThan(400);

  await expectEnded(main.url, captured, "main");
  await expectEnded(second.url, captured, "second process");
  const [record] = await sessionRecordsOf(main.databaseUrl, account.id);
  expect(record).toMatchObject({ revoked_reason: "signed out" });
  expect((await rowsForUser(main.databaseUrl, account.id)).map((row) => row.result)).toEqual(["login_successful", "logout"]);
  recordFinding(
    "sessions: cookie replayed after sign-out",
    "1 session cookie kept, signed out over HTTP, replayed on /, /admin/users and /api/auth/session on both processes",
    "before: signed in on both; after: pages → /login?error=SessionEnded, /api/auth/session → {} and the cookie cleared; record revoked with the logout row",
  );
});

test("a cookie that keeps polling /api/auth/session does not outlive the session's absolute expiry, nor its idle timeout", async () => {
  const { main } = suiteState().servers;
  const sql = sqlFor(main.databaseUrl);
  const account = await createAccount(main.databaseUrl, { prefix: "poller" });
  let cookie = await sessionFor(main.url, account.username, account.password);
  const expiresAt = (await sessionRecordsOf(main.databaseUrl, account.id))[0]!.expires_at;

  let refreshed = 0;
  for (let i = 0; i < 5; i++) {
    // As if a minute had passed since the last request: each poll is activity the record notes.
    await sql`update user_sessions set last_seen_at = now() - interval '2 minutes' where user_id = ${account.id}`;
    const poll = await request(`${main.url}/api/auth/session`, { headers: { cookie } });
    const body = JSON.parse(poll.body) as { user?: { name?: string }; sessionKey?: unknown };
    expect(body.user?.name).toBe(account.username);
    // The key the cookie carries stays in the cookie.
    expect(body.sessionKey).toBeUndefined();
    if (sessionCookieOf(poll)) refreshed++;
    cookie = newestCookie(poll, cookie);
    const [record] = await sessionRecordsOf(main.databaseUrl, account.id);
    expect(record!.expires_at.getTime()).toBe(expiresAt.getTime());
    expect(record!.last_seen_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
  }

  // The cookie NextAuth keeps re-issuing is still valid as a token; the record's expiry is not.
  await sql`update user_sessions set expires_at = now() - interval '1 second' where user_id = ${account.id}`;
  await expectEnded(main.url, cookie, "past the absolute expiry");

  const idle = await createAccount(main.databaseUrl, { prefix: "idle" });
  const idleCookie = await sessionFor(main.url, idle.username, idle.password);
  expect(await signedIn(main.url, idleCookie)).toBe(true);
  await sql`update user_sessions set last_seen_at = now() - interval '61 minutes' where user_id = ${idle.id}`;
  await expectEnded(main.url, idleCookie, "idle past SESSION_IDLE_MINUTES");
  recordFinding(
    "sessions: a stolen cookie kept alive by polling",
    `5 polls of /api/auth/session (${refreshed} re-issued cookies), then the record's expiry passed; another session left idle 61 minutes`,
    "expires_at unchanged by every poll; after it, and after the idle timeout, pages → /login?error=SessionEnded and /api/auth/session → {} with the cookie cleared",
  );
});

test("an admin's End session ends the victim's cookie at the next request; the action replayed by a non-admin ends nothing", async ({ browser }) => {
  const { main, second } = suiteState().servers;
  const victim = await createAccount(main.databaseUrl, { prefix: "ended" });
  const victimCookie = await sessionFor(main.url, victim.username, victim.password);
  expect(await signedIn(main.url, victimCookie)).toBe(true);

  // The admin's real End session request, captured before it reaches the server.
  const context = await browser.newContext();
  const admin = await context.newPage();
  await admin.goto(`${main.url}/login`);
  await admin.getByLabel("Username").fill(SERVER_DEFAULTS.ADMIN_USERNAME);
  await admin.getByLabel("Password").fill(SERVER_DEFAULTS.ADMIN_PASSWORD);
  await admin.getByRole("button", { name: "Sign in" }).click();
  await expect(admin.getByTestId("current-username")).toHaveText(SERVER_DEFAULTS.ADMIN_USERNAME);
  await admin.goto(`${main.url}/admin/users?q=${victim.username}`);
  const row = admin.locator(`tbody tr[data-username="${victim.username}"]`);
  await row.locator("details > summary").click();
  const session = row.getByTestId("active-sessions").locator("li").first();
  await session.getByLabel(/^Reason/).fill("session stolen");
  const captured = await captureAction(admin, "**/admin/users**", () => session.getByRole("button", { name: /^End session/ }).click());
  await context.close();

  const replay = (cookie: string) =>
    request(`${main.url}/admin/users`, { method: "POST", headers: replayHeaders(captured, { origin: main.url, cookie }), body: captured.body });
  const intruder = await createAccount(main.databaseUrl, { prefix: "intruder" });
  const refused = await replay(await sessionFor(main.url, intruder.username, intruder.password));
  expect(refused.body).toContain("Only administrators can manage users.");
  expect(await signedIn(main.url, victimCookie)).toBe(true);
  expect((await rowsForUser(main.databaseUrl, intruder.id)).filter((r) => r.result === "access_denied").map((r) => r.metadata.resource)).toEqual([
    "end session action",
  ]);

  const adminCookie = await sessionFor(main.url, SERVER_DEFAULTS.ADMIN_USERNAME, SERVER_DEFAULTS.ADMIN_PASSWORD);
  const ended = await replay(adminCookie);
  expect(ended.body).toContain(`Ended 1 session of ${victim.username}.`);
  await expectEnded(main.url, victimCookie, "main");
  await expectEnded(second.url, victimCookie, "second process");
  const revoked = (await rowsForUser(main.databaseUrl, victim.id)).filter((r) => r.result === "session_revoked");
  expect(revoked).toHaveLength(1);
  expect(revoked[0]!.metadata).toMatchObject({ reason: "session stolen", actor: { username: SERVER_DEFAULTS.ADMIN_USERNAME, via: "admin page" } });
  recordFinding(
    "sessions: admin ends a stolen session",
    "victim's cookie kept; End session captured from the admin's browser, replayed by a non-admin, then by the admin",
    "non-admin refused + access_denied row, victim still signed in; after the admin's: the victim's cookie → /login?error=SessionEnded and {} on both processes, one session_revoked row with the reason",
  );
});
