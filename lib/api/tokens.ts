import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, rowsOf, type Executor } from "@/db";
import { API_TOKEN_SCOPES, apiTokens, type ApiTokenScope, type AccountLogMetadata } from "@/db/schema";
import { appendAccountLog } from "@/lib/account-log/record";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";

/** `alog_` and 32 random bytes, base64url: recognisable in a leaked config, and unguessable. */
export const TOKEN_PREFIX = "alog_";
const TOKEN_PATTERN = /^alog_[A-Za-z0-9_-]{43}$/;
/** Characters of the token kept in clear, to tell tokens apart: the prefix and four more. */
const HINT_LENGTH = TOKEN_PREFIX.length + 4;
export const TOKEN_EXPIRY_DAYS_MAX = 3650;

export const tokenNameSchema = z
  .string({ error: "Give the token a name." })
  .trim()
  .min(1, "Give the token a name.")
  .max(100, "A token name has at most 100 characters.")
  .refine((name) => !/[\u0000-\u001f\u007f-\u009f]|\p{Cf}/u.test(name), "A token name cannot hold control or formatting characters.");

export const tokenScopesSchema = z
  .array(z.enum(API_TOKEN_SCOPES, { error: `Scopes are ${API_TOKEN_SCOPES.join(" and ")}.` }))
  .min(1, "Choose at least one scope.")
  .transform((scopes) => [...new Set(scopes)]);

export const expiryDaysSchema = z.coerce
  .number({ error: "Expiry is a number of days." })
  .int("Expiry is a whole number of days.")
  .min(1, "Expiry is at least 1 day.")
  .max(TOKEN_EXPIRY_DAYS_MAX, `Expiry is at most ${TOKEN_EXPIRY_DAYS_MAX} days.`)
  .optional();

export const tokenHash = (token: string) => createHash("sha256").update(token, "utf8").digest();

/** Who made or revoked a token: an admin on the page, or someone on the command line. */
export type TokenActor = { userId: number | null; username: string; via: "admin page" | "command line" };

export type ApiTokenSummary = {
  id: number;
  name: string;
  hint: string;
  scopes: ApiTokenScope[];
  createdAt: Date;
  createdBy: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
};

/** What the log names a token by: searching "api-token" finds every token's events. */
export const tokenLogName = (name: string) => `api-token:${name}`;

function tokenMetadata(token: { id: number; hint: string; scopes?: string[]; expiresAt?: Date | null }): AccountLogMetadata["apiToken"] {
  return {
    id: token.id,
    hint: token.hint,
    ...(token.scopes && { scopes: token.scopes }),
    ...(token.expiresAt !== undefined && { expiresAt: token.expiresAt?.toISOString() ?? null }),
  };
}

/**
 * Makes a token and writes `api_token_created` in one transaction. The token itself is returned
 * once and kept nowhere: only its SHA-256 is stored.
 */
export async function createApiToken(request: {
  actor: TokenActor;
  context: RequestContext;
  name: string;
  scopes: ApiTokenScope[];
  expiresInDays?: number;
}): Promise<{ token: string; summary: Pick<ApiTokenSummary, "id" | "name" | "hint" | "scopes" | "expiresAt"> }> {
  const name = tokenNameSchema.parse(request.name);
  const scopes = tokenScopesSchema.parse(request.scopes);
  const days = expiryDaysSchema.parse(request.expiresInDays);
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const hint = token.slice(0, HINT_LENGTH);
  const db = await getDb();
  return db.transaction(async (tx) => {
    // The columns the app may write, and no others (db/roles/app-role.sql): not the ID, not a revocation.
    const [row] = rowsOf<{ id: number; name: string; hint: string; scopes: string[]; expires_at: string | Date | null }>(
      await tx.execute(sql`
        insert into api_tokens (name, token_hash, hint, scopes, created_by, expires_at)
        values (${name}, ${tokenHash(token)}, ${hint}, ${sql`array[${sql.join(scopes.map((scope) => sql`${scope}`), sql`, `)}]::text[]`}, ${request.actor.userId},
          ${days === undefined ? null : sql`now() + ${days}::int * interval '1 day'`})
        returning id, name, hint, scopes, expires_at`),
    );
    const created = {
      id: Number(row!.id),
      name: row!.name,
      hint: row!.hint,
      scopes: row!.scopes as ApiTokenScope[],
      expiresAt: row!.expires_at === null ? null : new Date(row!.expires_at),
    };
    await appendAccountLog(tx, [
      {
        username: tokenLogName(name),
        // The subject is the token, not an account: the admin is the actor.
        userId: null,
        result: "api_token_created",
        ip: request.context.ip ?? null,
        metadata: { ...requestMetadata(request.context), actor: request.actor, apiToken: tokenMetadata(created) },
      },
    ]);
    return { token, summary: created };
  });
}

export type RevokeOutcome = { status: "revoked"; name: string } | { status: "already_revoked"; name: string } | { status: "not_found" };

/** Revokes a token at once, on every app instance, and writes `api_token_revoked`. */
export async function revokeApiToken(request: { actor: TokenActor; context: RequestContext; tokenId: number }): Promise<RevokeOutcome> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [token] = await tx.select().from(apiTokens).where(eq(apiTokens.id, request.tokenId)).for("update");
    if (!token) return { status: "not_found" };
    if (token.revokedAt) return { status: "already_revoked", name: token.name };
    await tx
      .update(apiTokens)
      .set({ revokedAt: sql`now()`, revokedBy: request.actor.userId })
      .where(and(eq(apiTokens.id, token.id), isNull(apiTokens.revokedAt)));
    await appendAccountLog(tx, [
      {
        username: tokenLogName(token.name),
        userId: null,
        result: "api_token_revoked",
        ip: request.context.ip ?? null,
        metadata: { ...requestMetadata(request.context), actor: request.actor, apiToken: tokenMetadata(token) },
      },
    ]);
    return { status: "revoked", name: token.name };
  });
}

/** Every token, newest first: live ones and those revoked or expired, for the record. */
export async function listApiTokens(executor?: Executor): Promise<ApiTokenSummary[]> {
  const db = executor ?? (await getDb());
  const rows = await db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      hint: apiTokens.hint,
      scopes: apiTokens.scopes,
      createdAt: apiTokens.createdAt,
      createdBy: sql<string | null>`(select username from users u where u.id = ${apiTokens.createdBy})`,
      expiresAt: apiTokens.expiresAt,
      revokedAt: apiTokens.revokedAt,
      lastUsedAt: apiTokens.lastUsedAt,
      lastUsedIp: sql<string | null>`host(${apiTokens.lastUsedIp})`,
    })
    .from(apiTokens)
    .orderBy(desc(apiTokens.id))
    .limit(500);
  return rows.map((row) => ({ ...row, scopes: row.scopes as ApiTokenScope[] }));
}

export type TokenCheck =
  | { status: "valid"; token: { id: number; name: string; hint: string; scopes: ApiTokenScope[] } }
  /** Not a token of this app, or one revoked or expired: the caller answers 401 either way. */
  | { status: "refused"; why: "unknown" | "revoked" | "expired"; token?: { id: number; name: string; hint: string } };

/**
 * The token a request presents, checked against the stored hashes: one index probe. A string
 * that is not shaped like a token is refused without a query.
 */
export async function checkApiToken(executor: Executor, presented: string): Promise<TokenCheck> {
  if (!TOKEN_PATTERN.test(presented)) return { status: "refused", why: "unknown" };
  const [row] = await executor
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      hint: apiTokens.hint,
      scopes: apiTokens.scopes,
      revoked: sql<boolean>`${apiTokens.revokedAt} is not null`,
      expired: sql<boolean>`coalesce(${apiTokens.expiresAt} <= now(), false)`,
    })
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, tokenHash(presented)));
  if (!row) return { status: "refused", why: "unknown" };
  const token = { id: row.id, name: row.name, hint: row.hint };
  if (row.revoked) return { status: "refused", why: "revoked", token };
  if (row.expired) return { status: "refused", why: "expired", token };
  return { status: "valid", token: { ...token, scopes: row.scopes as ApiTokenScope[] } };
}

/** Records a token's use: at most one write a minute per token, whatever the request rate. */
export async function markTokenUsed(executor: Executor, tokenId: number, ip: string | null): Promise<void> {
  await executor
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()`, lastUsedIp: ip })
    .where(and(eq(apiTokens.id, tokenId), sql`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < now() - interval '1 minute')`));
}
