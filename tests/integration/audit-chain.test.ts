import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { configuredTarget, copyOutOf, getDb, rowsOf, type Database } from "@/db";
import { parallelScanner } from "@/lib/audit/parallel-verify";
import { appendAccountLog, type AccountLogEntry } from "@/lib/account-log/record";
import { canonicalEncoding, jsonbText } from "@/lib/audit/canonical";
import { chainCopyQuery, scanChain } from "@/lib/audit/chain-scan";
import { sealPending } from "@/lib/audit/sealer";
import { readChainRows, recordVerification, verifyChain } from "@/lib/audit/verify";
import { asSuperuser, DATABASE_KINDS, useFreshDatabase } from "../support/databases";

const HOSTILE_USERNAMES = [
  "plain",
  'quote " and \\ backslash',
  "line\r\nbreak\ttab\u0001control",
  "\u202Eright-to-left",
  "émoji 👩‍💻 and 中文",
  "=cmd|' /C calc'!A0",
];

function entry(username: string, extra: Partial<AccountLogEntry> = {}): AccountLogEntry {
  return { username, result: "login_failed_wrong_password", ip: "198.51.100.7", ...extra };
}

/** Writes rows as the app does, one by one, and seals them. */
async function seed(db: Database, count: number) {
  for (let i = 0; i < count; i++) {
    await appendAccountLog(db, [entry(HOSTILE_USERNAMES[i % HOSTILE_USERNAMES.length]!, { ip: i % 3 === 0 ? "2001:db8::1" : null })]);
  }
  await sealPending(db);
}

/** The canonical text of the row aliased `l`, as the sealer hashes it. */
const CANONICAL_OF_L = sql.raw(
  "account_log_canonical(l.id, l.occurred_at, l.username, l.username_truncated, l.username_normalized, l.user_id, l.result, l.ip, l.metadata)",
);

/** Empties the log as a superuser could, and starts the chain over: a log with no history. */
const EMPTY_LOG = [
  sql`delete from account_logs`,
  sql`delete from account_log_verifications`,
  sql`update account_log_seal_state set seq = 0, head_hash = decode(repeat('00', 32), 'hex')`,
];

/**
 * Verifies by the row-by-row walk and, where the database streams COPY (PostgreSQL), by the fast
 * first pass too: both must give the same answer, break and count included.
 */
async function verify(db: Database) {
  const walked = await verifyChain(db);
  const copy = copyOutOf();
  const target = configuredTarget();
  if (copy && target.kind === "postgres") {
    const scanned = await verifyChain(db, undefined, { copy });
    expect({ ...scanned, startedAt: undefined }).toEqual({ ...walked, startedAt: undefined });
    // In parallel ranges (three threads, small ranges): the same answer, break and count included.
    const scanner = parallelScanner(target.url, db, { threads: 3, minRowsPerRange: 2 });
    const parallel = await verifyChain(db, undefined, { copy, scanner });
    expect({ ...parallel, startedAt: undefined }).toEqual({ ...walked, startedAt: undefined });
  }
  return walked;
}

const SWAPPED_COLUMNS = sql.raw(
  "(occurred_at, username, username_truncated, username_normalized, user_id, result, ip, metadata, prev_hash, hash)",
);
const swapSource = (alias: string) =>
  sql.raw(`(${["occurred_at", "username", "username_truncated", "username_normalized", "user_id", "result", "ip", "metadata", "prev_hash", "hash"].map((c) => `${alias}.${c}`).join(", ")})`);

describe.each(DATABASE_KINDS)("the hash chain on %s", (kind) => {
  useFreshDatabase(kind);

  it("links every row to the one before, and verifies", async () => {
    const db = await getDb();
    await seed(db, 12);
    await appendAccountLog(db, [entry("pair"), entry("pair", { result: "account_locked" })]);
    await sealPending(db);
    const rows = await readChainRows(db, 0, Number.MAX_SAFE_INTEGER, 100);
    expect(rows).toHaveLength(14);
    expect(rows[0]!.prevHash).toBe("0".repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    const outcome = await verify(db);
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(outcome).toMatchObject({ intact: true, rowsVerified: 14, head: { seq: 14, id: rows.at(-1)!.id, hash: rows.at(-1)!.hash } });
  });

  it("the fast pass hashes hostile rows as the database did: no row falls back to the walk", async () => {
    const db = await getDb();
    const copy = copyOutOf();
    if (!copy) return; // The embedded database has no streaming COPY: the walk is its only pass.
    await seed(db, 24);
    await appendAccountLog(db, [
      entry("times", { metadata: { summary: "ünïcödé \u0007 \"quoted\" \\ back", nested: { "": 1, "é": [true, null, -5] } } as never }),
      entry("no-address", { ip: null, userId: null }),
    ]);
    await sealPending(db);
    // Times before 2000 (negative in COPY's binary form) and with no microseconds.
    await asSuperuser(db, sql`update account_logs set occurred_at = timestamptz '1999-12-31 23:59:59+00' where username = 'times'`);
    await asSuperuser(db, sql`update account_logs set occurred_at = timestamptz '2026-11-30 12:00:00+00' where username = 'no-address'`);
    await asSuperuser(
      db,
      sql`update account_logs l set hash = sha256(l.prev_hash || convert_to(${CANONICAL_OF_L}, 'UTF8')) where l.username in ('times', 'no-address')`,
    );
    // The two edited rows were rehashed in place, so only their successors' links changed:
    // rebuild the chain after them as the sealer would.
    await asSuperuser(db, sql`do $$ declare l account_logs; previous bytea; begin
      for l in select * from account_logs order by seq loop
        if previous is not null and l.prev_hash <> previous then
          update account_logs set prev_hash = previous, hash = sha256(previous || convert_to(${CANONICAL_OF_L}, 'UTF8')) where id = l.id;
          select hash into previous from account_logs where id = l.id;
        else previous := l.hash; end if;
      end loop; end $$`);
    const [{ n }] = rowsOf<{ n: number | string }>(await db.execute(sql`select count(*) as n from account_logs`)) as [{ n: number | string }];
    const stream = await copy(chainCopyQuery(0, Number.MAX_SAFE_INTEGER));
    try {
      const scan = await scanChain(stream.chunks, Buffer.alloc(32));
      expect(scan.firstBad).toBeUndefined();
      expect(scan.rows).toBe(Number(n));
    } finally {
      await stream.close();
    }
  });

  it("encodes rows in code exactly as the database does", async () => {
    const db = await getDb();
    const metadata = {
      summary: "Chrome 131 · Windows 11",
      b: { zz: 1, a: [true, null, "x\"y"] },
      "€": "multi-byte key",
      ab: "two",
      ä: "two bytes, one character",
      failedAttempts: 6,
    };
    await appendAccountLog(db, [entry("encoding", { metadata: metadata as never, userId: null })]);
    await sealPending(db);
    const stored = rowsOf<{ canonical: string; metadata: string }>(
      await db.execute(sql`select ${CANONICAL_OF_L} as canonical, metadata::text as metadata from account_logs l order by seq desc limit 1`),
    )[0]!;
    expect(jsonbText(JSON.parse(stored.metadata))).toBe(stored.metadata);
    const [row] = await readChainRows(db, 0, Number.MAX_SAFE_INTEGER, 1000).then((all) => all.slice(-1));
    expect(canonicalEncoding(row!)).toBe(stored.canonical);
    expect(canonicalEncoding({ ...row!, metadata: JSON.parse(row!.metadata as string) })).toBe(stored.canonical);
  });
});

describe.each(DATABASE_KINDS)("verify finds the first break on %s", (kind) => {
  useFreshDatabase(kind);

  /** An empty log and no past verifications, then 8 rows with an ID left unused after the 4th. */
  async function freshLog(db: Database) {
    await asSuperuser(db, ...EMPTY_LOG);
    await seed(db, 4);
    await db.transaction(async (tx) => {
      await appendAccountLog(tx, [entry("rolled back")]);
      tx.rollback();
    }).catch(() => {});
    await seed(db, 4);
    const rows = await readChainRows(db, 0, Number.MAX_SAFE_INTEGER, 100);
    expect(rows).toHaveLength(8);
    expect((await verify(db)).intact).toBe(true);
    return rows;
  }

  it("an edited row", async () => {
    const db = await getDb();
    const rows = await freshLog(db);
    await asSuperuser(db, sql`update account_logs set result = 'login_successful' where id = ${rows[3]!.id}`);
    expect(await verify(db)).toMatchObject({ intact: false, broken: { id: rows[3]!.id, kind: "edited" } });
  });

  it("a removed row", async () => {
    const db = await getDb();
    const rows = await freshLog(db);
    await asSuperuser(db, sql`delete from account_logs where id = ${rows[5]!.id}`);
    expect(await verify(db)).toMatchObject({ intact: false, broken: { id: rows[6]!.id, kind: "removed" } });
  });

  it("two swapped rows", async () => {
    const db = await getDb();
    const rows = await freshLog(db);
    const [a, b] = [rows[1]!.id, rows[2]!.id];
    await asSuperuser(
      db,
      sql`create temp table swap_source on commit drop as select * from account_logs where id in (${a}, ${b})`,
      // Frees a's prev_hash first: it must stay unique at every row.
      sql`update account_logs set prev_hash = sha256(prev_hash) where id = ${a}`,
      sql`update account_logs t set ${SWAPPED_COLUMNS} = ${swapSource("s")} from swap_source s where t.id = ${b} and s.id = ${a}`,
      sql`update account_logs t set ${SWAPPED_COLUMNS} = ${swapSource("s")} from swap_source s where t.id = ${a} and s.id = ${b}`,
    );
    expect(await verify(db)).toMatchObject({ intact: false, broken: { id: a, kind: "reordered" } });
  });

  it("a break far into a long log: the fast pass finds it, the walk around it names it", async () => {
    const db = await getDb();
    await asSuperuser(db, ...EMPTY_LOG);
    // More rows than the walk keeps to compare a broken link with, so it starts from a row the
    // fast pass verified rather than from the first.
    for (let i = 0; i < 11; i++) await appendAccountLog(db, Array.from({ length: 1_000 }, (_, j) => entry(HOSTILE_USERNAMES[j % 6]!, { ip: j % 2 ? "2001:db8::7" : "203.0.113.9" })));
    await sealPending(db);
    const [edited, removed, next] = rowsOf<{ id: number | string; username: string }>(
      await db.execute(sql`select id, username from account_logs order by seq offset 10500 limit 3`),
    );
    expect((await verify(db)).rowsVerified).toBe(11_000);
    const target = configuredTarget();
    // The parallel fast pass itself, not the single pass it falls back to: ranges over threads.
    const scanner = target.kind === "postgres" ? parallelScanner(target.url, db, { threads: 3, minRowsPerRange: 1_000 }) : undefined;
    const head = { seq: 11_000, id: 0, hash: "" };
    const genesis = { seq: 0, id: 0, hash: "0".repeat(64) };
    if (scanner) expect(await scanner(genesis, head, () => {})).toMatchObject({ rows: 11_000, firstBad: undefined, last: { seq: 11_000 } });
    await asSuperuser(db, sql`update account_logs set username = 'changed' where id = ${edited!.id}`);
    if (scanner) expect(await scanner(genesis, head, () => {})).toMatchObject({ rows: 10_500, firstBad: { id: Number(edited!.id), seq: 10_501 } });
    expect(await verify(db)).toMatchObject({ intact: false, rowsVerified: 10_500, broken: { id: Number(edited!.id), kind: "edited" } });
    await asSuperuser(
      db,
      sql`update account_logs set username = ${edited!.username} where id = ${edited!.id}`,
      sql`delete from account_logs where id = ${removed!.id}`,
    );
    expect(await verify(db)).toMatchObject({ intact: false, rowsVerified: 10_501, broken: { id: Number(next!.id), kind: "removed" } });
  }, 120_000);

  it("an inserted row, hashed onto the row before it, at that row's next position, with an unused ID", async () => {
    const db = await getDb();
    const rows = await freshLog(db);
    const unused = rows[3]!.id + 1;
    expect(rows[4]!.id).toBe(unused + 1);
    // Past the sealer, straight into the log, as only a superuser can: a row that hashes right
    // and links to the 4th, at the 5th's position (a partition's keys include the seal time).
    await asSuperuser(
      db,
      sql`insert into account_logs (id, occurred_at, username, username_truncated, username_normalized, username_key, user_id, result, ip,
          metadata, seq, sealed_at, prev_hash, hash)
        select ${unused}::bigint, l.occurred_at, 'forged', false, 'forged', l.username_key, null, 'login_successful', null, '{}', l.seq + 1,
          l.sealed_at + interval '1 microsecond', l.hash,
          sha256(l.hash || convert_to(account_log_canonical(${unused}::bigint, l.occurred_at, 'forged', false, 'forged', null, 'login_successful', null, '{}'), 'UTF8'))
        from account_logs l where l.id = ${rows[3]!.id}`,
    );
    expect(await verify(db)).toMatchObject({ intact: false, broken: { id: unused, kind: "inserted" } });
  });

  it("every row removed after a verification, and an empty log verified first", async () => {
    const db = await getDb();
    await asSuperuser(db, ...EMPTY_LOG);
    const empty = await verify(db);
    expect(empty).toMatchObject({ intact: true, rowsVerified: 0 });
    await recordVerification(db, empty);
    await seed(db, 3);
    const verified = await verify(db);
    expect(verified).toMatchObject({ intact: true, rowsVerified: 3 });
    await recordVerification(db, verified);
    await asSuperuser(db, sql`delete from account_logs`);
    expect(await verify(db)).toMatchObject({ intact: false, broken: { kind: "removed", detail: expect.stringContaining(`seq ${verified.head!.seq}`) } });
  });

  it("the newest rows removed after a verification", async () => {
    const db = await getDb();
    const rows = await freshLog(db);
    await recordVerification(db, await verify(db));
    await asSuperuser(db, sql`delete from account_logs where seq >= ${rows[6]!.seq}`);
    expect(await verify(db)).toMatchObject({
      intact: false,
      broken: { kind: "removed", detail: expect.stringContaining(`seq ${rows[7]!.seq}, the head verified`) },
    });
  });
});
