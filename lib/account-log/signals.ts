import { sql, type SQL } from "drizzle-orm";
import { getDb, rowsOf, type Executor } from "@/db";
import {
  accountLogFailureHours,
  accountLogUsernames,
  accountSignInPlaces,
  users,
  type AccountLog,
  type AccountLogMetadata,
  type AccountLogResult,
} from "@/db/schema";
import type { RowFlags } from "./row-view";
import { idSpanOf } from "./selection";

/** A sign-in from an address or country the account has not used for this long is marked new. */
export const NEW_PLACE_DAYS = 90;
/** An address failing against this many distinct usernames within one clock hour is spraying. */
export const SPRAYING_MIN_USERNAMES = 10;
/** An account with this many failures within one clock hour has a burst. */
export const BURST_MIN_FAILURES = 10;
/** How far back "Needs attention" looks. */
export const ATTENTION_WINDOW_HOURS = 24;

/**
 * What counts as a failed sign-in for the signals (not malformed requests). The sealer
 * (migration 0014) names the same results for `account_log_failure_hours`.
 */
export const FAILED_SIGN_IN_RESULTS: AccountLogResult[] = [
  "login_failed_wrong_password",
  "login_failed_unknown_user",
  "login_failed_account_locked",
  "login_failed_rate_limited",
];

/**
 * Records where an account signed in from and says what was new: an address or a country not
 * seen for this account in the last 90 days, once the account has signed in from somewhere
 * before (its first sign-in has no history to differ from). Runs in the sign-in's transaction,
 * before its row is written, so the marks are part of the row (and of its hash).
 */
export async function noteSignInPlace(
  executor: Executor,
  userId: number,
  { ip, country }: { ip: string | null; country: string | undefined },
): Promise<AccountLogMetadata["signals"]> {
  const places = [
    ...(ip ? [{ kind: "ip" as const, value: ip }] : []),
    ...(country ? [{ kind: "country" as const, value: country }] : []),
  ];
  if (places.length === 0) return undefined;
  // Per kind: has the account signed in from any place of this kind before, and from this one
  // within the window? An account's very first address or country is not news.
  const known = rowsOf<{ kind: string; seen_before: boolean; recent: boolean }>(
    await executor.execute(sql`
      select p.kind,
        exists(select 1 from ${accountSignInPlaces} h where h.user_id = ${userId} and h.kind = p.kind) as seen_before,
        exists(select 1 from ${accountSignInPlaces} h where h.user_id = ${userId} and h.kind = p.kind and h.value = p.value
          and h.last_seen_at > now() - ${NEW_PLACE_DAYS}::int * interval '1 day') as recent
      from (values ${sql.join(places.map((p) => sql`(${p.kind}::text, ${p.value}::text)`), sql`, `)}) as p(kind, value)`),
  );
  const isNew = (kind: string) => known.some((row) => row.kind === kind && row.seen_before && !row.recent);
  await executor
    .insert(accountSignInPlaces)
    .values(places.map((place) => ({ userId, ...place, lastSeenAt: sql`now()` })))
    .onConflictDoUpdate({
      target: [accountSignInPlaces.userId, accountSignInPlaces.kind, accountSignInPlaces.value],
      set: { lastSeenAt: sql`now()` },
    });
  const signals = {
    ...(ip && isNew("ip") ? { newIp: true } : {}),
    ...(country && isNew("country") ? { newCountry: true } : {}),
  };
  return Object.keys(signals).length ? signals : undefined;
}

export type SprayingAddress = { ip: string; hour: Date; usernames: number; failures: number };
export type FailureBurst = { username: string; hour: Date; failures: number };
export type NewPlaceSignIn = { id: number; username: string; at: Date; ip: string | null; country: string | null; newIp: boolean; newCountry: boolean };
export type Attention = {
  since: Date;
  spraying: SprayingAddress[];
  bursts: FailureBurst[];
  newPlaces: NewPlaceSignIn[];
  newPlacesTotal: number;
};

const SHOWN = 10;
const HOUR_MS = 3_600_000;

/** The window's start, and its first clock hour: spraying and bursts count every hour the window touches, whole. */
export function attentionWindow(now: Date): { since: Date; firstHour: Date } {
  const since = new Date(now.getTime() - ATTENTION_WINDOW_HOURS * HOUR_MS);
  return { since, firstHour: new Date(Math.floor(since.getTime() / HOUR_MS) * HOUR_MS) };
}

/**
 * What deserves a look in the last 24 hours: addresses spraying passwords across usernames,
 * accounts with bursts of failures (both from the failure counters per hour, username and
 * address), and sign-ins from new places (a small index within the window's ID span).
 */
export async function findAttention(now = new Date(), executor?: Executor): Promise<Attention> {
  const db = executor ?? (await getDb());
  const { since, firstHour } = attentionWindow(now);
  const hours = sql`f.hour >= ${firstHour.toISOString()}::timestamptz`;
  // Only the new places need the window's ID span: the counters' statement does not wait for it.
  // Each part is one statement returning JSON: a round trip costs the page more than the reads.
  const newPlacesInWindow = async () => {
    const span = await idSpanOf(db, { from: since });
    const inWindow = span ? sql`l.id between ${span.lo} and ${span.hi} and l.occurred_at >= ${since.toISOString()}::timestamptz` : sql`false`;
    return db.execute(sql`
      with places as materialized (
        select l.id, l.username, l.occurred_at, l.ip, l.metadata from account_logs l
        where (l.metadata->'signals') is not null and ${inWindow})
      select (select count(*) from places) as total,
        (select json_agg(p order by p.id desc) from (
          select id, username, occurred_at as at, host(ip) as ip, metadata->'location'->>'country' as country,
            coalesce((metadata->'signals'->>'newIp')::boolean, false) as "newIp",
            coalesce((metadata->'signals'->>'newCountry')::boolean, false) as "newCountry"
          from places order by id desc limit ${SHOWN}) p) as shown`);
  };
  const counters = db.execute(sql`
    select
      (select json_agg(s order by s.usernames desc, s.hour desc) from (
        select host(s.ip) as ip, s.hour, s.usernames, s.failures from ${sprayingHours(hours)} s
        order by s.usernames desc, s.hour desc limit ${SHOWN}) s) as spraying,
      (select json_agg(b order by b.failures desc, b.hour desc) from (
        select u.username_normalized as username, b.hour, b.failures from ${burstHours(hours)} b
        join ${accountLogUsernames} u on u.id = b.username_key
        order by b.failures desc, b.hour desc limit ${SHOWN}) b) as bursts`);
  const [[signals], [places]] = await Promise.all([counters.then((r) => rowsOf<Record<"spraying" | "bursts", unknown>>(r)), newPlacesInWindow().then((r) => rowsOf<{ total: string | number; shown: unknown }>(r))]);
  type Spraying = { ip: string; hour: string; usernames: number | string; failures: number | string };
  type Burst = { username: string; hour: string; failures: number | string };
  type Place = { id: number | string; username: string; at: string; ip: string | null; country: string | null; newIp: boolean; newCountry: boolean };
  return {
    since,
    spraying: jsonList<Spraying>(signals?.spraying).map((row) => ({
      ip: row.ip,
      hour: new Date(row.hour),
      usernames: Number(row.usernames),
      failures: Number(row.failures),
    })),
    bursts: jsonList<Burst>(signals?.bursts).map((row) => ({ username: row.username, hour: new Date(row.hour), failures: Number(row.failures) })),
    newPlaces: jsonList<Place>(places?.shown).map((row) => ({ ...row, id: Number(row.id), at: new Date(row.at) })),
    newPlacesTotal: Number(places?.total ?? 0),
  };
}

/** A `json_agg` column as a list: null for none; text where the driver does not parse JSON. */
const jsonList = <T,>(value: unknown): T[] => (value == null ? [] : ((typeof value === "string" ? JSON.parse(value) : value) as T[]));

/**
 * Password spraying, per address and clock hour, from the failure counters (alias `f`) the
 * condition keeps: failures against at least SPRAYING_MIN_USERNAMES usernames. Needs attention
 * and the table's marks read the same definition.
 */
export const sprayingHours = (where: SQL) => sql`(
  select f.ip, f.hour, count(*) as usernames, sum(f.failures) as failures from ${accountLogFailureHours} f
  where ${where} and f.ip is not null
  group by f.ip, f.hour having count(*) >= ${SPRAYING_MIN_USERNAMES})`;

/** Failure bursts, per username and clock hour: at least BURST_MIN_FAILURES failures. */
const burstHours = (where: SQL) => sql`(
  select f.username_key, f.hour, sum(f.failures) as failures from ${accountLogFailureHours} f
  where ${where}
  group by f.username_key, f.hour having sum(f.failures) >= ${BURST_MIN_FAILURES})`;

const listOf = (values: readonly (string | number)[]) => sql.join(values.map((value) => sql`${value}`), sql`, `);
const unique = <T>(values: T[]) => [...new Set(values)];

/**
 * What the log table marks on one page of rows (`logRowView`), read for those rows alone so the
 * table never waits for the panels: which of their accounts are locked now, which of their
 * failure rows' addresses sprayed passwords, and which of their usernames had a failure burst,
 * by the same counters, thresholds and clock hours as "Needs attention" (`findAttention`), but
 * with no cut at its first ten. The counters are read for the window's hours only, filtered to
 * the page's addresses and usernames.
 */
export async function findRowFlags(rows: readonly AccountLog[], now = new Date(), executor?: Executor): Promise<RowFlags> {
  const db = executor ?? (await getDb());
  const userIds = unique(rows.flatMap((row) => (row.userId === null ? [] : [row.userId])));
  // Only a failed sign-in is marked "Password spraying".
  const ips = unique(rows.flatMap((row) => (row.ip && row.result.startsWith("login_failed") ? [row.ip] : [])));
  const usernameOfKey = new Map(rows.map((row) => [row.usernameKey, row.usernameNormalized]));
  const hours = sql`f.hour >= ${attentionWindow(now).firstHour.toISOString()}::timestamptz`;
  if (!userIds.length && !ips.length && !usernameOfKey.size) return { lockedUserIds: new Set(), sprayingIps: new Set(), burstUsernames: new Set() };
  // One statement for the three marks: a round trip each would cost the page more than the reads.
  const none = sql`array[]::text[]`;
  const [flags] = rowsOf<{ locked: (string | number)[]; spraying: string[]; bursts: (string | number)[] }>(
    await db.execute(sql`
      select
        ${userIds.length ? sql`array(select u.id from ${users} u where u.id in (${listOf(userIds)}) and u.locked_at is not null)` : none} as locked,
        ${ips.length
          ? sql`array(select distinct host(s.ip) from ${sprayingHours(sql`${hours} and f.ip in (${sql.join(ips.map((ip) => sql`${ip}::inet`), sql`, `)})`)} s)`
          : none} as spraying,
        ${usernameOfKey.size
          ? sql`array(select distinct b.username_key from ${burstHours(sql`${hours} and f.username_key in (${listOf([...usernameOfKey.keys()])})`)} b)`
          : none} as bursts`),
  );
  const locked = flags?.locked ?? [];
  const spraying = flags?.spraying ?? [];
  const bursts = flags?.bursts ?? [];
  return {
    lockedUserIds: new Set(locked.map(Number)),
    sprayingIps: new Set(spraying),
    burstUsernames: new Set(bursts.flatMap((key) => usernameOfKey.get(Number(key)) ?? [])),
  };
}
