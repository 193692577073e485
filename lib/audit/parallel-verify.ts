import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { sql } from "drizzle-orm";
import { rowsOf, type Executor } from "@/db";
import type { RangeResult, RangeTask } from "./scan-range";
import type { ChainHead, ChainScanner } from "./verify";

/** Below this many rows a range is not worth a thread and a connection. */
const MIN_ROWS_PER_RANGE = 200_000;

function runWorker(task: RangeTask): Promise<RangeResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(process.cwd(), "lib", "audit", "scan-worker.mjs"), { workerData: task });
    worker.once("message", (result: RangeResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`A verification worker stopped with code ${code}.`));
    });
  });
}

/**
 * The fast pass in parallel (PostgreSQL): the positions are cut into one range per core, each
 * scanned by a worker thread on its own COPY connection, from the stored hash of the row before
 * it. Every row's hash and link is checked inside its range; the joins between ranges are the
 * rows at the cuts, whose hashes the range before verified. The first break in position order
 * wins, as in the single pass.
 */
export function parallelScanner(
  url: string,
  executor: Executor,
  { threads = os.availableParallelism(), minRowsPerRange = MIN_ROWS_PER_RANGE }: { threads?: number; minRowsPerRange?: number } = {},
): ChainScanner {
  return async (origin: ChainHead, head: ChainHead, onProgress) => {
    const total = head.seq - origin.seq;
    const count = Math.max(1, Math.min(threads, Math.floor(total / minRowsPerRange)));
    if (count < 2) return undefined;
    const cuts = Array.from({ length: count - 1 }, (_, i) => origin.seq + Math.floor((total * (i + 1)) / count));
    const stored = new Map(
      rowsOf<{ seq: number | string; hash: string }>(
        await executor.execute(sql`select seq, encode(hash, 'hex') as hash from account_logs
          where seq in (${sql.join(cuts.map((cut) => sql`${cut}::bigint`), sql`, `)})`),
      ).map((row) => [Number(row.seq), row.hash]),
    );
    // A cut with no row, or two: the single pass names what happened there.
    if (stored.size !== cuts.length) return undefined;
    const starts = [origin, ...cuts.map((cut) => ({ seq: cut, hash: stored.get(cut)! }))];
    const ends = [...cuts, head.seq];
    let done = 0;
    const results = await Promise.all(
      starts.map((start, i) =>
        runWorker({ url, afterSeq: start.seq, throughSeq: ends[i]!, prevHash: start.hash }).then((result) => {
          done += result.rows;
          onProgress(done, Math.max(start.seq, result.last?.seq ?? start.seq));
          return result;
        }),
      ),
    );
    let rows = 0;
    for (const [i, result] of results.entries()) {
      rows += result.rows;
      const last = result.last;
      const whole = !result.firstBad && last !== undefined && last.seq === ends[i] && (i === results.length - 1 || last.hash === starts[i + 1]!.hash);
      if (!whole) {
        // The last row that held: in this range, or the cut before it (which the range before verified).
        const held = last ?? (i > 0 ? { seq: starts[i]!.seq, id: 0, hash: starts[i]!.hash } : undefined);
        return {
          rows,
          last: held && { seq: held.seq, id: held.id, hash: Buffer.from(held.hash, "hex") },
          firstBad: result.firstBad ?? { seq: (held?.seq ?? starts[i]!.seq) + 1, id: 0 },
        };
      }
    }
    const last = results.at(-1)!.last!;
    return { rows, last: { seq: last.seq, id: last.id, hash: Buffer.from(last.hash, "hex") }, firstBad: undefined };
  };
}
