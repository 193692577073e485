import { z } from "zod";
import { UserInputError, UsernameTakenError } from "@/lib/users/errors";
import type { ActionState } from "./state";

/** An action's form: named fields, each read as a string. */
export type FormSchema = z.ZodObject;

/** The most a typed value put back into a form keeps; no field of ours is longer. */
const KEPT_VALUE_MAX_LENGTH = 256;

/**
 * A hidden ID field: form values are strings, so it is coerced; whatever is wrong with it, the
 * message is `message`, since the ID was never the person's typing.
 */
export function formId(message: string) {
  return z.coerce
    .number({ error: message })
    .int({ error: message })
    .positive({ error: message })
    .max(2 ** 31 - 1, { error: message });
}

export const accountIdField = formId("That is not a valid account.");
export const sessionIdField = formId("That is not a valid session.");

/** The schema's fields from the form, as strings: a missing field, or a file where text was expected, is "". */
export function formFields(schema: FormSchema, form: FormData): Record<string, string> {
  return Object.fromEntries(
    Object.keys(schema.shape).map((name) => {
      const value = form.get(name);
      return [name, typeof value === "string" ? value : ""];
    }),
  );
}

export type ParsedForm<T, Field extends string> = { ok: true; input: T } | { ok: false; state: ActionState<Field> };

/**
 * The form parsed by its schema, or its first problem as an error state: pointed at the field
 * when it is one of `fields` (what the person typed), the schema's own message either way.
 */
export function parseForm<S extends FormSchema, Field extends string>(schema: S, form: FormData, fields: readonly Field[]): ParsedForm<z.output<S>, Field> {
  const parsed = schema.safeParse(formFields(schema, form));
  if (parsed.success) return { ok: true, input: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, state: errorOn(issue?.message ?? "The form could not be read.", issue?.path[0], fields) };
}

/**
 * The state for an error the domain threw on purpose, whose message is written for the person
 * at the form (input the rules refuse, a name in use); undefined for anything else, which is
 * unexpected and must not reach the client.
 */
export function knownErrorState<Field extends string>(error: unknown, fields: readonly Field[]): ActionState<Field> | undefined {
  if (error instanceof UserInputError || error instanceof UsernameTakenError) return errorOn(error.message, error.field, fields);
  return undefined;
}

/** What the person typed in `keep`, to put back into the form after an error. */
export function keptValues<Field extends string>(form: FormData, keep: readonly Field[]): Partial<Record<Field, string>> {
  const values: Partial<Record<Field, string>> = {};
  for (const name of keep) {
    const value = form.get(name);
    if (typeof value === "string") values[name] = value.slice(0, KEPT_VALUE_MAX_LENGTH);
  }
  return values;
}

/** The input fields safe to name in a server log line: the IDs. Text may be a password or a reason. */
export function loggableIds(input: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(input).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

function errorOn<Field extends string>(message: string, path: unknown, fields: readonly Field[]): ActionState<Field> {
  const field = fields.find((name) => name === path);
  return { status: "error", message, ...(field !== undefined && { field }) };
}
