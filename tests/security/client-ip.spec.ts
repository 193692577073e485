import { expect, test } from "@playwright/test";
import { createAccount, rowsForName, rowsForUser, sealAll, sqlFor } from "./support/database";
import { newClientIp, newSignInClient, signIn } from "../support/http";
import { recordFinding, suiteState } from "./support/state";

/**
 * Which address the log records and the throttle counts by. Without a trusted proxy it is the
 * TCP peer whatever the headers say; behind one, exactly the hop the policy trusts up to.
 */
test.describe.configure({ mode: "serial" });

const FORGED: Record<string, string>[] = [
  { "x-forwarded-for": "6.6.6.6" },
  { "x-forwarded-for": "6.6.6.6, 7.7.7.7" },
  { "x-real-ip": "8.8.8.8" },
  { forwarded: "for=9.9.9.9;proto=https" },
  { forwarded: 'for="[2001:db8::66]"' },
  { "x-forwarded-for": "10.0.0.1", "x-real-ip": "10.0.0.2", forwarded: "for=10.0.0.3" },
  { "x-forwarded-for": "127.0.0.2" },
  { "x-forwarded-for": "not-an-address" },
  { "x-forwarded-for": "::ffff:1.2.3.4" },
  { "x-forwarded-for": `${"1.1.1.1, ".repeat(200)}2.2.2.2` },
];

test("no trusted proxy: forged X-Forwarded-For, X-Real-IP and Forwarded are neither the logged IP nor the throttle key", async () => {
  const { direct } = suiteState().servers;
  const account = await createAccount(direct.databaseUrl, { prefix: "forger" });
  const client = await newSignInClient(direct.url);
  const answers: number[] = [];
  for (const headers of FORGED) answers.push((await signIn(client, account.username, "wrong", { headers })).status);
  // Ten failures, each claiming another address: the eleventh is throttled all the same.
  const eleventh = await signIn(client, account.username, account.password, { headers: { "x-forwarded-for": "5.5.5.5" } });
  expect(answers.every((status) => status === 401)).toBe(true);
  expect(eleventh.status).toBe(429);
  // By name: the throttled attempt is refused before any account is looked up.
  const rows = await rowsForName(direct.databaseUrl, account.username);
  const attempts = rows.filter((row) => row.result !== "account_locked");
  expect(attempts).toHaveLength(FORGED.length + 1);
  expect(new Set(attempts.map((row) => row.ip))).toEqual(new Set(["127.0.0.1"]));
  // What the client claimed is kept, marked untrusted, for investigation.
  expect(attempts[0]!.metadata.forwardedHeaders).toEqual({ "x-forwarded-for": "6.6.6.6" });
  expect(attempts[2]!.metadata.forwardedHeaders).toEqual({ "x-real-ip": "8.8.8.8" });

  // A whole window (8 s on this server) without attempts lets the address in again.
  await new Promise((resolve) => setTimeout(resolve, 8_500));
  const [{ locked }] = (await sqlFor(direct.databaseUrl)`select locked_at is not null as locked from users where id = ${account.id}`) as unknown as [
    { locked: boolean },
  ];
  expect(locked).toBe(true);
  const other = await createAccount(direct.databaseUrl, { prefix: "after-window" });
  expect((await signIn(client, other.username, other.password)).session).toBeDefined();
  recordFinding(
    "client IP: forged headers, no trusted proxy",
    `${FORGED.length} forged X-Forwarded-For / X-Real-IP / Forwarded values`,
    "every row logged 127.0.0.1 (the TCP peer); the 11th attempt 429 despite a new forged address; forged values kept in metadata as untrusted; let in again after the 8 s window",
  );
});

test("behind the configured trusted proxy: exactly the hop after it, whatever else the headers say", async () => {
  const { main } = suiteState().servers;
  const account = await createAccount(main.databaseUrl, { prefix: "proxied" });
  const client = await newSignInClient(main.url);
  const cases: [Record<string, string>, string][] = [
    [{ "x-forwarded-for": "6.6.6.6, 203.0.113.50" }, "203.0.113.50"],
    [{ "x-forwarded-for": "203.0.113.51", "x-real-ip": "7.7.7.7", forwarded: "for=8.8.8.8" }, "203.0.113.51"],
    [{ "x-forwarded-for": "203.0.113.52, 127.0.0.1" }, "203.0.113.52"],
    [{ "x-forwarded-for": "198.51.100.1, not-an-address" }, "127.0.0.1"],
    [{ "x-real-ip": "7.7.7.7" }, "127.0.0.1"],
  ];
  for (const [headers] of cases) await signIn(client, account.username, "wrong", { headers: { ...headers } });
  const rows = (await rowsForUser(main.databaseUrl, account.id)).filter((row) => row.result !== "account_locked");
  expect(rows.map((row) => row.ip)).toEqual(cases.map(([, expected]) => expected));
  recordFinding(
    "client IP: behind the trusted proxy (TRUST_PROXY=loopback)",
    `${cases.length} header combinations`,
    "logged the hop after the trusted proxy each time; leftmost (spoofable) entries, X-Real-IP and Forwarded ignored; a malformed hop falls back to the proxy's address. Throttle key = that hop (see lockout abuse: 429 at 101 with spoofed hops varied)",
  );
});

test("the throttle key follows the trusted hop: a new hop is a new address", async () => {
  const { main } = suiteState().servers;
  const spoofed = newClientIp();
  const client = await newSignInClient(main.url);
  const first = newClientIp();
  const second = newClientIp();
  await signIn(client, "nobody", "x", { headers: { "x-forwarded-for": `${spoofed}, ${first}` } });
  await signIn(client, "nobody", "x", { headers: { "x-forwarded-for": `${spoofed}, ${second}` } });
  await sealAll(main.databaseUrl);
  const sql = sqlFor(main.databaseUrl);
  const rows = await sql<{ ip: string }[]>`select host(ip) as ip from account_logs where ip in (${first}::inet, ${second}::inet, ${spoofed}::inet)`;
  expect(rows.map((row) => row.ip).sort()).toEqual([first, second].sort());
});
