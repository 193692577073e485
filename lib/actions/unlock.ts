import { z } from "zod";
import { adminReasonSchema } from "@/lib/account-log/reason";
import { unlockAccount, type UnlockOutcome } from "@/lib/account-log/unlock";
import type { AdminRequest } from "@/lib/users/admin";
import { accountIdField } from "./form";
import type { AdminActionSpec } from "./run";
import type { UnlockActionState } from "./state";

// One unlock for both admin pages (Account Logs and Users): one form, one set of messages.

const unlockFormSchema = z.object({ userId: accountIdField, reason: adminReasonSchema });

export const UNLOCK_FORM: AdminActionSpec<typeof unlockFormSchema, "reason"> = {
  name: "unlock action",
  refusal: "Only administrators can unlock accounts.",
  schema: unlockFormSchema,
  fields: ["reason"],
  failure: "The account could not be unlocked. Try again.",
  revalidate: ["/admin/account-logs", "/admin/users"],
};

export function unlockMessage(outcome: UnlockOutcome): UnlockActionState {
  switch (outcome.status) {
    case "unlocked":
      return { status: "done", message: `Unlocked ${outcome.username}.` };
    case "not_locked":
      return { status: "done", message: `${outcome.username} is not locked; nothing changed.` };
    case "not_found":
      return { status: "error", message: "That account no longer exists." };
  }
}

export async function unlockFromForm({ userId, reason }: z.output<typeof unlockFormSchema>, request: AdminRequest): Promise<UnlockActionState> {
  return unlockMessage(await unlockAccount({ ...request, userId, reason }));
}
