"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { USER_ROLES, type UserRole } from "@/db/schema";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { unlockAccount } from "@/lib/account-log/unlock";
import { isSameOriginRequest } from "@/lib/auth/same-origin";
import { getCurrentUser, recordDeniedAdminRequest, type CurrentUser } from "@/lib/auth/session";
import { requestContextFromHeaders, type RequestContext } from "@/lib/client/request-context";
import { logServerError } from "@/lib/server-log";
import { endSessionsAsAdmin, type EndSessionsOutcome } from "@/lib/sessions/end";
import { changeRole, createUserAsAdmin, lockAccount, resetPassword } from "@/lib/users/admin";
import { UserInputError, UsernameTakenError } from "@/lib/users/errors";
import { newPasswordSchema, newUsernameSchema } from "@/lib/users/username";

export type UserFormField = "username" | "password" | "role" | "reason";

/**
 * What a Users form shows after its action: a message, the field it is about when it is about
 * one, and (create form only) the username to put back after an error. Never a password.
 */
export type UserActionState = {
  status: "idle" | "success" | "error";
  message: string;
  field?: UserFormField;
  username?: string;
};

const REFUSED_ORIGIN: UserActionState = { status: "error", message: "Refused: the request did not come from this site." };
const REFUSED_ROLE: UserActionState = { status: "error", message: "Only administrators can manage users." };
const FIELDS: readonly string[] = ["username", "password", "role", "reason"] satisfies UserFormField[];

const userId = z.coerce.number().int().positive().max(2 ** 31 - 1);
const role = z.enum(USER_ROLES, { error: "Choose a role: user or admin." });

const createInput = z.object({ username: newUsernameSchema, password: newPasswordSchema, role });
const resetInput = z.object({ userId, password: newPasswordSchema });
const roleInput = z.object({ userId, role });
const reasonInput = z.object({ userId, reason: adminReasonSchema });
const endSessionInput = z.object({ userId, sessionId: userId, reason: adminReasonSchema });

type Authorized = { admin: CurrentUser; context: RequestContext };

/**
 * The same-origin check, then the role from the database. A signed-in non-admin's refusal is an
 * `access_denied` row naming the action; anonymous callers never get here (middleware).
 */
async function authorize(resource: string): Promise<Authorized | UserActionState> {
  const requestHeaders = await headers();
  if (!isSameOriginRequest(requestHeaders)) return REFUSED_ORIGIN;
  const admin = await getCurrentUser();
  if (admin?.role !== "admin") {
    if (admin) await recordDeniedAdminRequest(admin, resource);
    return REFUSED_ROLE;
  }
  return { admin, context: requestContextFromHeaders(requestHeaders) };
}

function isRefusal(value: Authorized | UserActionState): value is UserActionState {
  return "status" in value;
}

/** The first problem of a form, pointed at its field; a bad account ID is not the admin's typing. */
function invalidInput(error: z.ZodError): UserActionState {
  const issue = error.issues[0]!;
  const field = String(issue.path[0]);
  if (!FIELDS.includes(field)) return { status: "error", message: "That is not a valid account." };
  return { status: "error", message: issue.message, field: field as UserFormField };
}

function text(form: FormData, name: string): unknown {
  return form.get(name) ?? "";
}

function revalidate() {
  revalidatePath("/admin/users");
  revalidatePath("/admin/account-logs");
  revalidatePath("/account/sessions");
}

/** An unexpected failure: logged with its cause on the server, a plain message for the admin. */
function failed(event: string, error: unknown, fields: Record<string, unknown>, message: string): UserActionState {
  logServerError(event, error, fields);
  return { status: "error", message };
}

const roleName = (value: UserRole) => (value === "admin" ? "an admin" : "a user");

export async function createUserAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("create user action");
  if (isRefusal(authorized)) return authorized;
  const typedUsername = typeof form.get("username") === "string" ? String(form.get("username")).slice(0, 256) : "";
  const input = createInput.safeParse({ username: text(form, "username"), password: text(form, "password"), role: text(form, "role") });
  if (!input.success) return { ...invalidInput(input.error), username: typedUsername };
  try {
    const { user } = await createUserAsAdmin({ ...authorized, ...input.data, username: input.data.username.username });
    revalidate();
    return { status: "success", message: `Created ${roleName(user.role)} named ${user.username}.` };
  } catch (error) {
    if (error instanceof UsernameTakenError) return { status: "error", message: error.message, field: "username", username: typedUsername };
    if (error instanceof UserInputError) return { status: "error", message: error.message, username: typedUsername };
    return { ...failed("user creation failed", error, { adminId: authorized.admin.id }, "The user could not be created. Try again."), username: typedUsername };
  }
}

export async function resetPasswordAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("reset password action");
  if (isRefusal(authorized)) return authorized;
  const input = resetInput.safeParse({ userId: form.get("userId"), password: text(form, "password") });
  if (!input.success) return invalidInput(input.error);
  try {
    const outcome = await resetPassword({ ...authorized, ...input.data });
    revalidate();
    if (outcome.status === "not_found") return { status: "error", message: "That account no longer exists." };
    return { status: "success", message: `Set a new password for ${outcome.username}; their sessions have ended.` };
  } catch (error) {
    if (error instanceof UserInputError) return { status: "error", message: error.message, field: "password" };
    return failed("password reset failed", error, { userId: input.data.userId, adminId: authorized.admin.id }, "The password could not be set. Try again.");
  }
}

export async function changeRoleAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("change role action");
  if (isRefusal(authorized)) return authorized;
  const input = roleInput.safeParse({ userId: form.get("userId"), role: text(form, "role") });
  if (!input.success) return invalidInput(input.error);
  try {
    const outcome = await changeRole({ ...authorized, ...input.data });
    revalidate();
    switch (outcome.status) {
      case "changed":
        return { status: "success", message: `${outcome.username} is now ${roleName(outcome.role.to)}; their sessions have ended.` };
      case "unchanged":
        return { status: "success", message: `${outcome.username} is already ${roleName(outcome.role)}; nothing changed.` };
      case "last_admin":
        return { status: "error", message: `${outcome.username} is the last active admin. Make another account an admin first.` };
      case "not_found":
        return { status: "error", message: "That account no longer exists." };
    }
  } catch (error) {
    return failed("role change failed", error, { userId: input.data.userId, adminId: authorized.admin.id }, "The role could not be changed. Try again.");
  }
}

export async function lockAccountAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("lock action");
  if (isRefusal(authorized)) return authorized;
  const input = reasonInput.safeParse({ userId: form.get("userId"), reason: text(form, "reason") });
  if (!input.success) return invalidInput(input.error);
  try {
    const outcome = await lockAccount({ ...authorized, ...input.data });
    revalidate();
    switch (outcome.status) {
      case "locked":
        return { status: "success", message: `Locked ${outcome.username}; their sessions have ended.` };
      case "already_locked":
        return { status: "success", message: `${outcome.username} is already locked; nothing changed.` };
      case "own_account":
        return { status: "error", message: "You cannot lock your own account." };
      case "last_admin":
        return { status: "error", message: `${outcome.username} is the last active admin and cannot be locked.` };
      case "not_found":
        return { status: "error", message: "That account no longer exists." };
    }
  } catch (error) {
    return failed("lock failed", error, { userId: input.data.userId, adminId: authorized.admin.id }, "The account could not be locked. Try again.");
  }
}

export async function unlockUserAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("unlock action");
  if (isRefusal(authorized)) return authorized;
  const input = reasonInput.safeParse({ userId: form.get("userId"), reason: text(form, "reason") });
  if (!input.success) return invalidInput(input.error);
  try {
    const outcome = await unlockAccount({ ...authorized, ...input.data });
    revalidate();
    if (outcome.status === "unlocked") return { status: "success", message: `Unlocked ${outcome.username}.` };
    if (outcome.status === "not_locked") return { status: "success", message: `${outcome.username} is not locked; nothing changed.` };
    return { status: "error", message: "That account no longer exists." };
  } catch (error) {
    return failed("unlock failed", error, { userId: input.data.userId, adminId: authorized.admin.id }, "The account could not be unlocked. Try again.");
  }
}

function endedMessage(outcome: EndSessionsOutcome, what: "one" | "all"): UserActionState {
  switch (outcome.status) {
    case "ended":
      return { status: "success", message: `Ended ${outcome.ended === 1 ? "1 session" : `${outcome.ended} sessions`} of ${outcome.username}.` };
    case "none":
      return {
        status: "success",
        message: what === "one" ? `That session of ${outcome.username} has already ended; nothing changed.` : `${outcome.username} has no active sessions; nothing changed.`,
      };
    case "forbidden":
      return REFUSED_ROLE;
    case "not_found":
      return { status: "error", message: "That account no longer exists." };
  }
}

export async function endSessionAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("end session action");
  if (isRefusal(authorized)) return authorized;
  const input = endSessionInput.safeParse({ userId: form.get("userId"), sessionId: form.get("sessionId"), reason: text(form, "reason") });
  if (!input.success) return invalidInput(input.error);
  const { userId: target, sessionId, reason } = input.data;
  try {
    const outcome = await endSessionsAsAdmin({ ...authorized, userId: target, scope: { kind: "one", sessionId }, reason });
    revalidate();
    return endedMessage(outcome, "one");
  } catch (error) {
    return failed("ending a session failed", error, { userId: target, adminId: authorized.admin.id }, "The session could not be ended. Try again.");
  }
}

export async function endAllSessionsAction(_previous: UserActionState, form: FormData): Promise<UserActionState> {
  const authorized = await authorize("end all sessions action");
  if (isRefusal(authorized)) return authorized;
  const input = reasonInput.safeParse({ userId: form.get("userId"), reason: text(form, "reason") });
  if (!input.success) return invalidInput(input.error);
  try {
    const outcome = await endSessionsAsAdmin({ ...authorized, userId: input.data.userId, scope: { kind: "all" }, reason: input.data.reason });
    revalidate();
    return endedMessage(outcome, "all");
  } catch (error) {
    return failed("ending sessions failed", error, { userId: input.data.userId, adminId: authorized.admin.id }, "The sessions could not be ended. Try again.");
  }
}
