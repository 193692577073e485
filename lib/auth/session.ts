import { getServerSession } from "next-auth";
import { forbidden, redirect } from "next/navigation";
import { cache } from "react";
import type { UserRole } from "@/db/schema";
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
  const state = await getUserSessionState(session.user.id);
  if (!state || state.lockedAt || state.sessionVersion !== session.sessionVersion) return { user: undefined, ended: true };
  return { user: { id: state.id, username: state.username, role: state.role } };
});

export async function getCurrentUser(): Promise<CurrentUser | undefined> {
  return (await checkSession()).user;
}

export async function requireUser(): Promise<CurrentUser> {
  const check = await checkSession();
  if (!check.user) redirect(check.ended ? "/login?error=SessionEnded" : "/login");
  return check.user;
}

/** Pages and actions call this themselves; middleware only turns away anonymous visitors. */
export async function requireAdmin(): Promise<CurrentUser> {
  const user = await requireUser();
  if (user.role !== "admin") forbidden();
  return user;
}
