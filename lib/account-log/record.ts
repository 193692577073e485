import { accountLogs, type AccountLogMetadata, type AccountLogResult } from "@/db/schema";
import type { Executor } from "@/db";
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

/**
 * Appends rows to the account log; the only way rows are written. The insert trigger keeps
 * the exact counts, so callers run this inside the transaction that changes account state.
 */
export async function appendAccountLog(executor: Executor, entries: AccountLogEntry[]) {
  if (entries.length === 0) return [];
  return executor
    .insert(accountLogs)
    .values(
      entries.map((entry) => {
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
      }),
    )
    .returning({ id: accountLogs.id, occurredAt: accountLogs.occurredAt, result: accountLogs.result })
    // A named statement: PostgreSQL parses and plans the hottest write once per connection.
    .prepare(`append_account_log_${entries.length}`)
    .execute();
}
