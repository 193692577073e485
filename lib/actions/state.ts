/**
 * What a form shows after its server action: nothing yet, what was done, a refusal (signed out,
 * or not an admin), or an error the person can act on, pointing at the field it is about and
 * carrying the values to put back into the form (never a password).
 */
export type ActionState<Field extends string = never> =
  | { status: "idle" }
  | { status: "done"; message: string; /** A secret shown this once (a new API token); never stored on the client beyond this state. */ reveal?: string }
  | { status: "refused"; reason: "signed_out" | "not_admin"; message: string }
  | { status: "error"; message: string; field?: Field; values?: Partial<Record<Field, string>> };

/** A server action as `useActionState` calls it. */
export type FormAction<Field extends string = never> = (previous: ActionState<Field>, form: FormData) => Promise<ActionState<Field>>;

export const IDLE: ActionState = { status: "idle" };

/** The fields of the Users page's forms. */
export type UserFormField = "username" | "password" | "role" | "reason";

export type UserActionState = ActionState<UserFormField>;

/** Unlock asks for a reason, from the Account Logs page and the Users page alike. */
export type UnlockActionState = ActionState<"reason">;

/** The API tokens page's create form. */
export type TokenFormField = "name" | "scope" | "expiresDays";

/** The Log streams page's add form. */
export type StreamFormField = "name" | "url" | "format" | "headers" | "ca" | "clientCert" | "clientKey";

/** The Log streams page's alert rule form. */
export type AlertRuleFormField = "name" | "events" | "webhookUrl" | "emailTo";

/** A stream's replay: from a position or a time. */
export type ReplayFormField = "from";

/** Your sessions: buttons only, no fields. */
export type SessionActionState = ActionState;

/** Whether a state is a refusal or an error, shown as a problem rather than as done. */
export function isProblem(state: ActionState<string> | undefined): boolean {
  return state?.status === "error" || state?.status === "refused";
}
