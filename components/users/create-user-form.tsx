"use client";

import { useActionState, useId } from "react";
import { IDLE, type FormAction, type UserFormField } from "@/lib/actions/state";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH } from "@/lib/users/limits";
import { ActionMessage } from "./action-message";
import { fieldInputClass } from "@/components/forms/form-parts";

type Props = { action: FormAction<UserFormField> };

/** The server action is the form's action itself, so the form also works without JavaScript. */
export function CreateUserForm({ action }: Props) {
  const id = useId();
  const [state, formAction, pending] = useActionState(action, IDLE);
  const messageId = `${id}-message`;
  const invalid = (field: UserFormField) => state.status === "error" && state.field === field;
  const describedBy = (field: UserFormField, hint?: string) => [hint, invalid(field) ? messageId : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <section aria-labelledby={`${id}-heading`} className="rounded border border-slate-200 bg-white p-4">
      <h2 id={`${id}-heading`} className="text-lg font-semibold">
        Create a user
      </h2>
      <form action={formAction} className="mt-3 grid gap-3 sm:grid-cols-[1fr_1fr_auto_auto] sm:items-end">
        <div>
          <label htmlFor={`${id}-username`} className="block text-sm font-medium">
            Username
          </label>
          <input
            id={`${id}-username`}
            name="username"
            type="text"
            required
            maxLength={USERNAME_MAX_LENGTH}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            defaultValue={state.status === "error" ? state.values?.username : undefined}
            aria-invalid={invalid("username") || undefined}
            aria-describedby={describedBy("username")}
            className={fieldInputClass}
          />
        </div>
        <div>
          <label htmlFor={`${id}-password`} className="block text-sm font-medium">
            Password
          </label>
          <input
            id={`${id}-password`}
            name="password"
            type="password"
            required
            minLength={PASSWORD_MIN_LENGTH}
            maxLength={PASSWORD_MAX_LENGTH}
            autoComplete="new-password"
            aria-invalid={invalid("password") || undefined}
            aria-describedby={describedBy("password", `${id}-password-hint`)}
            className={fieldInputClass}
          />
          <p id={`${id}-password-hint`} className="mt-1 text-xs text-slate-600">
            At least {PASSWORD_MIN_LENGTH} characters. Tell it to the user yourself; it is never shown again.
          </p>
        </div>
        <div>
          <label htmlFor={`${id}-role`} className="block text-sm font-medium">
            Role
          </label>
          <select
            id={`${id}-role`}
            name="role"
            defaultValue="user"
            aria-invalid={invalid("role") || undefined}
            aria-describedby={describedBy("role")}
            className={fieldInputClass}
          >
            <option value="user">User</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <button
          type="submit"
          disabled={pending}
          className="rounded bg-blue-700 px-4 py-1.5 font-medium text-white hover:bg-blue-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60 sm:mb-5"
        >
          {pending ? "Creating…" : "Create user"}
        </button>
      </form>
      <ActionMessage id={messageId} state={state} />
    </section>
  );
}
