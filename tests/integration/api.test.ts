import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb, rowsOf, type Database } from "@/db";
import { filterConditions, readFilters } from "@/lib/account-log/filters";
import { appendAccountLog } from "@/lib/account-log/record";
import { answerLogRequest } from "@/lib/api/log-endpoint";
import { readApiPage } from "@/lib/api/log-page";
import { TOKEN_REFUSAL_LIMIT } from "@/lib/api/refusals";
import { checkApiToken, createApiToken, listApiTokens, revokeApiToken, type TokenActor } from "@/lib/api/tokens";
import { chainHash, canonicalEncoding } from "@/lib/audit/canonical";
import { sealPending } from "@/lib/audit/sealer";
import type { RequestContext } from "@/lib/client/request-context";
import { DATABASE_KINDS, useFreshDatabase } from "../support/databases";

const ADMIN: TokenActor = { userId: null, username: "api-test-admin", via: "command line" };
let addressCounter = 0;
/** A fresh documentation address per caller, so one test's refusals never throttle another's. */
const fromAddress = (): RequestContext => ({ ip: `198.51.100.${++addressCounter}`, userAgent: "api-tests/1.0", hints: {}, forwardedHeaders: undefined });

async function writeSealed(db: Database, rows: { username: string; result: "login_successful" | "login_failed_wrong_password" | "logout"; ip?: string }[]) {
  for (const row of rows) await appendAccountLog(db, [{ username: row.username, result: row.result, ip: row.ip ?? "192.0.2.10", metadata: { location: { country: "DE" } } }]);
  await sealPending(db);
}

async function ask(db: Database, query: string, token: string | null, context = fromAddress()) {
  const response = await answerLogRequest(db, {
    url: new URL(`http://app.test/api/v1/account-logs${query}`),
    authorization: token === null ? null : `Bearer ${token}`,
    context,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text && response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : undefined };
}

/** Follows `next_after` from 0 until a page is empty, and returns every row read. */
async function readAll(db: Database, params: Record<string, string>, { limit, scanRows }: { limit: number; scanRows: number }) {
  const { filters } = readFilters(params);
  const seen: number[] = [];
  let after = 0;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await readApiPage(db, { after, limit, filters, scanRows });
    expect(page.nextAfter).toBeGreaterThanOrEqual(after);
    seen.push(...page.rows.map((row) => row.seq));
    if (page.nextAfter === page.sealedThrough && page.rows.length < limit) return seen;
    // A page that moved nothing would loop for ever.
    expect(page.nextAfter).toBeGreaterThan(after);
    after = page.nextAfter;
  }
  throw new Error("the cursor never reached the head");
}

describe.each(DATABASE_KINDS)("the log API on %s", (kind) => {
  useFreshDatabase(kind);

  it("makes tokens shown once and stored hashed, logs their creation and revocation, and refuses them once revoked", async () => {
    const db = await getDb();
    const context = fromAddress();
    const { token, summary } = await createApiToken({ actor: ADMIN, context, name: "Splunk forwarder", scopes: ["logs:read"], expiresInDays: 30 });
    expect(token).toMatch(/^alog_[A-Za-z0-9_-]{43}$/);
    expect(summary.hint).toBe(token.slice(0, 9));
    // Nothing readable holds the token: not the table, not the log.
    const stored = rowsOf<{ dump: string }>(await db.execute(sql`select row_to_json(t)::text as dump from api_tokens t`));
    expect(stored.map((row) => row.dump).join("")).not.toContain(token.slice(9));
    await sealPending(db);
    const logged = rowsOf<{ result: string; username: string; metadata: string }>(
      await db.execute(sql`select result, username, metadata::text from account_logs where result like 'api_token%' order by seq`),
    );
    expect(logged.map((row) => [row.result, row.username])).toEqual([["api_token_created", "api-token:Splunk forwarder"]]);
    expect(logged[0]!.metadata).not.toContain(token.slice(9));
    expect((await checkApiToken(db, token)).status).toBe("valid");

    expect(await revokeApiToken({ actor: ADMIN, context, tokenId: summary.id })).toEqual({ status: "revoked", name: "Splunk forwarder" });
    expect(await revokeApiToken({ actor: ADMIN, context, tokenId: summary.id })).toEqual({ status: "already_revoked", name: "Splunk forwarder" });
    expect(await checkApiToken(db, token)).toMatchObject({ status: "refused", why: "revoked" });
    const listed = (await listApiTokens()).find((row) => row.id === summary.id)!;
    expect(listed.revokedAt).toBeInstanceOf(Date);
    const refused = await ask(db, "", token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="account-logs", error="invalid_token"');
    await sealPending(db);
    const revocations = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from account_logs where result = 'api_token_revoked'`));
    expect(revocations[0]!.n).toBe(1);
  });

  it("pages through every sealed row once, in seq order, whatever the page size", async () => {
    const db = await getDb();
    await writeSealed(
      db,
      Array.from({ length: 37 }, (_, i) => ({ username: `pager-${i % 5}`, result: i % 3 === 0 ? "login_failed_wrong_password" : "login_successful" })),
    );
    const all = rowsOf<{ seq: number }>(await db.execute(sql`select seq::int from account_logs order by seq`)).map((row) => row.seq);
    for (const limit of [1, 7, 100]) expect(await readAll(db, {}, { limit, scanRows: 10 })).toEqual(all);
  });

  it("applies every filter exactly as the page's conditions do, moving on by the rows read when few match", async () => {
    const db = await getDb();
    await writeSealed(db, [
      ...Array.from({ length: 30 }, (_, i) => ({ username: `filler-${i}`, result: "login_successful" as const })),
      { username: "Sparse.Target", result: "login_failed_wrong_password", ip: "203.0.113.9" },
      ...Array.from({ length: 30 }, (_, i) => ({ username: `filler-b-${i}`, result: "logout" as const })),
      { username: "sparse.target", result: "login_successful", ip: "203.0.113.9" },
    ]);
    const selections: Record<string, string>[] = [
      { q: "sparse.target" },
      { q: "filler", result: "logout" },
      { ip: "203.0.113.0/24" },
      { result: "login_failed_wrong_password", country: "DE" },
      { q: "nobody-has-this-name" },
      { q: "%_\\" },
    ];
    for (const params of selections) {
      const { filters, problems } = readFilters(params);
      expect(problems).toEqual([]);
      const expected = rowsOf<{ seq: number }>(
        await db.execute(sql`select seq::int from account_logs l where ${sql.join(filterConditions(filters), sql` and `)} order by seq`),
      ).map((row) => row.seq);
      // A scan of 8 rows a page: the sparse filters take many pages, each moving the cursor.
      for (const limit of [1, 3]) expect(await readAll(db, params, { limit, scanRows: 8 })).toEqual(expected);
    }
  });

  it("answers JSON with next_after and a Link to the next page, NDJSON, OCSF and ECS, each row verifiable", async () => {
    const db = await getDb();
    await writeSealed(db, [{ username: "format-user", result: "login_successful", ip: "192.0.2.77" }]);
    const { token } = await createApiToken({ actor: ADMIN, context: fromAddress(), name: "formats", scopes: ["logs:read"] });
    const first = await ask(db, "?limit=2&result=login_successful", token);
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_after).toBe(first.body.data[1].seq);
    expect(first.headers.get("link")).toBe(`</api/v1/account-logs?after=${first.body.next_after}&limit=2&result=login_successful>; rel="next"`);
    expect(Number(first.headers.get("x-sealed-through"))).toBeGreaterThanOrEqual(first.body.next_after);

    const [row] = (await ask(db, "?q=%22format-user%22", token)).body.data;
    expect(row).toMatchObject({ username: "format-user", result: "login_successful", ip: "192.0.2.77", country: "DE" });
    // A consumer can check the row against its hash with the documented encoding.
    expect(chainHash(row.prev_hash, canonicalEncoding({ ...row, occurredAt: row.time, usernameTruncated: row.username_truncated, usernameNormalized: row.username_normalized, userId: row.user_id }))).toBe(row.hash);

    const lines = (await ask(db, `?format=ndjson&after=${row.seq - 1}&limit=1`, token)).text.trim().split("\n");
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual([row.seq]);
    const [ocsf] = (await ask(db, `?format=ocsf&after=${row.seq - 1}&limit=1`, token)).body.data;
    expect(ocsf).toMatchObject({ class_uid: 3002, activity_id: 1, type_uid: 300201, status_id: 1, user: { name: "format-user" }, src_endpoint: { ip: "192.0.2.77" } });
    const [ecs] = (await ask(db, `?format=ecs&after=${row.seq - 1}&limit=1`, token)).body.data;
    expect(ecs).toMatchObject({ event: { category: ["authentication"], outcome: "success", action: "login_successful", sequence: row.seq }, user: { name: "format-user" } });
  });

  it("refuses with the right status: 401 without a token, 403 for the wrong scope, 400 naming a bad parameter, 429 per token", async () => {
    const db = await getDb();
    const missing = await ask(db, "", null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="account-logs"');
    const { token: metricsOnly } = await createApiToken({ actor: ADMIN, context: fromAddress(), name: "scraper", scopes: ["metrics:read"] });
    const forbidden = await ask(db, "", metricsOnly);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("www-authenticate")).toContain('error="insufficient_scope", scope="logs:read"');

    const { token } = await createApiToken({ actor: ADMIN, context: fromAddress(), name: "params", scopes: ["logs:read"] });
    for (const [query, named] of [
      ["?limit=0", "limit must be at least 1"],
      ["?limit=1001", "limit must be at most 1,000"],
      ["?after=-1", "after must be a whole number"],
      ["?after=1e3", "after must be a whole number"],
      ["?format=xml", "format must be one of"],
      ["?usrename=bob", 'unknown parameter "usrename"'],
      ["?after=1&after=2", "after may be given once"],
      ["?result=login_maybe", '"login_maybe" is not a result'],
      ["?ip=not-an-address", '"ip" must be an address such as 203.0.113.7'],
    ] as const) {
      const bad = await ask(db, query, token);
      expect(bad.status, query).toBe(400);
      expect(bad.body.error).toBe("invalid_parameter");
      expect(bad.body.detail, query).toContain(named);
    }
    // The bucket holds 20 and refills at 10 a second: 40 at once leave some refused.
    const burst = await Promise.all(Array.from({ length: 40 }, () => ask(db, "?limit=1", token)));
    const limited = burst.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(burst.map((answer) => answer.status).filter((status) => status !== 429 && status !== 200)).toEqual([]);
    expect(burst.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.body.error).toBe("rate_limited");
  });

  it("throttles an address that keeps presenting bad tokens without a log row each, yet serves a valid token from it", async () => {
    const db = await getDb();
    const attacker = fromAddress();
    await sealPending(db);
    const before = rowsOf<{ n: number }>(await db.execute(sql`select max(seq)::int as n from account_logs`))[0]!.n;
    const statuses: number[] = [];
    for (let i = 0; i < TOKEN_REFUSAL_LIMIT + 10; i++) statuses.push((await ask(db, "", `alog_${String(i).padStart(43, "x")}`, attacker)).status);
    expect(statuses.slice(0, TOKEN_REFUSAL_LIMIT).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(TOKEN_REFUSAL_LIMIT).every((status) => status === 429)).toBe(true);
    const throttled = await ask(db, "", `alog_${"y".repeat(43)}`, attacker);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toBe("too_many_refusals");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(60);
    // Another address in the same IPv6 /64 shares the count; a valid token is served from any of them.
    const v6 = (host: number): RequestContext => ({ ...attacker, ip: `2001:db8:1:2::${host}` });
    for (let i = 0; i < TOKEN_REFUSAL_LIMIT; i++) await ask(db, "", `alog_${"v".repeat(43)}`, v6(i + 1));
    expect((await ask(db, "", `alog_${"v".repeat(43)}`, v6(999))).status).toBe(429);
    expect((await ask(db, "", `alog_${"v".repeat(43)}`, { ...attacker, ip: "2001:db8:1:3::1" })).status).toBe(401);
    const { token, summary } = await createApiToken({ actor: ADMIN, context: fromAddress(), name: "shared egress", scopes: ["logs:read"] });
    expect((await ask(db, "?limit=1", token, attacker)).status).toBe(200);
    expect((await ask(db, "?limit=1", token, v6(7))).status).toBe(200);
    // A real token used after revocation is a row, once a window however often it is tried.
    await revokeApiToken({ actor: ADMIN, context: fromAddress(), tokenId: summary.id });
    for (let i = 0; i < 3; i++) expect((await ask(db, "", token)).status).toBe(401);
    await sealPending(db);
    const rows = rowsOf<{ result: string; username: string; metadata: string }>(
      await db.execute(sql`select result, username, metadata::text from account_logs where seq > ${before} and result = 'api_token_refused' order by seq`),
    );
    expect(rows.map((row) => row.username)).toEqual(["api-token:shared egress"]);
    expect(JSON.parse(rows[0]!.metadata).apiToken).toEqual({ id: summary.id, hint: token.slice(0, 9), refused: "revoked" });
    // Not even the owner may bring a revoked token back, widen or delete it.
    for (const change of [
      sql`update api_tokens set revoked_at = null where id = ${summary.id}`,
      sql`update api_tokens set scopes = array['logs:read', 'metrics:read'] where id = ${summary.id}`,
      sql`delete from api_tokens where id = ${summary.id}`,
    ]) {
      await expect(db.execute(change)).rejects.toThrow();
    }
  });
});
