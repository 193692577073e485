import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { hashPassword } from "@/lib/auth/password";
import { normalizeUsername } from "@/lib/users/username";

const clients = new Map<string, postgres.Sql>();

/** A connection to a suite database; idle connections close, so the worker can exit. */
export function sqlFor(databaseUrl: string): postgres.Sql {
  let client = clients.get(databaseUrl);
  if (!client) {
    client = postgres(databaseUrl, { max: 4, idle_timeout: 2, onnotice: () => {} });
    clients.set(databaseUrl, client);
  }
  return client;
}

export type TestAccount = { id: number; username: string; password: string; role: "admin" | "user" };

/**
 * An account written straight into the database, hashed as the app hashes (scrypt at the suite's
 * cost), so a test can have as many fresh accounts as it needs without a command per account.
 */
export async function createAccount(
  databaseUrl: string,
  {
    prefix = "user",
    role = "user",
    password,
    log2N = 14,
  }: { prefix?: string; role?: "admin" | "user"; password?: string; /** Below the suite's 14: a hash from before a cost raise. */ log2N?: number } = {},
): Promise<TestAccount> {
  const username = `${prefix}-${randomBytes(4).toString("hex")}`;
  const secret = password ?? `pw-${randomBytes(9).toString("base64url")}`;
  const passwordHash = await hashPassword(secret, { N: 2 ** log2N, r: 8, p: 1 });
  const sql = sqlFor(databaseUrl);
  const [row] = await sql<{ id: number }[]>`
    insert into users (username, username_normalized, password_hash, role)
    values (${username}, ${normalizeUsername(username)}, ${passwordHash}, ${role}) returning id`;
  return { id: row!.id, username, password: secret, role };
}

export type LogRow = {
  id: number;
  username: string;
  username_normalized: string;
  username_truncated: boolean;
  user_id: number | null;
  result: string;
  ip: string | null;
  metadata: Record<string, unknown> & { userAgent?: { value: string; length: number; truncated: boolean } };
};

/**
 * Seals every row written so far, as the server's sealer would within moments: a test reads the
 * log right after the request that wrote to it. Waits while the server's sealer holds a batch.
 */
export async function sealAll(databaseUrl: string): Promise<void> {
  const sql = sqlFor(databaseUrl);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [{ sealed }] = (await sql`select account_log_seal(1000) as sealed`) as unknown as [{ sealed: number }];
    if (sealed === 0) return;
    if (sealed < 0) {
      if (Date.now() > deadline) throw new Error("The log could not be sealed within 10 s.");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

export async function rowsForUser(databaseUrl: string, userId: number): Promise<LogRow[]> {
  await sealAll(databaseUrl);
  return sqlFor(databaseUrl)<LogRow[]>`
    select id::int, username, username_normalized, username_truncated, user_id, result, host(ip) as ip, metadata
    from account_logs where user_id = ${userId} order by id`;
}

export async function rowsForName(databaseUrl: string, normalized: string): Promise<LogRow[]> {
  await sealAll(databaseUrl);
  return sqlFor(databaseUrl)<LogRow[]>`
    select id::int, username, username_normalized, username_truncated, user_id, result, host(ip) as ip, metadata
    from account_logs where username_normalized = ${normalized} order by id`;
}

export async function rowsFromIp(databaseUrl: string, ip: string): Promise<LogRow[]> {
  await sealAll(databaseUrl);
  return sqlFor(databaseUrl)<LogRow[]>`
    select id::int, username, username_normalized, username_truncated, user_id, result, host(ip) as ip, metadata
    from account_logs where ip = ${ip}::inet order by id`;
}

export async function accountOf(databaseUrl: string, userId: number) {
  const [row] = await sqlFor(databaseUrl)<{ failed_attempts: number; locked_at: Date | null; session_version: number; role: string }[]>`
    select failed_attempts, locked_at, session_version, role from users where id = ${userId}`;
  return row!;
}

/** The sealer-kept counters against a full count: they must agree after any attack. */
export async function countersAgree(databaseUrl: string): Promise<{ total: number; counted: number; usernamesOff: number }> {
  await sealAll(databaseUrl);
  const sql = sqlFor(databaseUrl);
  const [{ total }] = (await sql`select count(*)::int as total from account_logs`) as unknown as [{ total: number }];
  const [{ counted }] = (await sql`select coalesce(sum(row_count), 0)::int as counted from account_log_totals`) as unknown as [{ counted: number }];
  const [{ off }] = (await sql`
    select count(*)::int as off from account_log_usernames u
    where u.row_count <> (select count(*) from account_logs l where l.username_key = u.id)`) as unknown as [{ off: number }];
  return { total, counted, usernamesOff: off };
}
