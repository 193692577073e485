"use server";

import { z } from "zod";
import { API_TOKEN_SCOPES } from "@/db/schema";
import { adminAction } from "@/lib/actions/action";
import { formId } from "@/lib/actions/form";
import type { ActionState, TokenFormField } from "@/lib/actions/state";
import { createApiToken, revokeApiToken, tokenNameSchema, TOKEN_EXPIRY_DAYS_MAX } from "@/lib/api/tokens";

const TOKENS = {
  refusal: "Only administrators can manage API tokens.",
  fields: ["name", "scope", "expiresDays"] as const satisfies readonly TokenFormField[],
  revalidate: ["/admin/api-tokens", "/admin/account-logs"],
} as const;

// An empty expiry field means no expiry.
const expiresDays = z
  .string()
  .trim()
  .regex(/^\d*$/, "Expiry is a whole number of days, or empty for none.")
  .transform((value) => (value === "" ? undefined : Number(value)))
  .refine((days) => days === undefined || (days >= 1 && days <= TOKEN_EXPIRY_DAYS_MAX), `Expiry is 1 to ${TOKEN_EXPIRY_DAYS_MAX} days, or empty for none.`);

export const createTokenAction = adminAction(
  {
    ...TOKENS,
    name: "create API token action",
    schema: z.object({ name: tokenNameSchema, scope: z.enum(API_TOKEN_SCOPES, { error: "Choose a scope." }), expiresDays }),
    keep: ["name"],
    failure: "The token could not be created. Try again.",
  },
  async ({ name, scope, expiresDays: days }, request): Promise<ActionState<TokenFormField>> => {
    const { token, summary } = await createApiToken({
      actor: { userId: request.admin.id, username: request.admin.username, via: "admin page" },
      context: request.context,
      name,
      scopes: [scope],
      expiresInDays: days,
    });
    return { status: "done", message: `Created the token “${summary.name}”. Copy it now: it is shown this once.`, reveal: token };
  },
);

export const revokeTokenAction = adminAction(
  {
    ...TOKENS,
    fields: [],
    name: "revoke API token action",
    schema: z.object({ tokenId: formId("That is not a valid token.") }),
    failure: "The token could not be revoked. Try again.",
  },
  async ({ tokenId }, request): Promise<ActionState> => {
    const outcome = await revokeApiToken({
      actor: { userId: request.admin.id, username: request.admin.username, via: "admin page" },
      context: request.context,
      tokenId,
    });
    if (outcome.status === "not_found") return { status: "error", message: "That token no longer exists." };
    if (outcome.status === "already_revoked") return { status: "done", message: `“${outcome.name}” was already revoked; nothing changed.` };
    return { status: "done", message: `Revoked “${outcome.name}”. Requests with it are refused from now on.` };
  },
);
