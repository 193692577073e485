import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { createAccount, sealAll, sqlFor } from "./support/database";
import { newClientIp, newSignInClient, signIn, type SignInResult } from "../support/http";
import { recordFinding, serverOutput, suiteState } from "./support/state";

/**
 * A canary password, used the ways a real one is (and once typed into the username field, as
 * users do): it must appear in no log row, no table, no server output and no response.
 */
test("a canary password appears in no log row, no server output and no response", async ({ browser }) => {
  const { main } = suiteState().servers;
  const canary = `Canary-${randomBytes(8).toString("hex")}-Pw`;
  const account = await createAccount(main.databaseUrl, { prefix: "canary", password: canary });
  const responses: SignInResult[] = [];
  const client = await newSignInClient(main.url, { ip: newClientIp() });

  responses.push(await signIn(client, account.username, canary));
  responses.push(await signIn(client, "someone-else", canary));
  // Typed into the username field, then Enter with the password field empty.
  responses.push(await signIn(client, canary, ""));
  for (let i = 0; i < 6; i++) responses.push(await signIn(client, account.username, `wrong-${i}`));
  responses.push(await signIn(client, account.username, canary));
  expect(responses[0]!.session).toBeDefined();
  expect(responses.at(-1)!.error).toBe("AccountLocked");

  // The same slip in a browser.
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": newClientIp() } });
  const page = await context.newPage();
  const bodies: string[] = [];
  page.on("response", (response) => {
    if (response.url().includes("/api/auth/")) void response.text().then((text) => bodies.push(text), () => {});
  });
  await page.goto(`${main.url}/login`);
  await page.getByLabel("Username").fill(canary);
  await page.getByLabel("Username").press("Enter");
  await expect(page.locator("#login-error")).toHaveText("Invalid username or password.");
  await context.close();

  const sql = sqlFor(main.databaseUrl);
  const tables = await sql<{ name: string }[]>`
    select quote_ident(table_schema) || '.' || quote_ident(table_name) as name from information_schema.tables
    where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`;
  const found: string[] = [];
  for (const { name } of tables) {
    const [row] = await sql.unsafe(`select count(*)::int as n from ${name} t where t::text like '%' || $1 || '%'`, [canary]);
    if (row!.n > 0) found.push(name);
  }
  expect(found).toEqual([]);
  await sealAll(main.databaseUrl);
  const [{ redacted }] = (await sql`
    select count(*)::int as redacted from account_logs where username like '(not stored%' and ip = ${client.ip!}::inet`) as unknown as [
    { redacted: number },
  ];
  expect(redacted).toBe(1);

  for (const server of Object.values(suiteState().servers)) expect(serverOutput(server), server.name).not.toContain(canary);
  for (const response of responses) {
    expect(response.body).not.toContain(canary);
    expect(JSON.stringify(response.headers)).not.toContain(canary);
  }
  for (const body of bodies) expect(body).not.toContain(canary);
  recordFinding(
    "secrets: canary password",
    `${responses.length} HTTP attempts (right, other user, typed as username with no password, locked) + 1 slip in Chromium`,
    `absent from all ${tables.length} tables, all 4 servers' output and every response; the username-field slip logged as "(not stored: sent without a password)"`,
  );
});
