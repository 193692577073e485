import { expect, test } from "@playwright/test";
import { encode } from "next-auth/jwt";
import { createAccount, sqlFor } from "./support/database";
import { newClientIp, newSignInClient, request, sessionFor, signIn } from "./support/http";
import { SERVER_DEFAULTS } from "./support/servers";
import { recordFinding, serverOutput, serverOutputSize, suiteState } from "./support/state";

/** Stolen, kept, tampered and forged session cookies, and the cookies' own flags. */
test.describe.configure({ mode: "serial" });

async function signedIn(url: string, cookie: string): Promise<boolean> {
  const home = await request(`${url}/`, { headers: { cookie } });
  return home.status === 200;
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
