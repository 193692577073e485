import type { ChainStatus } from "@/lib/audit/verify";
import { LogTime } from "./log-time";

const shortHash = (hash: string) => `${hash.slice(0, 16)}…`;
/** Under a month of partitions left means the sealer has failed to add them for a month. */
const PARTITION_WARNING_MS = 30 * 24 * 3600 * 1000;
const count = (n: number) => n.toLocaleString("en-US");

/** How long ago, in words short enough for a status line. */
function waitedFor(since: Date, now: Date): string {
  const seconds = Math.max(0, (now.getTime() - since.getTime()) / 1000);
  if (seconds < 1) return "under a second";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return `${Math.round(seconds / 60)} min`;
}

/**
 * The hash chain as an auditor asks about it: how far rows are sealed and how many wait, the last
 * signed checkpoint, and how far the chain was last verified.
 */
export function ChainStatusPanel({ status, now = new Date() }: { status: ChainStatus; now?: Date }) {
  const { head, lastVerification: last, unsealed, lastCheckpoint } = status;
  const unverified = head && last ? head.seq - last.throughSeq : undefined;
  return (
    <section aria-labelledby="chain-status-heading" className="rounded border border-slate-200 bg-white p-3 text-sm" data-testid="chain-status">
      <h2 id="chain-status-heading" className="font-semibold">
        Audit chain
      </h2>
      <p data-testid="seal-status">
        {head ? (
          <>
            Sealed up to seq {count(head.seq)} (ID {head.id}, <code title={head.hash}>{shortHash(head.hash)}</code>).
          </>
        ) : (
          <>No row is sealed yet.</>
        )}{" "}
        {unsealed.rows === 0 ? (
          <>Every written row is sealed.</>
        ) : (
          <span className={unsealed.oldestAt && now.getTime() - unsealed.oldestAt.getTime() > 5_000 ? "font-medium text-amber-900" : undefined}>
            {count(unsealed.rows)} {unsealed.rows === 1 ? "row waits" : "rows wait"} to be sealed
            {unsealed.oldestAt && <> (lag {waitedFor(unsealed.oldestAt, now)})</>}; they are logged, not yet in the chain.
          </span>
        )}
      </p>
      <p>
        {lastCheckpoint ? (
          <>
            Last signed checkpoint: seq {count(lastCheckpoint.seq)}, <LogTime at={lastCheckpoint.signedAt} />.
            {head && head.seq > lastCheckpoint.seq && <> Rows after it are protected by the chain alone until the next one.</>}
          </>
        ) : (
          <>No signed checkpoint yet: the chain alone protects the rows.</>
        )}
      </p>
      {status.partitionsUntil && status.partitionsUntil.getTime() - now.getTime() < PARTITION_WARNING_MS && (
        <p className="font-medium text-amber-900" data-testid="partition-warning">
          The log&apos;s monthly partitions end <LogTime at={status.partitionsUntil} />. Sealing adds them two months ahead and
          stops for a row that has none: check that the sealer can create tables (docs/operations.md, &quot;Partitions&quot;).
        </p>
      )}
      {status.retention && (
        <p data-testid="retention-status">
          Retention: rows through seq {count(status.retention.seq)} ({count(status.retention.rowsRemoved)} rows; {status.retention.months.join(", ")}) were
          archived and removed on <LogTime at={status.retention.retainedAt} />
          {status.retention.archives.length > 0 ? <> to {status.retention.archives.join(", ")}</> : <>, without an archive</>}. The chain starts
          at the signed boundary there.
        </p>
      )}
      {!last ? (
        <p>Not verified yet. Run <code>npm run audit:verify</code> to check every row against its hash.</p>
      ) : last.intact ? (
        <p>
          <span className="font-medium text-green-800">Verified</span> up to seq {count(last.throughSeq)} ({count(last.rowsVerified)} rows) on{" "}
          <LogTime at={last.finishedAt} />, head <code title={last.headHash}>{shortHash(last.headHash)}</code>.
          {unverified !== undefined && unverified > 0 && <> Newer rows are not verified yet.</>}
        </p>
      ) : (
        <p className="text-red-900">
          <span className="font-semibold">Broken</span>, found on <LogTime at={last.finishedAt} />: {last.problem}
        </p>
      )}
    </section>
  );
}
