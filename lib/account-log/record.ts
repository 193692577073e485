import { getTableName, sql } from "drizzle-orm";
import { boolean, inet, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { ACCOUNT_LOG_RESULTS, accountLogInbox, type AccountLogMetadata, type AccountLogResult } from "@/db/schema";
import type { Executor } from "@/db";
import { nudgeSealer } from "@/lib/audit/sealer";
import { metrics } from "@/lib/metrics/registry";
import { normalizeUsername } from "@/lib/users/username";
import { boundUsername, storableText } from "./text";

export type AccountLogEntry = {
  /** As typed (attempts) or the account's name (account events); bounded here. */
  username: string;
  result: AccountLogResult;
  userId?: number | null;
  ip?: string | null;
  metadata?: AccountLogMetadata;
};

function storableMetadata(metadata: AccountLogMetadata): AccountLogMetadata {
  // Header values and names come from clients: jsonb rejects NUL and lone surrogates.
  return JSON.parse(JSON.stringify(metadata, (_key, value) => (typeof value === "string" ? storableText(value) : value)));
}

function toRow(entry: AccountLogEntry) {
  const { username, truncated } = boundUsername(entry.username);
  return {
    username,
    usernameTruncated: truncated,
    usernameNormalized: normalizeUsername(username),
    userId: entry.userId ?? null,
    result: entry.result,
    ip: entry.ip ?? null,
    metadata: storableMetadata(entry.metadata ?? {}),
  };
}

/**
 * The inbox as the app inserts into it: only the columns it writes. The database role the app runs
 * as may insert only these (db/roles/app-role.sql); the full table would name every column, its
 * `id` included, even when sending their defaults.
 */
const accountLogInserts = pgTable(getTableName(accountLogInbox), {
  username: text("username").notNull(),
  usernameTruncated: boolean("username_truncated").notNull(),
  usernameNormalized: text("username_normalized").notNull(),
  userId: integer("user_id"),
  result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
  ip: inet("ip"),
  metadata: jsonb("metadata").$type<AccountLogMetadata>().notNull(),
});

const returnedColumns = {
  id: sql<number>`${sql.identifier(getTableName(accountLogInbox))}.id`.mapWith(accountLogInbox.id),
  occurredAt: sql<Date>`${sql.identifier(getTableName(accountLogInbox))}.occurred_at`.mapWith(accountLogInbox.occurredAt),
  result: accountLogInserts.result,
};

function prepareSingleInsert(executor: Executor) {
  const placeholder = (name: string) => sql.placeholder(name);
  return executor
    .insert(accountLogInserts)
    .values({
      username: placeholder("username"),
      usernameTruncated: placeholder("usernameTruncated"),
      usernameNormalized: placeholder("usernameNormalized"),
      userId: placeholder("userId"),
      result: placeholder("result"),
      ip: placeholder("ip"),
      metadata: placeholder("metadata"),
    })
    .returning(returnedColumns)
    .prepare("append_account_log");
}

// Built once per database handle: the hottest write skips query building, and PostgreSQL
// parses and plans it once per connection.
const preparedSingleInserts = new WeakMap<Executor, ReturnType<typeof prepareSingleInsert>>();

/**
 * Appends rows to the account log; the only way rows are written. Callers run this inside the
 * transaction that changes account state: the rows commit with it, into the inbox, and the
 * sealer chains and counts them moments later (lib/audit/sealer.ts).
 */
export async function appendAccountLog(executor: Executor, entries: AccountLogEntry[]) {
  if (entries.length === 0) return [];
  let rows;
  try {
    if (entries.length === 1) {
      let prepared = preparedSingleInserts.get(executor);
      if (!prepared) {
        prepared = prepareSingleInsert(executor);
        preparedSingleInserts.set(executor, prepared);
      }
      rows = await prepared.execute(toRow(entries[0]!));
    } else {
      rows = await executor.insert(accountLogInserts).values(entries.map(toRow)).returning(returnedColumns);
    }
  } catch (error) {
    metrics().logWriteFailures.inc();
    throw error;
  }
  countWritten(entries);
  nudgeSealer();
  return rows;
}

/**
 * Counted when the insert returns. Inside a transaction that later rolls back the count runs
 * ahead of the log; the attempt is then refused as unavailable, which the failures count.
 */
function countWritten(entries: AccountLogEntry[]): void {
  const counters = metrics();
  for (const { result, metadata } of entries) {
    if (result.startsWith("login_")) counters.signInAttempts.inc({ result });
    if (result === "login_failed_rate_limited") counters.throttleRefusals.inc();
    if (result === "account_locked") counters.lockouts.inc({ by: metadata?.actor ? "admin" : "threshold" });
  }
}
