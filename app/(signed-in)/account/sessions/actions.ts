"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { z } from "zod";
import { isSameOriginRequest } from "@/lib/auth/same-origin";
import { getCurrentUserSession } from "@/lib/auth/session";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import { logServerError } from "@/lib/server-log";
import { endOwnSessions, type EndSessionsOutcome } from "@/lib/sessions/end";

/** What the Your sessions page shows after an action. */
export type SessionActionState = { status: "idle" | "success" | "error"; message: string };

const REFUSED_ORIGIN: SessionActionState = { status: "error", message: "Refused: the request did not come from this site." };
const SIGNED_OUT: SessionActionState = { status: "error", message: "Your session has ended. Sign in again." };

const sessionId = z.coerce.number().int().positive().max(2 ** 31 - 1);

/** The same-origin check, then the session itself from the database: only its owner acts on it. */
async function authorize() {
  const requestHeaders = await headers();
  if (!isSameOriginRequest(requestHeaders)) return REFUSED_ORIGIN;
  const current = await getCurrentUserSession();
  if (!current) return SIGNED_OUT;
  return { ...current, context: requestContextFromHeaders(requestHeaders) };
}

function message(outcome: EndSessionsOutcome, what: "one" | "others"): SessionActionState {
  switch (outcome.status) {
    case "ended":
      return { status: "success", message: what === "one" ? "Ended that session." : `Ended ${outcome.ended === 1 ? "1 other session" : `${outcome.ended} other sessions`}.` };
    case "none":
      return { status: "success", message: what === "one" ? "That session had already ended; nothing changed." : "You have no other active sessions; nothing changed." };
    case "not_found":
    case "forbidden":
      return SIGNED_OUT;
  }
}

export async function endOwnSessionAction(_previous: SessionActionState, form: FormData): Promise<SessionActionState> {
  const authorized = await authorize();
  if ("status" in authorized) return authorized;
  const input = sessionId.safeParse(form.get("sessionId"));
  if (!input.success) return { status: "error", message: "That is not a valid session." };
  if (input.data === authorized.sessionId) return { status: "error", message: "This is the session you are using: sign out to end it." };
  try {
    const outcome = await endOwnSessions({ ...authorized, scope: { kind: "one", sessionId: input.data } });
    revalidatePath("/account/sessions");
    return message(outcome, "one");
  } catch (error) {
    logServerError("ending an own session failed", error, { userId: authorized.user.id });
    return { status: "error", message: "The session could not be ended. Try again." };
  }
}

export async function endOtherSessionsAction(): Promise<SessionActionState> {
  const authorized = await authorize();
  if ("status" in authorized) return authorized;
  try {
    const outcome = await endOwnSessions({ ...authorized, scope: { kind: "others", keepSessionId: authorized.sessionId } });
    revalidatePath("/account/sessions");
    return message(outcome, "others");
  } catch (error) {
    logServerError("ending other own sessions failed", error, { userId: authorized.user.id });
    return { status: "error", message: "The sessions could not be ended. Try again." };
  }
}
