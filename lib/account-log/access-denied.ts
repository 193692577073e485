import { getDb } from "@/db";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { logServerError, logServerInfo } from "@/lib/server-log";
import { aggregateMetadata, admitDenial, isWindowOver, type Denial, type DenialLimits, type DenialWindow, type SuppressedDenials } from "./denial-window";
import { appendAccountLog, type AccountLogEntry } from "./record";

type DeniedUser = Pick<CurrentUser, "id" | "username">;
type Aggregate = { user: DeniedUser; suppressed: SuppressedDenials };

/**
 * Per-user windows of `access_denied` rows, kept in this process's memory: a user refused over
 * and over writes `ACCESS_DENIED_ROW_LIMIT` rows a window, and one more row counting the rest
 * once the window has closed (at the user's next refusal, or at a flush). With several app
 * processes the limit holds per process. An aggregate that cannot be written stays queued and
 * is tried again at the next flush; one still held when the process dies uncleanly is lost,
 * which `startAccessDenialFlush`'s stop at shutdown avoids.
 */
export class AccessDenialLog {
  private readonly windows = new Map<number, { user: DeniedUser; window: DenialWindow }>();
  private unwritten: Aggregate[] = [];

  constructor(
    private readonly limits: () => DenialLimits,
    private readonly write: (entries: AccountLogEntry[]) => Promise<unknown>,
  ) {}

  /** Records one refusal: its own row, a count in its window's aggregate, or both a closed window's aggregate and its row. */
  async record(user: DeniedUser, denial: Denial): Promise<void> {
    const current = this.windows.get(user.id);
    const { window, verdict, closed } = admitDenial(current?.window, denial, this.limits());
    // Decided and stored before any write: concurrent refusals of one user count in order.
    this.windows.set(user.id, { user, window });
    const aggregates = closed ? [{ user: current!.user, suppressed: closed }] : [];
    const own: AccountLogEntry[] =
      verdict === "write"
        ? [{ username: user.username, userId: user.id, result: "access_denied", ip: denial.ip, metadata: { ...denial.metadata, resource: denial.resource } }]
        : [];
    if (aggregates.length === 0 && own.length === 0) return;
    try {
      await this.write([...aggregates.map(aggregateEntry), ...own]);
    } catch (error) {
      this.unwritten.push(...aggregates);
      throw error;
    }
  }

  /**
   * Writes the aggregates of windows that have closed by `now` (every window with `all`, as at
   * shutdown) and forgets those windows. Returns the number of refusals written.
   */
  async flush({ now = Date.now(), all = false }: { now?: number; all?: boolean } = {}): Promise<number> {
    const limits = this.limits();
    const due = this.unwritten;
    this.unwritten = [];
    for (const [id, { user, window }] of this.windows) {
      if (!all && !isWindowOver(window, now, limits)) continue;
      this.windows.delete(id);
      if (window.suppressed) due.push({ user, suppressed: window.suppressed });
    }
    if (due.length === 0) return 0;
    try {
      await this.write(due.map(aggregateEntry));
    } catch (error) {
      this.unwritten.push(...due);
      throw error;
    }
    return due.reduce((sum, aggregate) => sum + aggregate.suppressed.count, 0);
  }

  /** Refusals counted but not yet written, for tests and shutdown logs. */
  pendingRefusals(): number {
    let pending = this.unwritten.reduce((sum, aggregate) => sum + aggregate.suppressed.count, 0);
    for (const { window } of this.windows.values()) pending += window.suppressed?.count ?? 0;
    return pending;
  }
}

function aggregateEntry({ user, suppressed }: Aggregate): AccountLogEntry {
  return { username: user.username, userId: user.id, result: "access_denied", ip: suppressed.ip, metadata: aggregateMetadata(suppressed) };
}

// On globalThis: Next.js bundles this module into several server chunks, and server.ts loads
// its own copy; all of them must count into one set of windows.
const shared = globalThis as unknown as { __accountLogsAccessDenials?: AccessDenialLog };

function accessDenialLog(): AccessDenialLog {
  shared.__accountLogsAccessDenials ??= new AccessDenialLog(
    () => ({ limit: env().ACCESS_DENIED_ROW_LIMIT, windowMs: env().ACCESS_DENIED_WINDOW_SECONDS * 1000 }),
    async (entries) => appendAccountLog(await getDb(), entries),
  );
  return shared.__accountLogsAccessDenials;
}

/**
 * A refused request for log data or an admin action. A signed-in user's refusal is a log row
 * (`access_denied`, naming what was asked for), or past the per-user limit a count in one
 * aggregate row; an anonymous one only a server log line, so anonymous requests cannot grow
 * the audit trail.
 */
export async function recordAccessDenied({
  user,
  resource,
  context,
}: {
  user: DeniedUser | undefined;
  resource: string;
  context: RequestContext;
}): Promise<void> {
  if (!user) {
    logServerInfo("access denied", { resource, ip: context.ip ?? null, signedIn: false });
    return;
  }
  await accessDenialLog().record(
    { id: user.id, username: user.username },
    { at: Date.now(), resource, ip: context.ip ?? null, metadata: requestMetadata(context) },
  );
}

/**
 * `recordAccessDenied` for a refusal that stands whether or not its row is written: a row that
 * cannot be written is logged on the server instead, and the caller is refused all the same.
 */
export async function recordAccessDeniedOrLog(denial: Parameters<typeof recordAccessDenied>[0]): Promise<void> {
  try {
    await recordAccessDenied(denial);
  } catch (error) {
    logServerError("access denial could not be logged", error, { userId: denial.user?.id ?? null, resource: denial.resource });
  }
}

/** Writes the aggregate rows of closed windows (all of them with `all`); the number of refusals written. */
export function flushAccessDenials(options?: { now?: number; all?: boolean }): Promise<number> {
  return accessDenialLog().flush(options);
}

/**
 * Flushes closed windows every `intervalMs`, so a user's held-back refusals are written soon
 * after the window ends even when no further refusal comes. The returned stop function ends
 * the timer and writes every pending aggregate: call it at shutdown, before the database closes.
 */
export function startAccessDenialFlush({ intervalMs = 15_000 }: { intervalMs?: number } = {}): () => Promise<void> {
  const flush = (all: boolean) =>
    flushAccessDenials({ all }).catch((error: unknown) => logServerError("access denials could not be flushed; kept for the next flush", error));
  const timer = setInterval(() => void flush(false), intervalMs);
  // The timer alone never keeps the process alive.
  timer.unref();
  return async () => {
    clearInterval(timer);
    await flush(true);
  };
}
