"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { unlockAccount } from "@/lib/account-log/unlock";
import { isSameOriginRequest } from "@/lib/auth/same-origin";
import { getCurrentUser, recordDeniedAdminRequest } from "@/lib/auth/session";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import { logServerError } from "@/lib/server-log";

/** `field` names the input an error is about, so the form can point at it. */
export type UnlockActionState = { status: "idle" | "success" | "error"; message: string; field?: "reason" };

const unlockInput = z.object({ userId: z.coerce.number().int().positive().max(2 ** 31 - 1), reason: adminReasonSchema });

export async function unlockAccountAction(_previous: UnlockActionState, form: FormData): Promise<UnlockActionState> {
  // Authorize first: this action is reachable by anyone who can send a POST.
  const requestHeaders = await headers();
  if (!isSameOriginRequest(requestHeaders)) return { status: "error", message: "Refused: the request did not come from this site." };
  const admin = await getCurrentUser();
  if (admin?.role !== "admin") {
    // Anonymous callers never get here (middleware turns them away, with a server log line).
    if (admin) await recordDeniedAdminRequest(admin, "unlock action");
    return { status: "error", message: "Only administrators can unlock accounts." };
  }

  const input = unlockInput.safeParse({ userId: form.get("userId"), reason: form.get("reason") ?? "" });
  if (!input.success) {
    const issue = input.error.issues[0]!;
    if (issue.path[0] === "reason") return { status: "error", message: issue.message, field: "reason" };
    return { status: "error", message: "That is not a valid account." };
  }

  try {
    const { userId, reason } = input.data;
    const outcome = await unlockAccount({ userId, reason, admin, context: requestContextFromHeaders(requestHeaders) });
    revalidatePath("/admin/account-logs");
    revalidatePath("/admin/users");
    if (outcome.status === "unlocked") return { status: "success", message: `Unlocked ${outcome.username}.` };
    if (outcome.status === "not_locked") return { status: "success", message: `${outcome.username} is not locked; nothing changed.` };
    return { status: "error", message: "That account no longer exists." };
  } catch (error) {
    logServerError("unlock failed", error, { userId: input.data.userId, adminId: admin.id });
    return { status: "error", message: "The account could not be unlocked. Try again." };
  }
}
