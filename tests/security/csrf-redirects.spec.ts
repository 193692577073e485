import { expect, test } from "@playwright/test";
import { createAccount, rowsForUser, sealAll, sqlFor } from "./support/database";
import { cookieHeader, newClientIp, newSignInClient, postCredentials, request, signIn } from "../support/http";
import { recordFinding, suiteState } from "./support/state";

/**
 * Login CSRF (a victim signed in as the attacker), open redirects after sign-in, and redirects
 * built from a forged Host.
 */
const EVIL_CALLBACKS = ["https://evil.example", "//evil.example", "/\\evil.example", "https:evil.example", "/%2F%2Fevil.example", "  //evil.example"];

/** Whether a redirect target, resolved as a browser would, is on this origin. */
function staysHome(location: string | null | undefined, origin: string): boolean {
  if (!location) return true;
  return new URL(location, origin).origin === origin;
}

test("a credentials POST without its CSRF token (or with another client's) issues no session", async () => {
  const { main } = suiteState().servers;
  const account = await createAccount(main.databaseUrl, { prefix: "csrf" });
  const victim = await newSignInClient(main.url, { ip: newClientIp() });
  const attacker = await newSignInClient(main.url, { ip: newClientIp() });
  const attempts = [
    await postCredentials(victim, { username: account.username, password: account.password }, { csrf: false }),
    await postCredentials({ ...victim, csrfToken: attacker.csrfToken }, { username: account.username, password: account.password }),
    await postCredentials({ ...victim, cookies: {} }, { username: account.username, password: account.password }),
    await postCredentials(victim, { username: account.username, password: account.password }, { csrf: false, json: false }),
  ];
  for (const attempt of attempts) {
    expect(attempt.session).toBeUndefined();
    expect(attempt.status).toBeLessThan(500);
    expect(attempt.redirect ?? "").toContain("csrf=true");
  }
  // Each refused request is still one row, under the name it carried.
  const rows = await rowsForUser(main.databaseUrl, account.id);
  expect(rows).toHaveLength(0);
  await sealAll(main.databaseUrl);
  const [{ n }] = (await sqlFor(main.databaseUrl)`
    select count(*)::int as n from account_logs where username = ${account.username} and result = 'login_failed_invalid_request'`) as unknown as [{ n: number }];
  expect(n).toBe(attempts.length);
  // The real token still works: the refusals were about the token alone.
  expect((await signIn(victim, account.username, account.password)).session).toBeDefined();
  recordFinding("CSRF: credentials POST", `${attempts.length} (no token, another client's token, no cookie, form post)`, "no session; each logged login_failed_invalid_request; with its token the same POST signs in");
});

test("callbackUrl to another site stays on this origin: the sign-in answer, NextAuth's routes, the login page", async ({ browser }) => {
  const { main } = suiteState().servers;
  const origin = new URL(main.publicUrl).origin;
  const account = await createAccount(main.databaseUrl, { prefix: "redirect" });
  const offsite: string[] = [];
  for (const callbackUrl of EVIL_CALLBACKS) {
    const client = await newSignInClient(main.url, { ip: newClientIp() });
    const signedIn = await postCredentials(client, { username: account.username, password: account.password, callbackUrl });
    expect(signedIn.session).toBeDefined();
    if (!staysHome(signedIn.redirect, origin)) offsite.push(`sign-in answer: ${signedIn.redirect}`);
    // The same through the callback-url cookie NextAuth keeps, and its sign-in and sign-out routes.
    const withCookie = await postCredentials(
      { ...client, cookies: { ...client.cookies, "next-auth.callback-url": encodeURIComponent(callbackUrl) } },
      { username: account.username, password: account.password },
    );
    if (!staysHome(withCookie.redirect, origin)) offsite.push(`callback-url cookie: ${withCookie.redirect}`);
    for (const path of [`/api/auth/signin?callbackUrl=${encodeURIComponent(callbackUrl)}`, `/api/auth/signout?callbackUrl=${encodeURIComponent(callbackUrl)}`]) {
      const response = await request(`${main.url}${path}`, { headers: { cookie: cookieHeader(client.cookies) } });
      expect(response.status).toBeLessThan(500);
      if (!staysHome(response.headers.location, origin)) offsite.push(`${path}: ${response.headers.location}`);
      expect(response.body).not.toMatch(/https?:\/\/evil\.example|href="\/\/evil/);
    }
  }
  expect(offsite).toEqual([]);

  // In a browser: the login page's own redirect after signing in.
  for (const callbackUrl of ["https://evil.example", "//evil.example", "/\\evil.example"]) {
    const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": newClientIp() } });
    const page = await context.newPage();
    await page.goto(`${main.url}/login?callbackUrl=${encodeURIComponent(callbackUrl)}`);
    await page.getByLabel("Username").fill(account.username);
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("current-username")).toHaveText(account.username);
    expect(new URL(page.url()).origin).toBe(new URL(main.url).origin);
    await context.close();
  }
  recordFinding(
    "redirects: callbackUrl",
    `${EVIL_CALLBACKS.length} off-site values × sign-in answer, callback-url cookie, /api/auth/signin, /api/auth/signout; 3 in Chromium`,
    "every redirect stayed on this origin; the browser landed on this site",
  );
});

test("a forged Host or X-Forwarded-Host does not change where redirects go", async () => {
  const { main, direct } = suiteState().servers;
  const forged: Record<string, string>[] = [
    { host: "evil.example" },
    { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
    { host: "evil.example", "x-forwarded-host": "evil.example" },
  ];
  const locations: string[] = [];
  for (const server of [main, direct]) {
    for (const headers of forged) {
      const anonymous = await request(`${server.url}/admin/account-logs`, { headers });
      locations.push(String(anonymous.headers.location));
      const client = await newSignInClient(server.url);
      const account = await createAccount(server.databaseUrl, { prefix: "host" });
      const signedIn = await postCredentials(client, { username: account.username, password: account.password, callbackUrl: "/" }, { headers });
      locations.push(String(signedIn.redirect));
      const failed = await postCredentials(client, { username: account.username, password: "wrong" }, { headers, json: false });
      locations.push(String(failed.headers.location));
    }
  }
  expect(locations.filter((location) => location.includes("evil.example"))).toEqual([]);
  recordFinding(
    "redirects: forged Host / X-Forwarded-Host",
    `${forged.length} forgeries × 2 servers (trusted proxy and none) × middleware, sign-in, failed sign-in`,
    "no redirect named evil.example: NextAuth uses NEXTAUTH_URL, Next.js answers with relative paths, untrusted X-Forwarded-* are dropped",
  );
});
