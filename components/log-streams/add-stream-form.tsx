"use client";

import type { FormAction, StreamFormField } from "@/lib/actions/state";
import { fieldInputClass, RevealedSecret, SubmitButton } from "@/components/forms/form-parts";
import { useFieldForm } from "@/components/forms/use-field-form";
import { ActionMessage } from "@/components/users/action-message";

/** A webhook destination: name, URL, format, custom headers and an optional CA; the signing secret is shown once. */
export function AddStreamForm({ action }: { action: FormAction<StreamFormField> }) {
  const { id, state, formAction, pending, messageId, invalid, describedBy, kept } = useFieldForm(action);
  return (
    <section aria-labelledby={`${id}-heading`} className="rounded border border-slate-200 bg-white p-4">
      <h2 id={`${id}-heading`} className="text-lg font-semibold">
        Add a webhook
      </h2>
      <form action={formAction} className="mt-3 grid gap-3 sm:grid-cols-[1fr_2fr_auto]">
        <div>
          <label htmlFor={`${id}-name`} className="block text-sm font-medium">
            Name
          </label>
          <input id={`${id}-name`} name="name" required maxLength={100} autoComplete="off" placeholder="Splunk HEC" defaultValue={kept?.name} aria-invalid={invalid("name") || undefined} aria-describedby={describedBy("name")} className={fieldInputClass} />
        </div>
        <div>
          <label htmlFor={`${id}-url`} className="block text-sm font-medium">
            URL
          </label>
          <input
            id={`${id}-url`}
            name="url"
            type="url"
            required
            maxLength={2048}
            placeholder="https://splunk.example.com:8088/services/collector/raw"
            defaultValue={kept?.url}
            aria-invalid={invalid("url") || undefined}
            aria-describedby={describedBy("url", `${id}-url-hint`)}
            className={fieldInputClass}
          />
          <p id={`${id}-url-hint`} className="mt-1 text-xs text-slate-600">
            HTTPS, or plain HTTP to this machine. Redirects are not followed.
          </p>
        </div>
        <div>
          <label htmlFor={`${id}-format`} className="block text-sm font-medium">
            Format
          </label>
          <select id={`${id}-format`} name="format" defaultValue="json" className={fieldInputClass}>
            <option value="json">JSON rows</option>
            <option value="ocsf">OCSF</option>
            <option value="ecs">ECS</option>
          </select>
        </div>
        <div className="sm:col-span-2">
          <label htmlFor={`${id}-headers`} className="block text-sm font-medium">
            Custom headers (optional, one per line)
          </label>
          <textarea
            id={`${id}-headers`}
            name="headers"
            rows={2}
            spellCheck={false}
            placeholder="Authorization: Splunk 1234-abcd"
            defaultValue={kept?.headers}
            aria-invalid={invalid("headers") || undefined}
            aria-describedby={describedBy("headers", `${id}-headers-hint`)}
            className={`${fieldInputClass} font-mono text-sm`}
          />
          <p id={`${id}-headers-hint`} className="mt-1 text-xs text-slate-600">
            Kept encrypted; never shown again.
          </p>
        </div>
        <div>
          <label htmlFor={`${id}-ca`} className="block text-sm font-medium">
            Trusted CA (optional, PEM)
          </label>
          <textarea id={`${id}-ca`} name="ca" rows={2} spellCheck={false} aria-invalid={invalid("ca") || undefined} aria-describedby={describedBy("ca")} className={`${fieldInputClass} font-mono text-xs`} />
        </div>
        <div className="sm:col-span-3">
          <SubmitButton pending={pending} label="Add webhook" pendingLabel="Adding…" />
        </div>
      </form>
      <ActionMessage id={messageId} state={state} />
      {state.status === "done" && state.reveal && (
        <RevealedSecret id={`${id}-secret`} label="Signing secret" value={state.reveal} testId="new-secret">
          <p className="mt-1 text-xs text-slate-700">
            The receiver checks <code>webhook-signature</code> with it (Standard Webhooks: HMAC-SHA256 over <code>webhook-id.webhook-timestamp.body</code>).
          </p>
        </RevealedSecret>
      )}
    </section>
  );
}

/** A syslog destination (RFC 5425 over TLS, or plain TCP inside the network): name, URL, format, an optional CA and client certificate. */
export function AddSyslogForm({ action }: { action: FormAction<StreamFormField> }) {
  const { id, state, formAction, pending, messageId, invalid, describedBy, kept } = useFieldForm(action);
  const pem = (field: "ca" | "clientCert" | "clientKey", label: string) => (
    <div>
      <label htmlFor={`${id}-${field}`} className="block text-sm font-medium">
        {label}
      </label>
      <textarea id={`${id}-${field}`} name={field} rows={2} spellCheck={false} aria-invalid={invalid(field) || undefined} aria-describedby={describedBy(field)} className={`${fieldInputClass} font-mono text-xs`} />
    </div>
  );
  return (
    <section aria-labelledby={`${id}-heading`} className="rounded border border-slate-200 bg-white p-4">
      <h2 id={`${id}-heading`} className="text-lg font-semibold">
        Add a syslog destination
      </h2>
      <form action={formAction} className="mt-3 grid gap-3 sm:grid-cols-[1fr_2fr_auto]">
        <div>
          <label htmlFor={`${id}-name`} className="block text-sm font-medium">
            Name
          </label>
          <input id={`${id}-name`} name="name" required maxLength={100} autoComplete="off" placeholder="SIEM collector" defaultValue={kept?.name} aria-invalid={invalid("name") || undefined} aria-describedby={describedBy("name")} className={fieldInputClass} />
        </div>
        <div>
          <label htmlFor={`${id}-url`} className="block text-sm font-medium">
            URL
          </label>
          <input
            id={`${id}-url`}
            name="url"
            required
            maxLength={2048}
            spellCheck={false}
            placeholder="tls://syslog.example.com:6514"
            defaultValue={kept?.url}
            aria-invalid={invalid("url") || undefined}
            aria-describedby={describedBy("url", `${id}-url-hint`)}
            className={fieldInputClass}
          />
          <p id={`${id}-url-hint`} className="mt-1 text-xs text-slate-600">
            tls:// (RFC 5425, port 6514), or tcp:// to this machine or your network. RFC 5424 messages, octet-counted.
          </p>
        </div>
        <div>
          <label htmlFor={`${id}-format`} className="block text-sm font-medium">
            Format
          </label>
          <select id={`${id}-format`} name="format" defaultValue="cef" className={fieldInputClass}>
            <option value="cef">CEF</option>
            <option value="json">JSON rows</option>
            <option value="ocsf">OCSF</option>
            <option value="ecs">ECS</option>
          </select>
        </div>
        {pem("ca", "Trusted CA (optional, PEM)")}
        {pem("clientCert", "Client certificate (optional, PEM)")}
        {pem("clientKey", "Client key (with the certificate, PEM)")}
        <div className="sm:col-span-3">
          <SubmitButton pending={pending} label="Add syslog destination" pendingLabel="Adding…" />
        </div>
      </form>
      <ActionMessage id={messageId} state={state} />
    </section>
  );
}
