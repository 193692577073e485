import type { z } from "zod";
import { recordAccessDeniedOrLog } from "@/lib/account-log/access-denied";
import type { CurrentUser } from "@/lib/auth/session";
import type { RequestContext } from "@/lib/client/request-context";
import { logServerError } from "@/lib/server-log";
import type { CheckedSession } from "@/lib/sessions/queries";
import type { AdminRequest } from "@/lib/users/admin";
import { keptValues, knownErrorState, loggableIds, parseForm, type FormSchema } from "./form";
import type { ActionState } from "./state";

export const SIGNED_OUT_MESSAGE = "Your session has ended. Sign in again.";

/** A signed-in user's own action: who they are, the session they are using, where the request came from. */
export type UserRequest = { user: CurrentUser; sessionId: number; context: RequestContext };

type FormSpec<S extends FormSchema, Field extends string> = {
  /** Names the action in an `access_denied` row and in the server log ("unlock action"). */
  name: string;
  schema: S;
  /** The fields the person types, which a message may point at; the rest are hidden IDs. */
  fields?: readonly Field[];
  /** Fields whose typed value goes back into the form after an error. Never a password. */
  keep?: readonly Field[];
  /** Shown when the domain call fails unexpectedly; the error itself stays in the server log. */
  failure: string;
  /** The pages the action changes, revalidated once the domain call has returned. */
  revalidate: readonly string[];
};

export type AdminActionSpec<S extends FormSchema, Field extends string> = FormSpec<S, Field> & {
  /** Shown to a signed-in user who is not an admin. */
  refusal: string;
};

export type UserActionSpec<S extends FormSchema, Field extends string> = FormSpec<S, Field>;

export type AdminRun<S extends FormSchema, Field extends string> = (input: z.output<S>, request: AdminRequest) => Promise<ActionState<Field>>;
export type UserRun<S extends FormSchema, Field extends string> = (input: z.output<S>, request: UserRequest) => Promise<ActionState<Field>>;

/** One request to an action: the caller as the database has them now, and the form. */
export type ActionCall = {
  /** From `checkSessionRecord`: the session is live and the role is the database's, not the cookie's. */
  caller: CheckedSession | undefined;
  context: RequestContext;
  form: FormData;
  revalidate: (path: string) => void;
};

const signedOut = { status: "refused", reason: "signed_out", message: SIGNED_OUT_MESSAGE } as const;

/**
 * An admin's form action: authorize → parse → run → revalidate. A signed-in non-admin is
 * refused with an `access_denied` row naming the action (aggregated past the per-user limit);
 * a caller without a live session with a server log line.
 */
export async function runAdminAction<S extends FormSchema, Field extends string>(
  spec: AdminActionSpec<S, Field>,
  run: AdminRun<S, Field>,
  call: ActionCall,
): Promise<ActionState<Field>> {
  const { caller, context } = call;
  if (caller?.user.role !== "admin") {
    await recordAccessDeniedOrLog({ user: caller?.user, resource: spec.name, context });
    return caller ? { status: "refused", reason: "not_admin", message: spec.refusal } : signedOut;
  }
  return parseAndRun(spec, (input) => run(input, { admin: caller.user, context }), caller.user, call);
}

/** A signed-in user's action on their own account: the same steps, for any live session. */
export async function runUserAction<S extends FormSchema, Field extends string>(
  spec: UserActionSpec<S, Field>,
  run: UserRun<S, Field>,
  call: ActionCall,
): Promise<ActionState<Field>> {
  const { caller, context } = call;
  if (!caller) return signedOut;
  return parseAndRun(spec, (input) => run(input, { ...caller, context }), caller.user, call);
}

async function parseAndRun<S extends FormSchema, Field extends string>(
  spec: FormSpec<S, Field>,
  run: (input: z.output<S>) => Promise<ActionState<Field>>,
  actor: CurrentUser,
  { form, revalidate }: ActionCall,
): Promise<ActionState<Field>> {
  const fields = spec.fields ?? [];
  const keep = (state: ActionState<Field>): ActionState<Field> =>
    state.status === "error" && spec.keep?.length ? { ...state, values: keptValues(form, spec.keep) } : state;

  const parsed = parseForm(spec.schema, form, fields);
  if (!parsed.ok) return keep(parsed.state);
  let state: ActionState<Field>;
  try {
    state = await run(parsed.input);
  } catch (error) {
    const known = knownErrorState(error, fields);
    if (known) return keep(known);
    logServerError(`${spec.name} failed`, error, { actorId: actor.id, ...loggableIds(parsed.input) });
    return keep({ status: "error", message: spec.failure });
  }
  for (const path of spec.revalidate) revalidate(path);
  return keep(state);
}
