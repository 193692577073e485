import "server-only";
import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { getCurrentUserSession } from "@/lib/auth/session";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import type { FormSchema } from "./form";
import { runAdminAction, runUserAction, type ActionCall, type AdminActionSpec, type AdminRun, type UserActionSpec, type UserRun } from "./run";
import type { FormAction } from "./state";

// Cross-origin requests never get here: server.ts refuses them before Next.js sees them.
async function callFrom(form: FormData): Promise<ActionCall> {
  const context = requestContextFromHeaders(await headers());
  return { caller: await getCurrentUserSession(), context, form, revalidate: (path) => revalidatePath(path) };
}

/**
 * A server action for admins: the session and the role checked against the database, a
 * non-admin refused with an `access_denied` row, the form parsed by `spec.schema`, then `run`,
 * its known errors mapped to messages and the rest logged, then `spec.revalidate`.
 */
export function adminAction<S extends FormSchema, Field extends string = never>(spec: AdminActionSpec<S, Field>, run: AdminRun<S, Field>): FormAction<Field> {
  return async (_previous, form) => runAdminAction(spec, run, await callFrom(form));
}

/** The same for a signed-in user's own actions (Your sessions): any live session may run it. */
export function userAction<S extends FormSchema, Field extends string = never>(spec: UserActionSpec<S, Field>, run: UserRun<S, Field>): FormAction<Field> {
  return async (_previous, form) => runUserAction(spec, run, await callFrom(form));
}
