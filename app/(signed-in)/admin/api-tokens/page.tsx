import type { Metadata } from "next";
import { CreateTokenForm } from "@/components/api-tokens/create-token-form";
import { TokensTable } from "@/components/api-tokens/tokens-table";
import { listApiTokens } from "@/lib/api/tokens";
import { requireAdmin } from "@/lib/auth/session";
import { logServerError } from "@/lib/server-log";
import { createTokenAction, revokeTokenAction } from "./actions";

export const metadata: Metadata = { title: "API tokens" };

async function loadTokens() {
  try {
    return await listApiTokens();
  } catch (error) {
    logServerError("API tokens page could not be loaded", error);
    return undefined;
  }
}

export default async function ApiTokensPage() {
  await requireAdmin();
  const tokens = await loadTokens();
  return (
    <main className="mx-auto max-w-7xl space-y-6 p-4 sm:p-6">
      <h1 className="text-2xl font-semibold">API tokens</h1>
      <p className="max-w-3xl text-sm text-slate-700">
        Tokens let a SIEM or a script read the account log from <code>/api/v1/account-logs</code> (scope <code>logs:read</code>), or a
        monitoring system scrape <code>/metrics</code> (scope <code>metrics:read</code>). Send one as <code>Authorization: Bearer …</code>.
        Creating and revoking a token are logged; see docs/integrations.md for the API.
      </p>
      <CreateTokenForm action={createTokenAction} />
      <section aria-labelledby="token-list-heading" className="space-y-3">
        <h2 id="token-list-heading" className="text-lg font-semibold">
          Tokens
        </h2>
        {!tokens ? (
          <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900" data-testid="load-error">
            The tokens could not be loaded right now. Try again in a moment.
          </p>
        ) : tokens.length === 0 ? (
          <p className="rounded border border-slate-200 bg-white p-4 text-slate-700">No API token yet.</p>
        ) : (
          <TokensTable tokens={tokens} now={new Date()} revoke={revokeTokenAction} />
        )}
      </section>
    </main>
  );
}
