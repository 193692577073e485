"use server";

import { z } from "zod";
import { userAction } from "@/lib/actions/action";
import { sessionIdField } from "@/lib/actions/form";
import { SIGNED_OUT_MESSAGE } from "@/lib/actions/run";
import type { SessionActionState } from "@/lib/actions/state";
import { endOwnSessions, type EndSessionsOutcome } from "@/lib/sessions/end";

const REVALIDATE = ["/account/sessions"];

function message(outcome: EndSessionsOutcome, what: "one" | "others"): SessionActionState {
  switch (outcome.status) {
    case "ended":
      return { status: "done", message: what === "one" ? "Ended that session." : `Ended ${outcome.ended === 1 ? "1 other session" : `${outcome.ended} other sessions`}.` };
    case "none":
      return { status: "done", message: what === "one" ? "That session had already ended; nothing changed." : "You have no other active sessions; nothing changed." };
    case "not_found":
    case "forbidden":
      return { status: "refused", reason: "signed_out", message: SIGNED_OUT_MESSAGE };
  }
}

export const endOwnSessionAction = userAction(
  { name: "end own session action", schema: z.object({ sessionId: sessionIdField }), failure: "The session could not be ended. Try again.", revalidate: REVALIDATE },
  async ({ sessionId }, request) => {
    if (sessionId === request.sessionId) return { status: "error", message: "This is the session you are using: sign out to end it." };
    return message(await endOwnSessions({ ...request, scope: { kind: "one", sessionId } }), "one");
  },
);

export const endOtherSessionsAction = userAction(
  { name: "end other sessions action", schema: z.object({}), failure: "The sessions could not be ended. Try again.", revalidate: REVALIDATE },
  async (_input, request) => message(await endOwnSessions({ ...request, scope: { kind: "others", keepSessionId: request.sessionId } }), "others"),
);
