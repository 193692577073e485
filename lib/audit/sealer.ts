import { sql } from "drizzle-orm";
import { getDb, rowsOf, type Executor } from "@/db";
import { logServerError } from "@/lib/server-log";
import type { Checkpointer } from "./checkpoints";
import type { ChainHead } from "./verify";

/**
 * Sealing (docs/audit.md): rows are written into the inbox by whoever logs them, and moved into
 * the chained log here, in batches, by one sealer at a time on the whole database. Every app
 * process runs the loop; the database function lets one of them seal and tells the others the
 * state is taken, so there is nothing to elect and nothing to hand over when a process dies.
 */

/** Rows sealed in one transaction: big enough for 2,000 rows/s, small enough to hold the lock briefly. */
export const SEAL_BATCH_ROWS = 1_000;
/** How often an idle process looks for rows other processes wrote. */
export const SEAL_IDLE_POLL_MS = 200;

/** Seals one batch: the rows sealed, 0 when none were waiting, or -1 when another sealer is at work. */
export async function sealBatch(executor: Executor, limit = SEAL_BATCH_ROWS): Promise<number> {
  const [row] = rowsOf<{ sealed: number }>(await executor.execute(sql`select account_log_seal(${limit}::int) as sealed`));
  return Number(row?.sealed ?? 0);
}

/**
 * Seals until no committed row waits, waiting out another sealer's batch: for commands that write
 * rows and exit, for shutdown, and for tests that read what they just wrote. Gives up after
 * `timeoutMs` (rows left are sealed by the next process that runs the loop).
 */
export async function sealPending(executor?: Executor, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<number> {
  const db = executor ?? (await getDb());
  const deadline = Date.now() + timeoutMs;
  let total = 0;
  for (;;) {
    const sealed = await sealBatch(db);
    if (sealed > 0) total += sealed;
    else if (sealed === 0 || Date.now() > deadline) return total;
    else await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until the row with `id` is sealed, sealing batches meanwhile, and returns its place in
 * the chain. For an action that must point at its own sealed row (an export's cut).
 */
export async function waitUntilSealed(executor: Executor, id: number, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<ChainHead> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = rowsOf<{ seq: number | string; id: number | string; hash: string }>(
      await executor.execute(sql`select seq, id, encode(hash, 'hex') as hash from account_logs where id = ${id} limit 1`),
    );
    if (row) return { seq: Number(row.seq), id: Number(row.id), hash: row.hash };
    if (Date.now() > deadline) throw new Error(`Log row ID ${id} was not sealed within ${timeoutMs} ms.`);
    if ((await sealBatch(executor)) <= 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type SealerHandle = { nudge: () => void };
const shared = globalThis as unknown as { __accountLogsSealer?: SealerHandle };

/**
 * Asks this process's sealer to look now: called after rows are written, so they are sealed
 * within moments rather than at the next poll. Does nothing where no sealer runs (commands).
 */
export function nudgeSealer(): void {
  shared.__accountLogsSealer?.nudge();
}

/**
 * The sealing loop, until the returned `stop`: a full batch is followed by the next at once; after
 * a nudge it looks again shortly (the writer's transaction may not have committed yet); otherwise
 * it polls every `idleMs`. A failed batch is logged and retried; rows wait in the inbox, and
 * sign-ins go on. `stop` seals what is left before it returns.
 */
export function startSealer({
  idleMs = SEAL_IDLE_POLL_MS,
  onSealed,
  checkpointer,
}: { idleMs?: number; onSealed?: (rows: number) => void; checkpointer?: Checkpointer } = {}): {
  stop: () => Promise<void>;
} {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let nudgedAt = 0;
  // After a failed batch, writes do not make it try again sooner than this.
  let backoffUntil = 0;
  let checkpointCheckedAt = 0;
  // Checkpoints are looked at after a batch, and at most once a second when idle (the time rule).
  const checkpoint = async (db: Executor, sealed: number) => {
    if (!checkpointer || (sealed <= 0 && Date.now() - checkpointCheckedAt < 1_000)) return;
    checkpointCheckedAt = Date.now();
    try {
      await checkpointer.run(db);
    } catch (error) {
      logServerError("a checkpoint could not be written; the next one will be tried", error);
    }
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, delayMs);
    timer.unref();
  };
  const run = () => {
    if (running || stopped) return;
    running = (async () => {
      let next = idleMs;
      try {
        const db = await getDb();
        const sealed = await sealBatch(db);
        if (sealed > 0) onSealed?.(sealed);
        await checkpoint(db, sealed);
        if (sealed >= SEAL_BATCH_ROWS) next = 0;
        else if (sealed !== 0 || Date.now() - nudgedAt < 100) next = 10;
      } catch (error) {
        logServerError("log rows could not be sealed; they wait in the inbox", error);
        next = Math.max(idleMs, 1_000);
        backoffUntil = Date.now() + next;
      } finally {
        running = undefined;
      }
      schedule(next);
    })();
  };

  shared.__accountLogsSealer = {
    nudge() {
      nudgedAt = Date.now();
      if (!running && Date.now() >= backoffUntil) schedule(0);
    },
  };
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (shared.__accountLogsSealer) delete shared.__accountLogsSealer;
      await running;
      try {
        const db = await getDb();
        await sealPending(db, { timeoutMs: 2_000 });
        await checkpoint(db, 1);
      } catch (error) {
        logServerError("log rows could not be sealed at shutdown; the next process seals them", error);
      }
    },
  };
}
