import { getServerSession } from "next-auth";
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { cache } from "react";
import type { UserRole } from "@/db/schema";
import { recordAccessDenied } from "@/lib/account-log/access-denied";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import { logServerError } from "@/lib/server-log";
import { getUserSessionState } from "@/lib/users/queries";
import { authOptions } from "./options";

export type CurrentUser = { id: number; username: string; role: UserRole };

type SessionCheck = { user: CurrentUser } | { user: undefined; ended: boolean };

/**
 * The signed-in user, checked against the database on every call: a locked account, a
 * changed session version or a changed role takes effect at the next request. Cached per
 * request: the layouts and the page ask the same question once.
 */
const checkSession = cache(async (): Promise<SessionCheck> => {
  const session = await getServerSession(authOptions);
  if (!session?.user?.id) return { user: undefined, ended: false };
  const state = await currentSessionState(session.user.id, session.sessionVersion);
  if (!state) return { user: undefined, ended: true };
  return { user: { id: state.id, username: state.username, role: state.role } };
});

/** The account behind a session, or undefined when the session has ended (locked, removed, version raised). */
async function currentSessionState(userId: number, sessionVersion: number | undefined) {
  const state = await getUserSessionState(userId);
  if (!state || state.lockedAt || state.sessionVersion !== sessionVersion) return undefined;
  return state;
}

/** For NextAuth's own session endpoint, which otherwise trusts the cookie alone. */
export async function hasSessionEnded(userId: number, sessionVersion: number | undefined): Promise<boolean> {
  return !(await currentSessionState(userId, sessionVersion));
}

export async function getCurrentUser(): Promise<CurrentUser | undefined> {
  return (await checkSession()).user;
}

export async function requireUser(): Promise<CurrentUser> {
  const check = await checkSession();
  if (!check.user) redirect(check.ended ? "/login?error=SessionEnded" : "/login");
  return check.user;
}

/**
 * An `access_denied` row for a signed-in user refused something admins may do. Cached per
 * request: the admin layout and the page both check, and one request is one row. A row that
 * cannot be written is logged and the refusal stands.
 */
export async function recordDeniedAdminRequest(user: Pick<CurrentUser, "id" | "username">, resource: string): Promise<void> {
  // Primitive arguments: the per-request cache compares arguments by identity.
  await recordDenialOnce(user.id, user.username, resource);
}

const recordDenialOnce = cache(async (id: number, username: string, resource: string): Promise<void> => {
  try {
    await recordAccessDenied({ user: { id, username }, resource, context: requestContextFromHeaders(await headers()) });
  } catch (error) {
    logServerError("access denial could not be logged", error, { userId: id });
  }
});

/** Pages and actions call this themselves; middleware only turns away anonymous visitors. */
export async function requireAdmin(): Promise<CurrentUser> {
  const user = await requireUser();
  if (user.role !== "admin") {
    await recordDeniedAdminRequest(user, "admin pages");
    forbidden();
  }
  return user;
}
