"use client";

import { useActionState, useId } from "react";
import type { ApiTokenSummary } from "@/lib/api/tokens";
import { IDLE, type FormAction } from "@/lib/actions/state";
import { ActionMessage } from "@/components/users/action-message";
import { LogTime } from "@/components/account-logs/log-time";

type Props = { tokens: ApiTokenSummary[]; now: Date; revoke: FormAction };

function statusOf(token: ApiTokenSummary, now: Date): { label: string; live: boolean } {
  if (token.revokedAt) return { label: "Revoked", live: false };
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return { label: "Expired", live: false };
  return { label: "Active", live: true };
}

const cell = "px-3 py-2 align-top";

/** Every token with its scope, maker, expiry, last use and status; Revoke for live ones. */
export function TokensTable({ tokens, now, revoke }: Props) {
  const id = useId();
  const [state, revokeAction, pending] = useActionState(revoke, IDLE);
  return (
    <div className="space-y-2">
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="min-w-full text-left text-sm" data-testid="api-tokens">
          <thead className="bg-slate-50 text-xs uppercase text-slate-600">
            <tr>
              <th scope="col" className={cell}>Name</th>
              <th scope="col" className={cell}>Token</th>
              <th scope="col" className={cell}>Scope</th>
              <th scope="col" className={cell}>Created</th>
              <th scope="col" className={cell}>Expires</th>
              <th scope="col" className={cell}>Last used</th>
              <th scope="col" className={cell}>Status</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => {
              const status = statusOf(token, now);
              return (
                <tr key={token.id} data-token-id={token.id} className="border-t border-slate-100">
                  <td className={`${cell} font-medium`}>{token.name}</td>
                  <td className={`${cell} font-mono text-xs`}>{token.hint}…</td>
                  <td className={cell}>{token.scopes.join(", ")}</td>
                  <td className={cell}>
                    <LogTime at={token.createdAt} />
                    <span className="block text-xs text-slate-600">by {token.createdBy ?? "command line"}</span>
                  </td>
                  <td className={cell}>{token.expiresAt ? <LogTime at={token.expiresAt} /> : "Never"}</td>
                  <td className={cell}>
                    {token.lastUsedAt ? (
                      <>
                        <LogTime at={token.lastUsedAt} />
                        {token.lastUsedIp && <span className="block text-xs text-slate-600">from {token.lastUsedIp}</span>}
                      </>
                    ) : (
                      "Never"
                    )}
                  </td>
                  <td className={cell}>
                    {status.live ? (
                      <form action={revokeAction} className="flex items-center gap-2">
                        <span className="text-green-800">Active</span>
                        <input type="hidden" name="tokenId" value={token.id} />
                        <button
                          type="submit"
                          disabled={pending}
                          aria-label={`Revoke ${token.name}`}
                          className="rounded border border-red-300 px-2 py-0.5 text-red-800 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-blue-600 disabled:opacity-60"
                        >
                          Revoke
                        </button>
                      </form>
                    ) : (
                      <span className="text-slate-600">
                        {status.label}
                        {token.revokedAt && (
                          <>
                            {" "}
                            <LogTime at={token.revokedAt} />
                          </>
                        )}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ActionMessage id={`${id}-message`} state={state} />
    </div>
  );
}
