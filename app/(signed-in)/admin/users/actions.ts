"use server";

import { z } from "zod";
import { USER_ROLES, type UserRole } from "@/db/schema";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { adminAction } from "@/lib/actions/action";
import { accountIdField, sessionIdField } from "@/lib/actions/form";
import type { UserFormField, UserActionState } from "@/lib/actions/state";
import { endSessionsAsAdmin, type EndSessionsOutcome } from "@/lib/sessions/end";
import { changeRole, createUserAsAdmin, lockAccount, resetPassword } from "@/lib/users/admin";
import { newPasswordSchema, newUsernameSchema } from "@/lib/users/username";

const FIELDS: readonly UserFormField[] = ["username", "password", "role", "reason"];

/** What every Users action shares: who may run it, its fields, and the pages it changes. */
const USERS = {
  refusal: "Only administrators can manage users.",
  fields: FIELDS,
  revalidate: ["/admin/users", "/admin/account-logs", "/account/sessions"],
} as const;

const role = z.enum(USER_ROLES, { error: "Choose a role: user or admin." });
const reasonForm = z.object({ userId: accountIdField, reason: adminReasonSchema });

const NOT_FOUND: UserActionState = { status: "error", message: "That account no longer exists." };
const roleName = (value: UserRole) => (value === "admin" ? "an admin" : "a user");

export const createUserAction = adminAction(
  {
    ...USERS,
    name: "create user action",
    schema: z.object({ username: newUsernameSchema, password: newPasswordSchema, role }),
    keep: ["username"],
    failure: "The user could not be created. Try again.",
  },
  async ({ username, password, role }, request) => {
    const { user } = await createUserAsAdmin({ ...request, username: username.username, password, role });
    return { status: "done", message: `Created ${roleName(user.role)} named ${user.username}.` };
  },
);

export const resetPasswordAction = adminAction(
  {
    ...USERS,
    name: "reset password action",
    schema: z.object({ userId: accountIdField, password: newPasswordSchema }),
    failure: "The password could not be set. Try again.",
  },
  async (input, request) => {
    const outcome = await resetPassword({ ...request, ...input });
    if (outcome.status === "not_found") return NOT_FOUND;
    return { status: "done", message: `Set a new password for ${outcome.username}; their sessions have ended.` };
  },
);

export const changeRoleAction = adminAction(
  { ...USERS, name: "change role action", schema: z.object({ userId: accountIdField, role }), failure: "The role could not be changed. Try again." },
  async (input, request) => {
    const outcome = await changeRole({ ...request, ...input });
    switch (outcome.status) {
      case "changed":
        return { status: "done", message: `${outcome.username} is now ${roleName(outcome.role.to)}; their sessions have ended.` };
      case "unchanged":
        return { status: "done", message: `${outcome.username} is already ${roleName(outcome.role)}; nothing changed.` };
      case "last_admin":
        return { status: "error", message: `${outcome.username} is the last active admin. Make another account an admin first.` };
      case "not_found":
        return NOT_FOUND;
    }
  },
);

export const lockAccountAction = adminAction(
  { ...USERS, name: "lock action", schema: reasonForm, failure: "The account could not be locked. Try again." },
  async (input, request) => {
    const outcome = await lockAccount({ ...request, ...input });
    switch (outcome.status) {
      case "locked":
        return { status: "done", message: `Locked ${outcome.username}; their sessions have ended.` };
      case "already_locked":
        return { status: "done", message: `${outcome.username} is already locked; nothing changed.` };
      case "own_account":
        return { status: "error", message: "You cannot lock your own account." };
      case "last_admin":
        return { status: "error", message: `${outcome.username} is the last active admin and cannot be locked.` };
      case "not_found":
        return NOT_FOUND;
    }
  },
);

function endedMessage(outcome: EndSessionsOutcome, what: "one" | "all"): UserActionState {
  switch (outcome.status) {
    case "ended":
      return { status: "done", message: `Ended ${outcome.ended === 1 ? "1 session" : `${outcome.ended} sessions`} of ${outcome.username}.` };
    case "none":
      return {
        status: "done",
        message: what === "one" ? `That session of ${outcome.username} has already ended; nothing changed.` : `${outcome.username} has no active sessions; nothing changed.`,
      };
    case "forbidden":
      // Demoted or locked between the session check and the transaction.
      return { status: "refused", reason: "not_admin", message: USERS.refusal };
    case "not_found":
      return NOT_FOUND;
  }
}

export const endSessionAction = adminAction(
  {
    ...USERS,
    name: "end session action",
    schema: z.object({ userId: accountIdField, sessionId: sessionIdField, reason: adminReasonSchema }),
    failure: "The session could not be ended. Try again.",
  },
  async ({ userId, sessionId, reason }, request) =>
    endedMessage(await endSessionsAsAdmin({ ...request, userId, scope: { kind: "one", sessionId }, reason }), "one"),
);

export const endAllSessionsAction = adminAction(
  { ...USERS, name: "end all sessions action", schema: reasonForm, failure: "The sessions could not be ended. Try again." },
  async ({ userId, reason }, request) => endedMessage(await endSessionsAsAdmin({ ...request, userId, scope: { kind: "all" }, reason }), "all"),
);
