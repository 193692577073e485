import type { AccountLogResult } from "@/db/schema";

const TONES: Record<AccountLogResult, string> = {
  login_successful: "bg-green-100 text-green-900 ring-green-300",
  login_failed_wrong_password: "bg-amber-100 text-amber-900 ring-amber-300",
  login_failed_unknown_user: "bg-amber-100 text-amber-900 ring-amber-300",
  login_failed_invalid_request: "bg-amber-100 text-amber-900 ring-amber-300",
  login_failed_rate_limited: "bg-orange-100 text-orange-900 ring-orange-300",
  login_failed_account_locked: "bg-red-100 text-red-900 ring-red-300",
  account_locked: "bg-red-200 text-red-950 ring-red-400",
  account_unlocked: "bg-blue-100 text-blue-900 ring-blue-300",
  logout: "bg-slate-100 text-slate-800 ring-slate-300",
  logs_exported: "bg-violet-100 text-violet-900 ring-violet-300",
  access_denied: "bg-red-100 text-red-900 ring-red-300",
  user_created: "bg-violet-100 text-violet-900 ring-violet-300",
  password_reset: "bg-violet-100 text-violet-900 ring-violet-300",
  role_changed: "bg-violet-100 text-violet-900 ring-violet-300",
  session_revoked: "bg-slate-100 text-slate-800 ring-slate-300",
  api_token_created: "bg-violet-100 text-violet-900 ring-violet-300",
  api_token_revoked: "bg-violet-100 text-violet-900 ring-violet-300",
  api_token_refused: "bg-red-100 text-red-900 ring-red-300",
  stream_created: "bg-violet-100 text-violet-900 ring-violet-300",
  stream_changed: "bg-violet-100 text-violet-900 ring-violet-300",
  stream_removed: "bg-violet-100 text-violet-900 ring-violet-300",
  stream_replayed: "bg-violet-100 text-violet-900 ring-violet-300",
  alert_rule_created: "bg-violet-100 text-violet-900 ring-violet-300",
  alert_rule_changed: "bg-violet-100 text-violet-900 ring-violet-300",
  alert_rule_removed: "bg-violet-100 text-violet-900 ring-violet-300",
  logs_retained: "bg-violet-100 text-violet-900 ring-violet-300",
};

const OUTCOMES: Record<AccountLogResult, string> = {
  login_successful: "success",
  login_failed_wrong_password: "failure",
  login_failed_unknown_user: "failure",
  login_failed_invalid_request: "failure",
  login_failed_rate_limited: "refused, too many failures from this address",
  login_failed_account_locked: "refused, account locked",
  account_locked: "account locked",
  account_unlocked: "account unlocked",
  logout: "sign-out",
  logs_exported: "admin exported log rows",
  access_denied: "refused, not allowed",
  user_created: "admin created the account",
  password_reset: "admin reset the password",
  role_changed: "admin changed the role",
  session_revoked: "sessions ended by an admin or the owner",
  api_token_created: "admin created an API token",
  api_token_revoked: "admin revoked an API token",
  api_token_refused: "refused, API token not valid",
  stream_created: "admin added a log stream",
  stream_changed: "admin changed a log stream",
  stream_removed: "admin removed a log stream",
  stream_replayed: "admin replayed a log stream",
  alert_rule_created: "admin added an alert rule",
  alert_rule_changed: "admin changed an alert rule",
  alert_rule_removed: "admin removed an alert rule",
  logs_retained: "months of the log archived and removed by the retention policy",
};

/** The result code verbatim, coloured by outcome; the outcome is also in the accessible name. */
export function ResultBadge({ result }: { result: AccountLogResult }) {
  return (
    <span
      title={OUTCOMES[result]}
      aria-label={`${result} (${OUTCOMES[result]})`}
      className={`inline-block rounded px-2 py-0.5 font-mono text-xs ring-1 ring-inset ${TONES[result]}`}
    >
      {result}
    </span>
  );
}
