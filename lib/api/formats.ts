import type { AccountLogMetadata, AccountLogResult } from "@/db/schema";
import type { ChainRow } from "@/lib/audit/verify";

export const API_FORMATS = ["json", "ndjson", "ocsf", "ecs"] as const;
export type ApiFormat = (typeof API_FORMATS)[number];

/** A log row as the API gives it: the page's columns, the parsed client, and what verifying the chain needs. */
export type ApiRow = {
  id: number;
  seq: number;
  time: string;
  username: string;
  result: AccountLogResult;
  ip: string | null;
  country: string | null;
  browser: { name?: string; version?: string } | null;
  os: { name?: string; version?: string } | null;
  device: { type?: string; vendor?: string; model?: string } | null;
  /** The metadata as recorded; printed as PostgreSQL prints jsonb, it is the hashed text (docs/integrations.md). */
  metadata: AccountLogMetadata;
  username_truncated: boolean;
  username_normalized: string;
  user_id: number | null;
  prev_hash: string;
  hash: string;
};

export function apiRow(row: ChainRow): ApiRow {
  const metadata = JSON.parse(row.metadata as string) as AccountLogMetadata;
  return {
    id: row.id,
    seq: row.seq,
    time: row.occurredAt,
    username: row.username,
    result: row.result as AccountLogResult,
    ip: row.ip,
    country: metadata.location?.country || null,
    browser: metadata.browser ?? null,
    os: metadata.os ?? null,
    device: metadata.device ?? null,
    metadata,
    username_truncated: row.usernameTruncated,
    username_normalized: row.usernameNormalized,
    user_id: row.userId === null ? null : Number(row.userId),
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

const PRODUCT = { name: "Account Logs", vendor_name: "Account Logs" };
const OCSF_VERSION = "1.1.0";
const ECS_VERSION = "8.11.0";

type OcsfClass = { class_uid: number; class_name: string; category_uid: number; category_name: string; activity_id: number; activity_name: string };
const authentication = (activity_id: 1 | 2 | 99, activity_name: string): OcsfClass => ({
  class_uid: 3002,
  class_name: "Authentication",
  category_uid: 3,
  category_name: "Identity & Access Management",
  activity_id,
  activity_name,
});
const accountChange = (activity_id: number, activity_name: string): OcsfClass => ({
  class_uid: 3001,
  class_name: "Account Change",
  category_uid: 3,
  category_name: "Identity & Access Management",
  activity_id,
  activity_name,
});
const entityManagement = (activity_id: number, activity_name: string): OcsfClass => ({
  class_uid: 3004,
  class_name: "Entity Management",
  category_uid: 3,
  category_name: "Identity & Access Management",
  activity_id,
  activity_name,
});
const apiActivity = (activity_id: number, activity_name: string): OcsfClass => ({
  class_uid: 6003,
  class_name: "API Activity",
  category_uid: 6,
  category_name: "Application Activity",
  activity_id,
  activity_name,
});

/** Each result's OCSF class and activity (the table in docs/integrations.md). */
export const OCSF_CLASSES: Record<AccountLogResult, OcsfClass> = {
  login_successful: authentication(1, "Logon"),
  login_failed_wrong_password: authentication(1, "Logon"),
  login_failed_unknown_user: authentication(1, "Logon"),
  login_failed_account_locked: authentication(1, "Logon"),
  login_failed_invalid_request: authentication(1, "Logon"),
  login_failed_rate_limited: authentication(1, "Logon"),
  api_token_refused: authentication(1, "Logon"),
  logout: authentication(2, "Logoff"),
  session_revoked: authentication(2, "Logoff"),
  account_locked: accountChange(9, "Lock"),
  account_unlocked: accountChange(99, "Unlock"),
  user_created: accountChange(1, "Create"),
  password_reset: accountChange(4, "Password Reset"),
  role_changed: accountChange(99, "Role Change"),
  api_token_created: accountChange(1, "Create"),
  api_token_revoked: accountChange(5, "Disable"),
  stream_created: entityManagement(1, "Create"),
  stream_changed: entityManagement(3, "Update"),
  stream_removed: entityManagement(4, "Delete"),
  stream_replayed: entityManagement(99, "Replay"),
  alert_rule_created: entityManagement(1, "Create"),
  alert_rule_changed: entityManagement(3, "Update"),
  alert_rule_removed: entityManagement(4, "Delete"),
  logs_retained: entityManagement(4, "Delete"),
  logs_exported: apiActivity(2, "Read"),
  access_denied: apiActivity(2, "Read"),
};

/** Whether the event succeeded: a refusal or a failed sign-in is a failure; the rest did what it says. */
export function outcomeOf(result: AccountLogResult): "success" | "failure" {
  return result.startsWith("login_failed") || result === "access_denied" || result === "api_token_refused" ? "failure" : "success";
}

/** OCSF severity: refusals of a locked account and locks are Medium, other failures Low, the rest Informational. */
function severityOf(result: AccountLogResult): { severity_id: number; severity: string } {
  if (result === "account_locked" || result === "login_failed_account_locked") return { severity_id: 3, severity: "Medium" };
  if (outcomeOf(result) === "failure") return { severity_id: 2, severity: "Low" };
  return { severity_id: 1, severity: "Informational" };
}

const label = (part: { name?: string; version?: string } | null) => (part ? [part.name, part.version].filter(Boolean).join(" ") : undefined);

/** An OCSF 1.1 event: Authentication (3002) for sign-ins and sign-outs, Account Change (3001) and API Activity (6003) for the rest. */
export function ocsfEvent(row: ApiRow): Record<string, unknown> {
  const kind = OCSF_CLASSES[row.result];
  const success = outcomeOf(row.result) === "success";
  const actor = row.metadata.actor;
  const apiActivity = kind.class_uid === 6003;
  // API Activity has no `user`: the one who asked is its actor, and `api` says what was asked.
  const subject = { name: row.username, ...(row.user_id !== null && { uid: String(row.user_id) }) };
  return {
    ...kind,
    type_uid: kind.class_uid * 100 + kind.activity_id,
    type_name: `${kind.class_name}: ${kind.activity_name}`,
    time: Date.parse(row.time),
    ...severityOf(row.result),
    status_id: success ? 1 : 2,
    status: success ? "Success" : "Failure",
    status_detail: row.result,
    message: row.result,
    ...(apiActivity
      ? {
          actor: { user: subject },
          api: { operation: row.result === "logs_exported" ? "export account log" : (row.metadata.resource ?? "admin page"), service: { name: PRODUCT.name } },
        }
      : {
          user: subject,
          ...(actor && { actor: { user: { name: actor.username, ...(actor.userId !== null && { uid: String(actor.userId) }) } } }),
        }),
    ...(row.ip && { src_endpoint: { ip: row.ip, ...(row.country && { location: { country: row.country } }) } }),
    ...(row.metadata.userAgent && { http_request: { user_agent: row.metadata.userAgent.value } }),
    ...(kind.class_uid === 3002 && { is_remote: true, logon_type_id: 3, logon_type: "Network" }),
    ...((row.browser || row.os) && {
      device: { type_id: 0, ...(row.os && { os: { name: label(row.os) ?? "", type_id: 0 } }) },
    }),
    metadata: { version: OCSF_VERSION, product: PRODUCT, uid: String(row.id), sequence: row.seq, log_name: "account_logs" },
    unmapped: { seq: row.seq, hash: row.hash, prev_hash: row.prev_hash, ...(row.browser && { browser: label(row.browser) }) },
  };
}

/** ECS categories and types per result: sign-ins are authentication, admin events iam. */
function ecsKind(result: AccountLogResult): { category: string[]; type: string[] } {
  if (result.startsWith("login_") || result === "api_token_refused") return { category: ["authentication"], type: ["start"] };
  if (result === "logout" || result === "session_revoked") return { category: ["authentication", "session"], type: ["end"] };
  if (result === "user_created") return { category: ["iam"], type: ["user", "creation"] };
  // A token is a credential, not a user.
  if (result === "api_token_created") return { category: ["iam"], type: ["creation"] };
  if (result === "api_token_revoked") return { category: ["iam"], type: ["deletion"] };
  if (result === "access_denied" || result === "logs_exported") return { category: ["web"], type: ["access"] };
  if (result === "logs_retained") return { category: ["database"], type: ["deletion"] };
  if (result.startsWith("stream_") || result.startsWith("alert_rule_")) {
    return { category: ["configuration"], type: [result.endsWith("_created") ? "creation" : result.endsWith("_removed") ? "deletion" : "change"] };
  }
  return { category: ["iam"], type: ["user", "change"] };
}

/** An Elastic Common Schema document. */
export function ecsDocument(row: ApiRow): Record<string, unknown> {
  const ua = row.metadata.userAgent?.value;
  return {
    "@timestamp": row.time,
    ecs: { version: ECS_VERSION },
    event: {
      kind: "event",
      ...ecsKind(row.result),
      action: row.result,
      outcome: outcomeOf(row.result),
      id: String(row.id),
      sequence: row.seq,
      dataset: "account_logs.log",
      provider: "account-logs",
    },
    user: { name: row.username, ...(row.user_id !== null && { id: String(row.user_id) }) },
    ...(row.ip && { source: { ip: row.ip, ...(row.country && { geo: { country_iso_code: row.country } }) } }),
    ...((ua || row.browser || row.os || row.device) && {
      user_agent: {
        ...(ua && { original: ua }),
        ...(row.browser?.name && { name: row.browser.name }),
        ...(row.browser?.version && { version: row.browser.version }),
        ...(row.os && { os: { ...(row.os.name && { name: row.os.name }), ...(row.os.version && { version: row.os.version }) } }),
        ...((row.device?.model ?? row.device?.type) && { device: { name: (row.device.model ?? row.device.type)! } }),
      },
    }),
    related: { user: [row.username], ...(row.ip && { ip: [row.ip] }) },
    labels: { seq: String(row.seq), hash: row.hash, prev_hash: row.prev_hash },
  };
}

/** CEF severity, 0–10: a lock is High, a refused locked account Medium, other failures Low. */
function cefSeverity(result: AccountLogResult): number {
  if (result === "account_locked") return 7;
  if (result === "login_failed_account_locked") return 5;
  return outcomeOf(result) === "failure" ? 3 : 1;
}

/** CEF header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks. */
const cefHeader = (value: string) => value.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");
const cefValue = (value: string) => value.replace(/\\/g, "\\\\").replace(/=/g, "\\=").replace(/\r/g, "\\r").replace(/\n/g, "\\n");

/**
 * A CEF (ArcSight Common Event Format) line: the result is the signature ID and the name; the
 * extension carries the time, user, source address (`src`, or `c6a2` for IPv6), outcome, and
 * the row's ID, seq and hashes in custom fields, labelled (docs/integrations.md).
 */
export function cefLine(row: ApiRow): string {
  const ua = row.metadata.userAgent?.value;
  const actor = row.metadata.actor;
  const extension: [string, string | number | undefined][] = [
    ["rt", Date.parse(row.time)],
    // An admin event's actor is its source user, and the account acted on its destination user.
    ...(actor
      ? ([["suser", actor.username], ["suid", actor.userId ?? undefined], ["duser", row.username], ["duid", row.user_id ?? undefined]] as [string, string | number | undefined][])
      : ([["suser", row.username], ["suid", row.user_id ?? undefined]] as [string, string | number | undefined][])),
    ...(row.ip && row.ip.includes(":") ? ([["c6a2", row.ip], ["c6a2Label", "Source IPv6 Address"]] as [string, string][]) : ([["src", row.ip ?? undefined]] as [string, string | undefined][])),
    ["outcome", outcomeOf(row.result)],
    ["cat", OCSF_CLASSES[row.result].class_name],
    ["act", row.result],
    ["externalId", row.id],
    ["cn1", row.seq],
    ["cn1Label", "seq"],
    ["cs1", row.country ?? undefined],
    ["cs1Label", row.country ? "country" : undefined],
    ["cs2", row.hash],
    ["cs2Label", "hash"],
    ["cs3", row.prev_hash],
    ["cs3Label", "prev_hash"],
    ["requestClientApplication", ua],
  ];
  const fields = extension.filter(([, value]) => value !== undefined && value !== "").map(([key, value]) => `${key}=${cefValue(String(value))}`);
  const name = OCSF_CLASSES[row.result];
  return `CEF:0|${cefHeader(PRODUCT.vendor_name)}|${cefHeader(PRODUCT.name)}|1|${cefHeader(row.result)}|${cefHeader(`${name.class_name}: ${name.activity_name}`)}|${cefSeverity(row.result)}|${fields.join(" ")}`;
}

export function formatRow(format: ApiFormat, row: ApiRow): unknown {
  if (format === "ocsf") return ocsfEvent(row);
  if (format === "ecs") return ecsDocument(row);
  return row;
}
