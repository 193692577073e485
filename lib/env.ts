import { z } from "zod";

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .pipe(z.string())
  .optional()
  .transform((value) => (value ? value : undefined));

const integerInRange = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? String(fallback) : value.trim()))
    .pipe(
      z
        .string()
        .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
        .transform(Number)
        .pipe(z.number().int().min(min, `a whole number from ${min} to ${max}`).max(max, `a whole number from ${min} to ${max}`)),
    );

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: integerInRange(1, 65535, 3000),
  HOST: optionalText.transform((value) => value ?? "0.0.0.0"),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/.+/, "a postgres:// or postgresql:// connection URL")
      .optional(),
  ),
  PGLITE_DIR: optionalText.transform((value) => value ?? ".data/pglite"),
  NEXTAUTH_SECRET: optionalText.pipe(z.string().min(32, "at least 32 characters").optional()),
  NEXTAUTH_URL: optionalText.pipe(z.url("an absolute http(s) URL").optional()),
  LOCKOUT_THRESHOLD: integerInRange(1, 100, 5),
  /** Failed sign-ins one client address may make in the window before it is answered 429. */
  SIGN_IN_RATE_LIMIT_FAILURES: integerInRange(1, 1_000_000, 100),
  SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: integerInRange(1, 86_400, 600),
  /** Sign-ins one client address may have in progress at once in one app process. */
  SIGN_IN_RATE_LIMIT_CONCURRENT: integerInRange(1, 10_000, 10),
  /** Mean time after which an unknown username's failure count starts over (lib/account-log/lockout.ts). */
  UNKNOWN_USERNAME_RESET_HOURS: integerInRange(1, 8_760, 24),
  /** Minutes without a request after which a session ends (lib/sessions/queries.ts). */
  SESSION_IDLE_MINUTES: integerInRange(1, 1_440, 60),
  /**
   * `access_denied` rows one user's refusals may write per window in one app process; refusals
   * past it are counted into one row per window (lib/account-log/access-denied.ts).
   */
  ACCESS_DENIED_ROW_LIMIT: integerInRange(1, 100_000, 10),
  ACCESS_DENIED_WINDOW_SECONDS: integerInRange(1, 86_400, 60),
  TRUST_PROXY: optionalText.transform((value) => value ?? "false"),
  ADMIN_USERNAME: optionalText,
  ADMIN_PASSWORD: optionalText,
  SCRYPT_LOG2_N: integerInRange(14, 20, 17),
  /**
   * The Ed25519 private key that signs checkpoints (PEM, or base64 PKCS#8), the same on every app
   * instance. Unset on the embedded database: a key file is made beside the data
   * (docs/audit.md, "Checkpoints"). Unset on PostgreSQL: checkpoints are not written.
   */
  AUDIT_SIGNING_KEY: optionalText,
  /** A checkpoint after this many sealed rows, or after AUDIT_CHECKPOINT_SECONDS with any. */
  AUDIT_CHECKPOINT_ROWS: integerInRange(1, 100_000_000, 10_000),
  AUDIT_CHECKPOINT_SECONDS: integerInRange(1, 86_400, 60),
  /** Every checkpoint is also appended here, outside the database. */
  AUDIT_CHECKPOINT_FILE: optionalText.transform((value) => value ?? ".data/checkpoints.ndjson"),
  /**
   * Months of the log to keep (1–1200): once a day, months of sealing older than that are
   * archived and removed. Unset keeps everything.
   */
  LOG_RETENTION_MONTHS: optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,4}$/, "a whole number of months")
      .transform(Number)
      .pipe(z.number().min(1, "at least 1").max(1200, "at most 1200"))
      .optional(),
  ),
  /** Where retention writes each month's archive before removing it. */
  LOG_ARCHIVE_DIR: optionalText.transform((value) => value ?? ".data/archive"),
  /**
   * 32 random bytes, base64: the key stream secrets (webhook signing secrets, custom headers) are
   * encrypted with, the same on every instance. Unset on the embedded database: a key file beside the data.
   */
  STREAM_SECRET_KEY: optionalText,
  /** Streams may send to private addresses (10/8, 172.16/12, 192.168/16, fc00::/7): inside your own network. */
  STREAM_ALLOW_PRIVATE: optionalText.transform((value) => value === "true" || value === "1"),
  /**
   * Where alert emails go out: smtp://user:pass@host:587 (STARTTLS required, except to this machine) or
   * smtps://…:465. Without it, rules that email fail visibly on the streams page.
   */
  SMTP_URL: optionalText.pipe(z.url("smtp://user:password@host:587 or smtps://…").refine((url) => /^smtps?:\/\//.test(url), "an smtp:// or smtps:// URL").optional()),
  /** The From of alert emails. */
  ALERT_EMAIL_FROM: optionalText.transform((value) => value ?? "Account Logs <account-logs@localhost>"),
  /** Bearer token for /metrics; without it the endpoint answers 404. */
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, "at least 16 characters").optional()),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigurationError extends Error {
  override name = "ConfigurationError";
}

/** Parses the environment; a bad value names the variable and what it expects. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: expected ${issue.message}`);
    throw new ConfigurationError(`Invalid configuration:\n  ${problems.join("\n  ")}\nSee .env.example for every variable.`);
  }
  return parsed.data;
}

// Shared by the custom server's copy of this module and the Next.js bundle's copy.
const cache = globalThis as unknown as { __accountLogsEnv?: Env };

/**
 * The configuration, parsed once per process. The one reader of `process.env`: other modules
 * read their settings here. It stays edge-safe (zod, no `node:` imports): middleware.ts reads it too.
 */
export function env(): Env {
  cache.__accountLogsEnv ??= parseEnv();
  return cache.__accountLogsEnv;
}

/** Makes the next `env()` read the environment again, after a command or test has changed it. */
export function resetEnv(): void {
  delete cache.__accountLogsEnv;
}

/** What the server works out at start-up when the environment leaves it unset. */
export type EnvCompletion = { NEXTAUTH_SECRET?: string; NEXTAUTH_URL?: string };

/**
 * Completes the configuration with the values the server worked out (a generated session
 * secret, the public URL from PORT) before anything else reads it. They go into `process.env`,
 * where NextAuth reads them itself, and every later `env()` sees them. A value the
 * configuration would refuse throws a ConfigurationError and changes nothing.
 */
export function completeEnv(values: EnvCompletion): Env {
  const given = Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const completed = parseEnv({ ...process.env, ...Object.fromEntries(given) });
  for (const [name, value] of given) process.env[name] = value;
  cache.__accountLogsEnv = completed;
  return completed;
}
