import type { AccountLogMetadata } from "@/db/schema";

/**
 * The rule that bounds `access_denied` rows: per user and window, the first `limit` refusals
 * are a row each; the rest are counted into one aggregate row, written once the window has
 * closed. Every refusal is in exactly one row, so the rows' counts (1 for a plain row) add up to
 * the refusals. Pure: the caller owns the clock and the state.
 */
export type Denial = { at: number; resource: string; ip: string | null; metadata: AccountLogMetadata };

/** The refusals of a window past its limit, not yet written. */
export type SuppressedDenials = {
  count: number;
  /** Refusals per resource asked for. */
  resources: Record<string, number>;
  from: number;
  to: number;
  /** The first suppressed refusal's address and client, for the aggregate row. */
  ip: string | null;
  metadata: AccountLogMetadata;
  /** Other addresses the suppressed refusals came from, up to `ADDRESSES_KEPT`. */
  otherAddresses: string[];
};

/** One user's current window: when it opened, how many rows it wrote, and what it held back. */
export type DenialWindow = { start: number; written: number; suppressed?: SuppressedDenials };

export type DenialLimits = { limit: number; windowMs: number };

export const ADDRESSES_KEPT = 16;

export type Admission = {
  window: DenialWindow;
  /** "write": this refusal gets its own row; "suppress": it is counted in the window's aggregate. */
  verdict: "write" | "suppress";
  /** A previous window that closed with refusals held back: write its aggregate now. */
  closed?: SuppressedDenials;
};

export function admitDenial(current: DenialWindow | undefined, denial: Denial, { limit, windowMs }: DenialLimits): Admission {
  const expired = current !== undefined && denial.at >= current.start + windowMs;
  const window = current === undefined || expired ? { start: denial.at, written: 0 } : current;
  const closed = expired ? current.suppressed : undefined;
  if (window.written < limit) {
    return { window: { ...window, written: window.written + 1 }, verdict: "write", closed };
  }
  return { window: { ...window, suppressed: suppress(window.suppressed, denial) }, verdict: "suppress", closed };
}

function suppress(previous: SuppressedDenials | undefined, denial: Denial): SuppressedDenials {
  if (!previous) {
    return { count: 1, resources: { [denial.resource]: 1 }, from: denial.at, to: denial.at, ip: denial.ip, metadata: denial.metadata, otherAddresses: [] };
  }
  const isNewAddress =
    denial.ip !== null && denial.ip !== previous.ip && !previous.otherAddresses.includes(denial.ip) && previous.otherAddresses.length < ADDRESSES_KEPT;
  return {
    ...previous,
    count: previous.count + 1,
    resources: { ...previous.resources, [denial.resource]: (previous.resources[denial.resource] ?? 0) + 1 },
    from: Math.min(previous.from, denial.at),
    to: Math.max(previous.to, denial.at),
    otherAddresses: isNewAddress ? [...previous.otherAddresses, denial.ip!] : previous.otherAddresses,
  };
}

/**
 * Whether a window is over at `now` (or at once, when flushing everything): its aggregate, if
 * any, is then due, and the window can be forgotten.
 */
export function isWindowOver(window: DenialWindow, now: number, { windowMs }: Pick<DenialLimits, "windowMs">): boolean {
  return now >= window.start + windowMs;
}

/** The metadata of an aggregate row: how many refusals, of what, between when. */
export function aggregateMetadata(suppressed: SuppressedDenials): AccountLogMetadata {
  const resources = Object.keys(suppressed.resources).sort();
  return {
    ...suppressed.metadata,
    resource: resources.join(", "),
    count: suppressed.count,
    resources: suppressed.resources,
    from: new Date(suppressed.from).toISOString(),
    to: new Date(suppressed.to).toISOString(),
    ...(suppressed.otherAddresses.length > 0 && { otherAddresses: suppressed.otherAddresses }),
  };
}

/** How many refusals a row stands for: its count, or 1 for a plain row. */
export const refusalsOf = (metadata: AccountLogMetadata) => metadata.count ?? 1;
