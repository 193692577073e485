import "server-only";
import { getServerSession } from "next-auth";
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { cache } from "react";
import type { UserRole } from "@/db/schema";
import { recordAccessDeniedOrLog } from "@/lib/account-log/access-denied";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import { checkSessionRecord, type SessionClaims } from "@/lib/sessions/queries";
import { authOptions } from "./options";

export type CurrentUser = { id: number; username: string; role: UserRole };

type SessionCheck = { user: CurrentUser; sessionId: number } | { user: undefined; ended: boolean };

/**
 * The signed-in user, checked against the database on every call: the session record (signed
 * out, ended by an admin or its owner, idle, past its absolute expiry) and the account (locked,
 * session version raised, role changed) take effect at the next request. Cached per request:
 * the layouts and the page ask the same question once.
 */
const checkSession = cache(async (): Promise<SessionCheck> => {
  const session = await getServerSession(authOptions);
  if (!session?.user?.id) return { user: undefined, ended: false };
  const checked = await checkSessionRecord({ userId: session.user.id, sessionVersion: session.sessionVersion, sessionKey: session.sessionKey });
  if (!checked) return { user: undefined, ended: true };
  return { user: checked.user, sessionId: checked.sessionId };
});

/** For NextAuth's own session endpoint, which otherwise trusts the cookie alone. */
export async function hasSessionEnded(claims: SessionClaims): Promise<boolean> {
  return !(await checkSessionRecord(claims));
}

/** The signed-in user and the ID of the session record they are using (the "this session" of Your sessions). */
export async function requireUserSession(): Promise<{ user: CurrentUser; sessionId: number }> {
  const check = await checkSession();
  if (!check.user) redirect(check.ended ? "/login?error=SessionEnded" : "/login");
  return check;
}

/** The signed-in user with their session ID, or undefined: for server actions, which answer instead of redirecting. */
export async function getCurrentUserSession(): Promise<{ user: CurrentUser; sessionId: number } | undefined> {
  const check = await checkSession();
  return check.user ? check : undefined;
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
  await recordAccessDeniedOrLog({ user: { id, username }, resource, context: requestContextFromHeaders(await headers()) });
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
