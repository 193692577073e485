import { LogTime } from "@/components/account-logs/log-time";

export type SessionView = {
  id: number;
  device: string | null;
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
};

/** What tells one session from another: the device, the address and its times. */
export function SessionDetails({ session, current = false }: { session: SessionView; current?: boolean }) {
  return (
    <div className="min-w-0">
      <p className="font-medium break-words">
        {session.device ?? "Unknown device"}
        {current && <span className="ml-2 rounded bg-green-100 px-1.5 py-0.5 text-xs font-medium text-green-900 ring-1 ring-green-300 ring-inset">This session</span>}
      </p>
      <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-3 text-xs text-slate-700">
        <dt>Address</dt>
        <dd className="font-mono break-all">{session.ip ?? "unknown"}</dd>
        <dt>Signed in</dt>
        <dd>
          <LogTime at={session.createdAt} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          <LogTime at={session.lastSeenAt} />
        </dd>
        <dt>Expires</dt>
        <dd>
          <LogTime at={session.expiresAt} />
        </dd>
      </dl>
    </div>
  );
}
