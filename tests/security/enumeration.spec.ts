import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { createAccount, type TestAccount } from "./support/database";
import { newClientIp, newSignInClient, signIn, type SignInClient, type SignInResult } from "../support/http";
import { recordFinding, suiteState } from "./support/state";

/**
 * Whether an attacker can tell an existing username from an unknown one by the answer or by its
 * timing. Each sample comes from its own address behind the trusted proxy, so the per-address
 * throttle never answers instead of the code under test.
 */
type Class = "unknown user" | "wrong password" | "wrong password, cheap hash" | "locked account" | "locked, right password";
const CLASSES: Class[] = ["unknown user", "wrong password", "wrong password, cheap hash", "locked account", "locked, right password"];

function freshName() {
  return `nobody-${randomBytes(5).toString("hex")}`;
}

async function as(baseUrl: string): Promise<SignInClient> {
  return newSignInClient(baseUrl, { ip: newClientIp() });
}

/** What an observer compares: everything but the Date header. */
function shape(result: SignInResult) {
  const headers = Object.keys(result.headers).filter((name) => name !== "date").sort();
  return { status: result.status, body: result.body, redirect: result.redirect, cookies: result.setCookies.map((c) => c.split("=")[0]), headers };
}

async function lockedAccount(baseUrl: string, databaseUrl: string): Promise<TestAccount> {
  const account = await createAccount(databaseUrl, { prefix: "enum-locked" });
  const client = await as(baseUrl);
  for (let i = 0; i < 6; i++) await signIn(client, account.username, `wrong-${i}`);
  return account;
}

test("answers reveal nothing: unknown users answer like wrong passwords, and like locked accounts once past the threshold", async () => {
  const { main } = suiteState().servers;
  const locked = await lockedAccount(main.url, main.databaseUrl);
  for (const json of [true, false]) {
    const account = await createAccount(main.databaseUrl, { prefix: "enum" });
    const unknown = freshName();
    const firstUnknown = await signIn(await as(main.url), unknown, "guess", { json });
    const firstWrong = await signIn(await as(main.url), account.username, "guess", { json });
    expect(shape(firstUnknown)).toEqual(shape(firstWrong));
    expect(firstWrong.error).toBe("CredentialsSignin");
    expect(firstWrong.session).toBeUndefined();

    // Past the threshold: an unknown name, a locked account, and a locked account given its
    // right password are one answer.
    for (let i = 0; i < 5; i++) await signIn(await as(main.url), unknown, `guess-${i}`, { json });
    const lockedUnknown = await signIn(await as(main.url), unknown, "guess-6", { json });
    const lockedWrong = await signIn(await as(main.url), locked.username, "guess", { json });
    const lockedRight = await signIn(await as(main.url), locked.username, locked.password, { json });
    expect(shape(lockedWrong)).toEqual(shape(lockedUnknown));
    expect(shape(lockedRight)).toEqual(shape(lockedUnknown));
    expect(lockedRight.error).toBe("AccountLocked");
    expect(lockedRight.session).toBeUndefined();

    // Between the two groups only the error code differs: same status, cookies and headers.
    expect({ ...shape(firstWrong), body: undefined, redirect: undefined }).toEqual({ ...shape(lockedRight), body: undefined, redirect: undefined });
  }
  recordFinding(
    "enumeration: answers",
    "4 classes × JSON and form posts",
    "unknown = wrong password (CredentialsSignin); unknown past threshold = locked = locked with right password (AccountLocked); " +
      "identical status (401 / 302), body, redirect, cookie and header names within each group; no session",
  );
});

test("response times: medians of unknown user, wrong password (also on a hash made at a lower cost), locked, and locked with the right password within 15%", async () => {
  const { main } = suiteState().servers;
  const samplesPerClass = 120;
  // Each account takes at most three wrong passwords, far from its lock.
  const accounts = await Promise.all(Array.from({ length: samplesPerClass / 3 }, () => createAccount(main.databaseUrl, { prefix: "enum-time" })));
  // Hashes made at 2^12 while the servers run at 2^14, as after a cost raise: checked at their
  // own cost, they would answer in a quarter of the hashing time.
  const cheapAccounts = await Promise.all(
    Array.from({ length: samplesPerClass / 3 }, () => createAccount(main.databaseUrl, { prefix: "enum-cheap", log2N: 12 })),
  );
  const locked = await lockedAccount(main.url, main.databaseUrl);
  const clients = await Promise.all(Array.from({ length: 8 }, () => newSignInClient(main.url)));
  let next = 0;
  const attempt = (kind: Class, i: number) => {
    const client = { ...clients[next++ % clients.length]!, ip: newClientIp() };
    switch (kind) {
      case "unknown user":
        return signIn(client, freshName(), `guess-${i}`);
      case "wrong password":
        return signIn(client, accounts[i % accounts.length]!.username, `guess-${i}`);
      case "wrong password, cheap hash":
        return signIn(client, cheapAccounts[i % cheapAccounts.length]!.username, `guess-${i}`);
      case "locked account":
        return signIn(client, locked.username, `guess-${i}`);
      case "locked, right password":
        return signIn(client, locked.username, locked.password);
    }
  };

  // Warm-up, then interleaved blocks (one of each class, in random order), one request at a
  // time, so load on this machine falls on every class alike.
  for (let i = 0; i < 15; i++) await attempt(CLASSES[i % CLASSES.length]!, 1000 + i);
  const times = Object.fromEntries(CLASSES.map((kind) => [kind, [] as number[]])) as Record<Class, number[]>;
  for (let i = 0; i < samplesPerClass; i++) {
    for (const kind of [...CLASSES].sort(() => Math.random() - 0.5)) {
      const result = await attempt(kind, i);
      expect(result.status).toBe(401);
      expect(result.error).toBe(kind === "locked account" || kind === "locked, right password" ? "AccountLocked" : "CredentialsSignin");
      times[kind].push(result.ms);
    }
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
  };
  const medians = Object.fromEntries(CLASSES.map((kind) => [kind, median(times[kind])])) as Record<Class, number>;
  const values = Object.values(medians);
  const deviation = Math.max(...values) / Math.min(...values) - 1;
  const described = CLASSES.map((kind) => `${kind} ${medians[kind].toFixed(1)} ms`).join(", ");
  console.log(`medians: ${described}; largest gap ${(deviation * 100).toFixed(1)}%`);
  recordFinding("enumeration: response time", `${samplesPerClass} per class, interleaved`, `medians ${described}; largest gap ${(deviation * 100).toFixed(1)}% (limit 15%)`);
  expect(deviation).toBeLessThanOrEqual(0.15);
});
