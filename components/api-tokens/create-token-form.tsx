"use client";

import { useActionState, useId } from "react";
import { IDLE, type FormAction, type TokenFormField } from "@/lib/actions/state";
import { ActionMessage } from "@/components/users/action-message";
import { fieldInputClass } from "@/components/forms/form-parts";

type Props = { action: FormAction<TokenFormField> };

/** Name, scope and expiry; the new token is shown once below the form, to copy. Works without JavaScript. */
export function CreateTokenForm({ action }: Props) {
  const id = useId();
  const [state, formAction, pending] = useActionState(action, IDLE);
  const messageId = `${id}-message`;
  const invalid = (field: TokenFormField) => state.status === "error" && state.field === field;
  const describedBy = (field: TokenFormField, hint?: string) => [hint, invalid(field) ? messageId : undefined].filter(Boolean).join(" ") || undefined;
  return (
    <section aria-labelledby={`${id}-heading`} className="rounded border border-slate-200 bg-white p-4">
      <h2 id={`${id}-heading`} className="text-lg font-semibold">
        Create a token
      </h2>
      <form action={formAction} className="mt-3 grid gap-3 sm:grid-cols-[2fr_1.5fr_1fr_auto] sm:items-end">
        <div>
          <label htmlFor={`${id}-name`} className="block text-sm font-medium">
            Name
          </label>
          <input
            id={`${id}-name`}
            name="name"
            type="text"
            required
            maxLength={100}
            autoComplete="off"
            placeholder="Splunk forwarder"
            defaultValue={state.status === "error" ? state.values?.name : undefined}
            aria-invalid={invalid("name") || undefined}
            aria-describedby={describedBy("name")}
            className={fieldInputClass}
          />
        </div>
        <div>
          <label htmlFor={`${id}-scope`} className="block text-sm font-medium">
            Scope
          </label>
          <select id={`${id}-scope`} name="scope" defaultValue="logs:read" aria-invalid={invalid("scope") || undefined} aria-describedby={describedBy("scope")} className={fieldInputClass}>
            <option value="logs:read">logs:read (read the account log)</option>
            <option value="metrics:read">metrics:read (scrape /metrics)</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-expires`} className="block text-sm font-medium">
            Expires after (days)
          </label>
          <input
            id={`${id}-expires`}
            name="expiresDays"
            type="number"
            min={1}
            max={3650}
            inputMode="numeric"
            placeholder="never"
            aria-invalid={invalid("expiresDays") || undefined}
            aria-describedby={describedBy("expiresDays")}
            className={fieldInputClass}
          />
        </div>
        <button
          type="submit"
          disabled={pending}
          className="rounded bg-blue-700 px-4 py-1.5 font-medium text-white hover:bg-blue-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:opacity-60"
        >
          {pending ? "Creating…" : "Create token"}
        </button>
      </form>
      <ActionMessage id={messageId} state={state} />
      {state.status === "done" && state.reveal && (
        <div className="mt-2 rounded border border-amber-300 bg-amber-50 p-3">
          <label htmlFor={`${id}-token`} className="block text-sm font-medium">
            New token
          </label>
          <input
            id={`${id}-token`}
            readOnly
            value={state.reveal}
            data-testid="new-token"
            onFocus={(event) => event.currentTarget.select()}
            className="mt-1 w-full rounded border border-slate-300 bg-white px-3 py-1.5 font-mono text-sm"
          />
          <p className="mt-1 text-xs text-slate-700">Only its hash is kept: if it is lost, revoke it and create another.</p>
        </div>
      )}
    </section>
  );
}
