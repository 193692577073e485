import type { Metadata } from "next";
import { CreateUserForm } from "@/components/users/create-user-form";
import { UserFilterForm } from "@/components/users/user-filter-form";
import { UsersTable } from "@/components/users/users-table";
import { requireAdmin, requireUserSession } from "@/lib/auth/session";
import { logServerError } from "@/lib/server-log";
import { listUsers, parseUserListQuery } from "@/lib/users/admin";
import { unlockAccountAction } from "../actions";
import { changeRoleAction, createUserAction, endAllSessionsAction, endSessionAction, lockAccountAction, resetPasswordAction } from "./actions";

export const metadata: Metadata = { title: "Users" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const userActions = {
  resetPassword: resetPasswordAction,
  changeRole: changeRoleAction,
  lock: lockAccountAction,
  unlock: unlockAccountAction,
  endSession: endSessionAction,
  endAllSessions: endAllSessionsAction,
};

async function loadUsers(q: string) {
  try {
    return await listUsers({ q });
  } catch (error) {
    logServerError("users page could not be loaded", error);
    return undefined;
  }
}

export default async function UsersPage({ searchParams }: Props) {
  const admin = await requireAdmin();
  // Checked once per request: this only names the admin's own session in the list.
  const { sessionId } = await requireUserSession();
  const { q } = parseUserListQuery(await searchParams);
  const list = await loadUsers(q);

  return (
    <main className="mx-auto max-w-7xl space-y-6 p-4 sm:p-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      <CreateUserForm action={createUserAction} />
      <section aria-labelledby="user-list-heading" className="space-y-3">
        <h2 id="user-list-heading" className="text-lg font-semibold">
          Accounts
        </h2>
        <UserFilterForm q={q} />
        {!list ? (
          <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900" data-testid="load-error">
            The users could not be loaded right now. Try again in a moment.
          </p>
        ) : list.users.length === 0 ? (
          <p className="rounded border border-slate-200 bg-white p-4 text-slate-700">{q ? <>No username contains “{q}”.</> : "There are no users."}</p>
        ) : (
          <>
            <p className="text-sm text-slate-700" data-testid="user-count">
              {list.total > list.users.length
                ? `Showing the first ${list.users.length} of ${list.total} users by username; filter to find others.`
                : `${list.total} ${list.total === 1 ? "user" : "users"}.`}
            </p>
            <UsersTable users={list.users} lockoutThreshold={list.lockoutThreshold} currentUserId={admin.id} currentSessionId={sessionId} actions={userActions} />
          </>
        )}
      </section>
    </main>
  );
}
