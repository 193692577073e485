import type { AlertEvent } from "@/db/schema";

/** What each alert event means, as the page and the emails say it; free of server code, for the page's forms. */
export const ALERT_EVENT_LABELS: Record<AlertEvent, string> = {
  account_locked: "An account is locked",
  password_spraying: "An address sprays passwords (10 usernames in an hour)",
  throttle_tripped: "An address trips the sign-in throttle",
  account_unlocked: "An admin unlocks an account",
};

/** The events in the order the page lists them. */
export const ALERT_EVENT_ORDER = Object.keys(ALERT_EVENT_LABELS) as AlertEvent[];
