import type { ChainStatus } from "@/lib/audit/verify";
import { LogTime } from "./log-time";

const shortHash = (hash: string) => `${hash.slice(0, 16)}…`;

/** How far the hash chain was last verified, and the head now: what an auditor asks first. */
export function ChainStatusPanel({ status }: { status: ChainStatus }) {
  const { head, lastVerification: last } = status;
  const unverified = head && last ? head.id - last.throughId : undefined;
  return (
    <section aria-labelledby="chain-status-heading" className="rounded border border-slate-200 bg-white p-3 text-sm" data-testid="chain-status">
      <h2 id="chain-status-heading" className="font-semibold">
        Audit chain
      </h2>
      {!last ? (
        <p>Not verified yet. Run <code>npm run audit:verify</code> to check every row against its hash.</p>
      ) : last.intact ? (
        <p>
          <span className="font-medium text-green-800">Verified</span> up to ID {last.throughId} ({last.rowsVerified.toLocaleString("en-US")} rows) on{" "}
          <LogTime at={last.finishedAt} />, head <code title={last.headHash}>{shortHash(last.headHash)}</code>.
          {unverified !== undefined && unverified > 0 && <> Newer rows are not verified yet.</>}
        </p>
      ) : (
        <p className="text-red-900">
          <span className="font-semibold">Broken</span>, found on <LogTime at={last.finishedAt} />: {last.problem}
        </p>
      )}
      {head && (
        <p className="text-slate-600">
          Head now: ID {head.id}, <code title={head.hash}>{shortHash(head.hash)}</code>
        </p>
      )}
    </section>
  );
}
