import { getDb } from "@/db";
import type { CurrentUser } from "@/lib/auth/session";
import { requestMetadata, type RequestContext } from "@/lib/client/request-context";
import { logServerInfo } from "@/lib/server-log";
import { appendAccountLog } from "./record";

/**
 * A refused request for log data or an admin action. A signed-in user's refusal is a log row
 * (`access_denied`, naming what was asked for); an anonymous one only a server log line, so
 * anonymous requests cannot grow the audit trail.
 */
export async function recordAccessDenied({
  user,
  resource,
  context,
}: {
  user: Pick<CurrentUser, "id" | "username"> | undefined;
  resource: string;
  context: RequestContext;
}): Promise<void> {
  if (!user) {
    logServerInfo("access denied", { resource, ip: context.ip ?? null, signedIn: false });
    return;
  }
  const db = await getDb();
  await appendAccountLog(db, [
    { username: user.username, userId: user.id, result: "access_denied", ip: context.ip ?? null, metadata: { ...requestMetadata(context), resource } },
  ]);
}
