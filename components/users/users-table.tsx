import Link from "next/link";
import { LogTime } from "@/components/account-logs/log-time";
import { accountLogHref, exactUsernameTerm } from "@/lib/account-log/search-params";
import type { UserSummary } from "@/lib/users/admin";
import { UserActionsPanel, type UserActions } from "./user-actions-panel";

type Props = {
  users: UserSummary[];
  lockoutThreshold: number;
  currentUserId: number;
  /** The admin's own session, marked in their row's list. */
  currentSessionId: number;
  actions: UserActions;
};

const COLUMNS = ["Username", "Role", "Status", "Consecutive failures", "Last sign-in", "Sessions", "Actions"] as const;

/**
 * Scrolls sideways on a narrow screen (positioned, so the visually hidden labels inside scroll
 * with it instead of widening the page); every username opens that account's log.
 */
export function UsersTable({ users, lockoutThreshold, currentUserId, currentSessionId, actions }: Props) {
  return (
    <div className="relative overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="min-w-full text-left text-sm">
        <caption className="sr-only">Users, by username</caption>
        <thead className="bg-slate-100">
          <tr>
            {COLUMNS.map((column) => (
              <th key={column} scope="col" className="px-3 py-2 font-semibold whitespace-nowrap">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} className="border-t border-slate-100 align-top" data-username={user.username}>
              <th scope="row" className="px-3 py-2 font-medium">
                <Link href={accountLogHref({ term: exactUsernameTerm(user.username) })} className="break-all text-blue-800 underline">
                  {user.username}
                </Link>
                {user.id === currentUserId && <span className="ml-1 text-xs font-normal text-slate-600">(you)</span>}
              </th>
              <td className="px-3 py-2">{user.role}</td>
              <td className="px-3 py-2">
                {user.lockedAt ? (
                  <span className="text-red-800">
                    Locked since <LogTime at={user.lockedAt} />
                  </span>
                ) : (
                  "Active"
                )}
              </td>
              <td className="px-3 py-2 whitespace-nowrap tabular-nums">
                {user.failedAttempts} of {lockoutThreshold}
              </td>
              <td className="px-3 py-2">{user.lastSignInAt ? <LogTime at={user.lastSignInAt} /> : "Never"}</td>
              <td className="px-3 py-2 whitespace-nowrap tabular-nums" data-testid="session-count">
                {user.sessions.length === 0 ? "None" : `${user.sessions.length} active`}
              </td>
              <td className="px-3 py-2">
                <UserActionsPanel
                  user={{ id: user.id, username: user.username, role: user.role, locked: user.lockedAt !== null, sessions: user.sessions }}
                  isCurrentUser={user.id === currentUserId}
                  currentSessionId={currentSessionId}
                  actions={actions}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
