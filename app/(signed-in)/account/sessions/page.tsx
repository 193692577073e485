import type { Metadata } from "next";
import { OwnSessions } from "@/components/sessions/own-sessions";
import { requireUserSession } from "@/lib/auth/session";
import { logServerError } from "@/lib/server-log";
import { listActiveSessions } from "@/lib/sessions/queries";
import { endOtherSessionsAction, endOwnSessionAction } from "./actions";

export const metadata: Metadata = { title: "Your sessions" };

async function loadSessions(userId: number) {
  try {
    return await listActiveSessions([userId]);
  } catch (error) {
    logServerError("sessions page could not be loaded", error, { userId });
    return undefined;
  }
}

export default async function YourSessionsPage() {
  const { user, sessionId } = await requireUserSession();
  const sessions = await loadSessions(user.id);
  return (
    <main className="mx-auto max-w-3xl space-y-4 p-4 sm:p-6">
      <h1 className="text-2xl font-semibold">Your sessions</h1>
      <p className="text-sm text-slate-700">
        Where your account is signed in now. End a session you do not recognise, then change your password with an admin. Sessions end by
        themselves after a while without use, and at the latest eight hours after signing in.
      </p>
      {!sessions ? (
        <p className="rounded border border-red-300 bg-red-50 p-3 text-red-900" data-testid="load-error">
          Your sessions could not be loaded right now. Try again in a moment.
        </p>
      ) : (
        <OwnSessions sessions={sessions} currentSessionId={sessionId} actions={{ endOne: endOwnSessionAction, endOthers: endOtherSessionsAction }} />
      )}
    </main>
  );
}
