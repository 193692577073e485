import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/** Raw bytes; the drivers hand them back as Buffer (postgres.js) or Uint8Array (PGlite). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

export const USER_ROLES = ["admin", "user"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const users = pgTable(
  "users",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    /** The name as created (NFKC, trimmed), for display. */
    username: text("username").notNull(),
    /** NFKC, trimmed, lower-cased: what sign-in and search compare. */
    usernameNormalized: text("username_normalized").notNull().unique(),
    /** `scrypt$<params>$<salt>$<key>`: parameters travel with the hash so they can be raised. */
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull().default("user"),
    /** Consecutive wrong passwords since the last success or unlock. */
    failedAttempts: integer("failed_attempts").notNull().default(0),
    lockedAt: timestamp("locked_at", { withTimezone: true }),
    /** Raised whenever existing sessions must stop working (lock, role change). */
    sessionVersion: integer("session_version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check("users_role_check", sql`${table.role} in ('admin', 'user')`),
    check("users_failed_attempts_check", sql`${table.failedAttempts} >= 0`),
    check("users_username_length_check", sql`char_length(${table.usernameNormalized}) between 1 and 64`),
    index("users_locked_at_idx").on(table.lockedAt).where(sql`${table.lockedAt} is not null`),
  ],
);

export type User = typeof users.$inferSelect;

export const ACCOUNT_LOG_RESULTS = [
  "login_successful",
  "login_failed_wrong_password",
  "login_failed_unknown_user",
  "login_failed_account_locked",
  "login_failed_invalid_request",
  "login_failed_rate_limited",
  "account_locked",
  "account_unlocked",
  "logout",
  "logs_exported",
  "access_denied",
  "user_created",
  "password_reset",
  "role_changed",
  "session_revoked",
  "api_token_created",
  "api_token_revoked",
  "api_token_refused",
  "stream_created",
  "stream_changed",
  "stream_removed",
  "stream_replayed",
  "alert_rule_created",
  "alert_rule_changed",
  "alert_rule_removed",
  "logs_retained",
] as const;
export type AccountLogResult = (typeof ACCOUNT_LOG_RESULTS)[number];

/**
 * One row per distinct normalized username seen in the log, with the exact number of its
 * log rows. Kept by the sealer (`account_log_seal`), so the page counts matches exactly without
 * scanning the log, and substring search runs over this small table (trigram index).
 */
export const accountLogUsernames = pgTable(
  "account_log_usernames",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    usernameNormalized: text("username_normalized").notNull().unique(),
    rowCount: bigint("row_count", { mode: "number" }).notNull().default(0),
    /** The newest log row of this username: which usernames can be on a search's first page. */
    lastId: bigint("last_id", { mode: "number" }),
    /**
     * The results this username's rows have had, one bit each in the order of
     * `ACCOUNT_LOG_RESULTS` (new results go at the end): which results a search can skip.
     */
    resultsSeen: integer("results_seen").notNull().default(0),
  },
  (table) => [index("account_log_usernames_trgm_idx").using("gin", sql`${table.usernameNormalized} gin_trgm_ops`)],
);

/** The total number of log rows. Split over a few rows from when every insert counted itself; the sealer now adds to the first. */
export const accountLogTotals = pgTable("account_log_totals", {
  shard: smallint("shard").primaryKey(),
  rowCount: bigint("row_count", { mode: "number" }).notNull().default(0),
});

/**
 * Rows per hour (UTC) and result, with the span of their IDs: exact counts for time ranges and
 * results without scanning the log, and the ID range a time filter has to look at. Kept by the
 * sealer in the same transaction as the rows it seals.
 */
export const accountLogHours = pgTable(
  "account_log_hours",
  {
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    rowCount: bigint("row_count", { mode: "number" }).notNull(),
    minId: bigint("min_id", { mode: "number" }).notNull(),
    maxId: bigint("max_id", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.hour, table.result] })],
);

/**
 * Rows per country (as stored with each row at sign-in), result and hour (UTC): exact counts for
 * the country filter, alone or with results and a time range. Rows without a country have no
 * entry; an exclusion counts them as every row less the excluded countries'. Kept by the sealer.
 */
export const accountLogCountryHours = pgTable(
  "account_log_country_hours",
  {
    country: text("country").notNull(),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    rowCount: bigint("row_count", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.country, table.hour, table.result] })],
);

/**
 * Rows per country and result, whatever their time: exact counts for the country filter over the
 * whole log, and which country-result pairs a page reads (the newest first). Rows without a
 * country are counted under the empty code `''`. Kept by the sealer.
 */
export const accountLogCountryResults = pgTable(
  "account_log_country_results",
  {
    country: text("country").notNull(),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    rowCount: bigint("row_count", { mode: "number" }).notNull(),
    lastId: bigint("last_id", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.country, table.result] })],
);

/** Rows per username and result: exact counts for a search combined with result filters. */
export const accountLogUsernameResults = pgTable(
  "account_log_username_results",
  {
    usernameKey: integer("username_key")
      .notNull()
      .references(() => accountLogUsernames.id),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    rowCount: bigint("row_count", { mode: "number" }).notNull(),
    /** The newest row of this username and result: which pairs can be on a first page. */
    lastId: bigint("last_id", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.usernameKey, table.result] })],
);

/**
 * Rows per address and result, like `accountLogUsernameResults` for usernames: exact counts for
 * an address or network filter, and which address-result pairs a page reads.
 */
export const accountLogAddressResults = pgTable(
  "account_log_address_results",
  {
    ip: inet("ip").notNull(),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    rowCount: bigint("row_count", { mode: "number" }).notNull(),
    lastId: bigint("last_id", { mode: "number" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.ip, table.result] })],
);

/**
 * Failed sign-ins per UTC hour, username and address: what "Needs attention" groups to find
 * password spraying (one address, many usernames) and failure bursts (one username, many
 * failures) without reading the day's rows. Kept by the sealer.
 */
export const accountLogFailureHours = pgTable(
  "account_log_failure_hours",
  {
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    usernameKey: integer("username_key")
      .notNull()
      .references(() => accountLogUsernames.id),
    ip: inet("ip"),
    failures: bigint("failures", { mode: "number" }).notNull(),
  },
  (table) => [unique("account_log_failure_hours_hour_username_ip_unique").on(table.hour, table.usernameKey, table.ip).nullsNotDistinct()],
);

/**
 * Where a time bound falls among the IDs, in one index probe each (`docs/investigation.md`).
 * A ceiling is the newest ID among rows of its hour or earlier; only hours that raise it are
 * kept, so the newest ceiling at or before an hour answers for that hour.
 */
export const accountLogHourCeilings = pgTable("account_log_hour_ceilings", {
  hour: timestamp("hour", { withTimezone: true }).primaryKey(),
  lastId: bigint("last_id", { mode: "number" }).notNull(),
});

/**
 * A floor is the oldest ID among rows of its hour or later; only hours that lower it are kept
 * (an hour newer than every row so far), so the oldest floor at or after an hour answers for it.
 */
export const accountLogHourFloors = pgTable("account_log_hour_floors", {
  hour: timestamp("hour", { withTimezone: true }).primaryKey(),
  firstId: bigint("first_id", { mode: "number" }).notNull(),
});

export const accountLogs = pgTable(
  "account_logs",
  {
    /** Drawn when the row entered the inbox, so IDs follow the order rows were written in. */
    id: bigint("id", { mode: "number" }).notNull(),
    /** The database clock, not the app's. */
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    /** As typed, bounded and with NUL replaced; `usernameTruncated` says when it was cut. */
    username: text("username").notNull(),
    usernameTruncated: boolean("username_truncated").notNull(),
    usernameNormalized: text("username_normalized").notNull(),
    /** Set by the sealer from `usernameNormalized`. */
    usernameKey: integer("username_key")
      .notNull()
      .references(() => accountLogUsernames.id),
    userId: integer("user_id").references(() => users.id),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    ip: inet("ip"),
    metadata: jsonb("metadata").$type<AccountLogMetadata>().notNull(),
    /** The row's place in the chain: 1, 2, 3, … in the order rows were sealed, without gaps. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** When the sealer took the row in; never earlier than the row before. The partition key. */
    sealedAt: timestamp("sealed_at", { withTimezone: true }).notNull(),
    /**
     * The hash chain (docs/audit.md): `hash` = SHA-256(`prevHash` ‖ the row's canonical
     * encoding), `prevHash` being the hash of the row at `seq` - 1. Set by the sealer.
     */
    prevHash: bytea("prev_hash").notNull(),
    hash: bytea("hash").notNull(),
  },
  (table) => [
    // A partitioned table's unique keys include the partition key (migration 0014).
    primaryKey({ name: "account_logs_pkey", columns: [table.id, table.sealedAt] }),
    unique("account_logs_seq_unique").on(table.seq, table.sealedAt),
    unique("account_logs_prev_hash_unique").on(table.prevHash, table.sealedAt),
    check("account_logs_hash_length_check", sql`octet_length(${table.hash}) = 32 and octet_length(${table.prevHash}) = 32`),
    check("account_logs_result_check", sql`${table.result} in (${sql.raw(ACCOUNT_LOG_RESULTS.map((r) => `'${r}'`).join(", "))})`),
    // Ascending IDs: a backward scan gives `ORDER BY id DESC` (an index declared `DESC NULLS
    // LAST` would not match it, and the planner would sort instead of stopping early).
    index("account_logs_username_key_id_idx").on(table.usernameKey, table.id),
    // A search combined with results: one ordered scan per username and result. The time at
    // the end lets the activity chart count a username's sign-ins from the index alone.
    index("account_logs_username_key_result_id_at_idx").on(table.usernameKey, table.result, table.id, table.occurredAt),
    index("account_logs_user_id_id_idx").on(table.userId, table.id),
    // The failures behind a lock, newest first, without walking the account's whole history.
    index("account_logs_user_failures_idx")
      .on(table.userId, table.id)
      .where(sql`${table.result} = 'login_failed_wrong_password'`),
    // Filters by result, and by address or network (one ordered scan per address and result),
    // newest first; with the time, an address's chart is read from the index alone.
    index("account_logs_result_id_idx").on(table.result, table.id),
    index("account_logs_ip_result_id_at_idx").on(table.ip, table.result, table.id, table.occurredAt),
    // The country filter: one ordered scan per country (or none) and result.
    index("account_logs_country_result_id_idx").on(sql`nullif(${table.metadata}->'location'->>'country', '')`, table.result, table.id),
    // Sign-ins from a new address or country, for "Needs attention": a small index.
    index("account_logs_new_place_idx")
      .on(table.id)
      .where(sql`(${table.metadata} -> 'signals') is not null`),
    // Recent failures from one address (per-IP throttling), newest first by time.
    index("account_logs_ip_failures_idx")
      .on(table.ip, table.occurredAt)
      .where(sql`${table.result} like 'login_failed%'`),
  ],
);

export type AccountLog = typeof accountLogs.$inferSelect;

/**
 * Rows written and not sealed yet: what a sign-in inserts, in its own transaction. The sealer
 * moves them into `account_logs` within moments (docs/audit.md, "Sealing").
 */
export const accountLogInbox = pgTable(
  "account_log_inbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
    username: text("username").notNull(),
    usernameTruncated: boolean("username_truncated").notNull().default(false),
    usernameNormalized: text("username_normalized").notNull(),
    userId: integer("user_id").references(() => users.id),
    result: text("result", { enum: ACCOUNT_LOG_RESULTS }).notNull(),
    ip: inet("ip"),
    metadata: jsonb("metadata").$type<AccountLogMetadata>().notNull().default({}),
  },
  (table) => [
    check("account_log_inbox_result_check", sql`${table.result} in (${sql.raw(ACCOUNT_LOG_RESULTS.map((r) => `'${r}'`).join(", "))})`),
    index("account_log_inbox_ip_idx").on(table.ip),
    index("account_log_inbox_username_idx").on(table.usernameNormalized),
  ],
);

/** The sealer's one row: the newest sealed position and hash. Locked while a batch is sealed. */
export const accountLogSealState = pgTable("account_log_seal_state", {
  singleton: boolean("singleton").primaryKey().default(true),
  seq: bigint("seq", { mode: "number" }).notNull(),
  headHash: bytea("head_hash").notNull(),
  sealedAt: timestamp("sealed_at", { withTimezone: true }).notNull(),
  partitionsUntil: timestamp("partitions_until", { withTimezone: true }).notNull(),
  /** This log's identity, signed into every checkpoint. */
  logId: uuid("log_id").notNull().defaultRandom(),
});

/** Each month's sealed rows by ID and position (months of sealing, as the log's partitions). Kept by the sealer. */
export const accountLogMonths = pgTable("account_log_months", {
  month: timestamp("month", { withTimezone: true }).primaryKey(),
  minId: bigint("min_id", { mode: "number" }).notNull(),
  maxId: bigint("max_id", { mode: "number" }).notNull(),
  minSeq: bigint("min_seq", { mode: "number" }).notNull(),
  maxSeq: bigint("max_seq", { mode: "number" }).notNull(),
  rowCount: bigint("row_count", { mode: "number" }).notNull(),
});

/**
 * Where retention cut the log: every row through `seq` left (archived first), and the next row's
 * `prev_hash` is `headHash`. Signed like a checkpoint, so verify can start from it and a month
 * removed behind the app's back (no signed boundary) is named.
 */
export const accountLogBoundaries = pgTable("account_log_boundaries", {
  seq: bigint("seq", { mode: "number" }).primaryKey(),
  headHash: bytea("head_hash").notNull(),
  firstSeq: bigint("first_seq", { mode: "number" }).notNull(),
  rowsRemoved: bigint("rows_removed", { mode: "number" }).notNull(),
  /** Each month's name, positions, rows and end hashes, as signed. */
  spans: jsonb("spans").notNull(),
  archives: text("archives").array().notNull(),
  retainedAt: timestamp("retained_at", { withTimezone: true }).notNull(),
  keyId: text("key_id").notNull(),
  signature: bytea("signature").notNull(),
});

/** The youngest cut the app's role may make on its own, in months; set by the owner. */
export const accountLogRetentionFloor = pgTable("account_log_retention_floor", {
  singleton: boolean("singleton").primaryKey().default(true),
  months: integer("months").notNull(),
});

/** Signed checkpoints: the head at a position, signed with Ed25519 outside the database. */
export const accountLogCheckpoints = pgTable("account_log_checkpoints", {
  seq: bigint("seq", { mode: "number" }).primaryKey(),
  headHash: bytea("head_hash").notNull(),
  rowCount: bigint("row_count", { mode: "number" }).notNull(),
  signedAt: timestamp("signed_at", { withTimezone: true }).notNull(),
  /** The signing key's fingerprint: which public key checks the signature. */
  keyId: text("key_id").notNull(),
  signature: bytea("signature").notNull(),
});

/**
 * Where each account has signed in from (addresses and countries) and when last: what marks a
 * sign-in from somewhere new. State beside the log, not part of it.
 */
export const SIGN_IN_PLACE_KINDS = ["ip", "country"] as const;
export const accountSignInPlaces = pgTable(
  "account_sign_in_places",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id),
    kind: text("kind", { enum: SIGN_IN_PLACE_KINDS }).notNull(),
    value: text("value").notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.kind, table.value] }),
    check("account_sign_in_places_kind_check", sql`${table.kind} in ('ip', 'country')`),
  ],
);

/** Each run of `npm run audit:verify` against the database: what the admin page reports. */
export const accountLogVerifications = pgTable("account_log_verifications", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
  finishedAt: timestamp("finished_at", { withTimezone: true }).notNull().defaultNow(),
  /** The newest position the walk covered (the head when it started). */
  throughSeq: bigint("through_seq", { mode: "number" }).notNull(),
  headHash: text("head_hash").notNull(),
  rowsVerified: bigint("rows_verified", { mode: "number" }).notNull(),
  intact: boolean("intact").notNull(),
  /** The first break, in words, when not intact. */
  problem: text("problem"),
  brokenAtId: bigint("broken_at_id", { mode: "number" }),
});

/**
 * One row per sign-in: what lets a session end on the server (sign-out, an admin, its owner, idle
 * or absolute expiry) although the cookie is a self-contained JWT. The cookie carries a random
 * key; only its SHA-256 is stored, so a reader of this table cannot replay a session.
 */
export const userSessions = pgTable(
  "user_sessions",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    keyHash: bytea("key_hash").notNull().unique(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id),
    /** The account's session version at sign-in: a lock, a new password or role raises it, and this session is over. */
    sessionVersion: integer("session_version").notNull(),
    /** "Chrome 131 · Windows 11", as the sign-in's log row describes the client. */
    device: text("device"),
    ip: inet("ip"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** Written at most once a minute per session. */
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    /** Absolute: the sign-in time plus the session lifetime, never moved by activity. */
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    /** "signed out", or the reason an admin gave, or what the owner did. */
    revokedReason: text("revoked_reason"),
    revokedBy: integer("revoked_by").references(() => users.id),
  },
  (table) => [
    index("user_sessions_user_id_idx").on(table.userId).where(sql`${table.revokedAt} is null`),
    index("user_sessions_expires_at_idx").on(table.expiresAt),
    index("user_sessions_revoked_at_idx").on(table.revokedAt).where(sql`${table.revokedAt} is not null`),
  ],
);

export type UserSession = typeof userSessions.$inferSelect;

export type AccountLogMetadata = {
  /** "Chrome 131 · Windows 11": what the admin page shows. */
  summary?: string;
  browser?: { name?: string; version?: string };
  os?: { name?: string; version?: string };
  device?: { type?: string; vendor?: string; model?: string };
  userAgent?: { value: string; length: number; truncated: boolean };
  clientHints?: Record<string, string>;
  /** Forwarding headers as the client sent them: untrusted, kept for investigation. */
  forwardedHeaders?: Record<string, string>;
  /** For admin actions: who did it, and through what (the admin page or the command line). */
  actor?: { userId: number | null; username: string; via?: "admin page" | "command line" | "start-up" | "sessions page" | "schedule" };
  /** For account_locked: the consecutive failures that caused it. */
  failedAttempts?: number;
  /** For logs_exported: the format and the filter, so the exported selection can be re-read. */
  export?: { format: string; filter: { q: string; exact?: true; results?: AccountLogResult[]; from?: string; to?: string; ip?: string; country?: string[] } };
  /** For access_denied: what was asked for (an aggregate row: every resource, comma-separated). */
  resource?: string;
  /**
   * For an access_denied row that stands for several refusals past the per-user limit: how many,
   * of what, and the first and last of them (ISO 8601), with other addresses they came from.
   */
  count?: number;
  resources?: Record<string, number>;
  from?: string;
  to?: string;
  otherAddresses?: string[];
  /** For session_revoked: which sessions ended (one, or all of the account's, or all but the actor's own) and how many. */
  sessions?: { ended: number; scope: "one" | "all" | "others"; id?: number; device?: string };
  /** For admin actions on an account (unlock, lock, password reset, end sessions): the admin's reason. */
  reason?: string;
  /** For role_changed (from and to), and user_created (the new account's role, `to`). */
  role?: { from?: UserRole; to: UserRole };
  /** Where the address was, by the offline database at the time: ISO 3166 code. */
  location?: { country?: string };
  /** For api_token_created, api_token_revoked and api_token_refused: the token (never its secret), and why it was refused. */
  apiToken?: { id?: number; hint?: string; scopes?: string[]; expiresAt?: string | null; refused?: "unknown" | "revoked" | "expired" };
  /** For stream_* rows: the stream, and what changed (format, headers' names, enabled, the replay's start). */
  stream?: { id: number; kind: string; url: string } & Record<string, unknown>;
  /** For logs_retained: the months that left, their rows, the boundary, the archives and any stream forced past. */
  retention?: { months: string[]; rows: number; boundarySeq: number; archives: string[]; forcedStreams?: string[] } & Record<string, unknown>;
  /** For alert_rule_* rows: the rule, and what changed. */
  alertRule?: { id: number; events: string[]; webhook: string | null; emailTo: string[] } & Record<string, unknown>;
  /** For login_successful: an address or country this account had not used in 90 days. */
  signals?: { newIp?: boolean; newCountry?: boolean };
};

/** What an API token may do: read the log through `/api/v1/account-logs`, or scrape `/metrics`. */
export const API_TOKEN_SCOPES = ["logs:read", "metrics:read"] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

/**
 * Tokens for machines (a SIEM polling the log, a metrics scraper). The token is 32 random bytes
 * shown once; only its SHA-256 is kept, which is enough for a secret of that strength and keeps
 * each API request one index probe.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    name: text("name").notNull(),
    tokenHash: bytea("token_hash").notNull().unique(),
    /** The token's first characters, to tell tokens apart in the list and in the log. */
    hint: text("hint").notNull(),
    scopes: text("scopes").array().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The admin who made it; null when made on the command line. */
    createdBy: integer("created_by").references(() => users.id),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedBy: integer("revoked_by").references(() => users.id),
    /** Written at most once a minute per token. */
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    lastUsedIp: inet("last_used_ip"),
    /** When a use after revocation or expiry was last logged: at most one such row a window. */
    lastRefusedAt: timestamp("last_refused_at", { withTimezone: true }),
  },
  (table) => [
    check("api_tokens_name_check", sql`char_length(${table.name}) between 1 and 100`),
    check("api_tokens_scopes_check", sql`cardinality(${table.scopes}) > 0 and ${table.scopes} <@ array['logs:read', 'metrics:read']::text[]`),
  ],
);

export type ApiToken = typeof apiTokens.$inferSelect;

/**
 * Refused API tokens per client address and minute: what throttles an address that keeps
 * guessing, read the same by every app instance. One row per address and minute, whatever the
 * number of refusals; rows older than a day are removed.
 */
export const apiTokenRefusals = pgTable(
  "api_token_refusals",
  {
    ip: inet("ip").notNull(),
    minute: timestamp("minute", { withTimezone: true }).notNull(),
    refusals: integer("refusals").notNull(),
  },
  (table) => [primaryKey({ columns: [table.ip, table.minute] }), index("api_token_refusals_minute_idx").on(table.minute)],
);

export const STREAM_KINDS = ["webhook", "syslog"] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];
export const STREAM_FORMATS = ["json", "ocsf", "ecs", "cef"] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/**
 * A destination the log is streamed to, with its own cursor: every sealed row after `cursor_seq`
 * is still to be delivered, in `seq` order. The batch in flight keeps its rows and its ID across
 * retries; a lease says which app instance sends, so no batch goes out twice at once.
 */
export const logStreams = pgTable(
  "log_streams",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    name: text("name").notNull(),
    kind: text("kind", { enum: STREAM_KINDS }).notNull(),
    /** What the page and the log show: the URL with long path segments and the query cut out. */
    url: text("url").notNull(),
    /** Sealed: the whole URL, which often holds a credential (Slack, Datadog, Azure SAS). */
    target: text("target").notNull(),
    format: text("format", { enum: STREAM_FORMATS }).notNull(),
    /** Sealed (lib/streams/secrets.ts): the webhook's `whsec_` secret. */
    secret: text("secret"),
    /** Sealed: custom headers as a JSON object (they often carry credentials). */
    headers: text("headers"),
    /** PEM certificates to trust for this destination, as well as the system's. */
    ca: text("ca"),
    /** A client certificate (PEM) and its sealed key, for syslog over mutual TLS. */
    tlsCert: text("tls_cert"),
    tlsKey: text("tls_key"),
    enabled: boolean("enabled").notNull().default(true),
    cursorSeq: bigint("cursor_seq", { mode: "number" }).notNull().default(0),
    batchThrough: bigint("batch_through", { mode: "number" }),
    batchId: text("batch_id"),
    leaseOwner: text("lease_owner"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    failures: integer("failures").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    deliveredRows: bigint("delivered_rows", { mode: "number" }).notNull().default(0),
    lastSuccessAt: timestamp("last_success_at", { withTimezone: true }),
    lastError: text("last_error"),
    lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    createdBy: integer("created_by").references(() => users.id),
  },
  (table) => [
    check("log_streams_name_check", sql`char_length(${table.name}) between 1 and 100`),
    check("log_streams_url_check", sql`char_length(${table.url}) between 1 and 2048`),
    check("log_streams_kind_check", sql`${table.kind} in ('webhook', 'syslog')`),
    check("log_streams_format_check", sql`${table.format} in ('json', 'ocsf', 'ecs', 'cef')`),
    check("log_streams_batch_check", sql`${table.batchThrough} is null or ${table.batchThrough} > ${table.cursorSeq}`),
  ],
);

export type LogStream = typeof logStreams.$inferSelect;

/** What an alert rule can be told of (lib/alerts/detect.ts). */
export const ALERT_EVENTS = ["account_locked", "password_spraying", "throttle_tripped", "account_unlocked"] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** Who is told of which events, and how: a signed webhook, email, or both. */
export const alertRules = pgTable(
  "alert_rules",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    name: text("name").notNull(),
    events: text("events", { enum: ALERT_EVENTS }).array().notNull(),
    /** What the page and the log show of the webhook URL (as for streams); the whole one is sealed in `webhookTarget`. */
    webhookUrl: text("webhook_url"),
    webhookTarget: text("webhook_target"),
    /** Sealed: the webhook's `whsec_` secret. */
    webhookSecret: text("webhook_secret"),
    emailTo: text("email_to").array().notNull().default(sql`'{}'::text[]`),
    enabled: boolean("enabled").notNull().default(true),
    /** Events of rows sealed after this position only: a new rule does not alert on the past. */
    fromSeq: bigint("from_seq", { mode: "number" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    createdBy: integer("created_by").references(() => users.id),
  },
  (table) => [
    check("alert_rules_name_check", sql`char_length(${table.name}) between 1 and 100`),
    check("alert_rules_events_check", sql`cardinality(${table.events}) between 1 and 4 and ${table.events} <@ array['account_locked', 'password_spraying', 'throttle_tripped', 'account_unlocked']::text[]`),
    check(
      "alert_rules_destination_check",
      sql`(${table.webhookTarget} is not null) = (${table.webhookSecret} is not null) and (${table.webhookTarget} is not null or cardinality(${table.emailTo}) between 1 and 20)`,
    ),
  ],
);
export type AlertRule = typeof alertRules.$inferSelect;

/** How far alert detection has read the sealed log. */
export const alertState = pgTable("alert_state", {
  id: boolean("id").primaryKey().default(true),
  cursorSeq: bigint("cursor_seq", { mode: "number" }).notNull(),
});

/** One alert to send: an event, for a rule, on one channel; kept until sent, and a while after. */
export const alertDeliveries = pgTable(
  "alert_deliveries",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    ruleId: integer("rule_id")
      .notNull()
      .references(() => alertRules.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: ["webhook", "email"] }).notNull(),
    eventKey: text("event_key").notNull(),
    event: jsonb("event").$type<AlertMessage>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text("lease_owner"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    lastError: text("last_error"),
    lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
  },
  (table) => [
    uniqueIndex("alert_deliveries_event_idx").on(table.ruleId, table.channel, table.eventKey),
    index("alert_deliveries_due_idx").on(table.nextAttemptAt).where(sql`${table.sentAt} is null`),
    check("alert_deliveries_channel_check", sql`${table.channel} in ('webhook', 'email')`),
  ],
);

/** What an alert says: the event, a sentence, and the link to the rows behind it. */
export type AlertMessage = {
  type: AlertEvent;
  key: string;
  summary: string;
  /** The Account Logs view filtered to the rows behind the event (a path, or a full URL when NEXTAUTH_URL is set). */
  link: string;
  seq: number;
  time: string;
  username?: string;
  ip?: string;
  details?: Record<string, unknown>;
};
