"use server";

import { adminAction } from "@/lib/actions/action";
import { UNLOCK_FORM, unlockFromForm } from "@/lib/actions/unlock";

// Actions both admin pages offer: Account Logs and Users unlock alike.
export const unlockAccountAction = adminAction(UNLOCK_FORM, unlockFromForm);
