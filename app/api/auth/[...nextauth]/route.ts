import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { recordRejectedSignInRequest } from "@/lib/account-log/sign-in";
import { authOptions } from "@/lib/auth/options";
import { authRequestScope, type AuthRequestScope } from "@/lib/auth/request-scope";
import { hasSessionEnded } from "@/lib/auth/session";
import { requestContextFromHeaders } from "@/lib/client/request-context";
import { env } from "@/lib/env";
import { logServerError } from "@/lib/server-log";

const nextAuth = NextAuth(authOptions);

type RouteContext = { params: Promise<{ nextauth: string[] }> };

/** NextAuth refuses a credentials POST with a bad CSRF token before `authorize` runs. */
async function isCsrfRejection(response: Response): Promise<boolean> {
  const location = response.headers.get("location") ?? "";
  if (location.includes("csrf=true")) return true;
  if (!response.headers.get("content-type")?.includes("json")) return false;
  const body = (await response.clone().json().catch(() => ({}))) as { url?: unknown };
  return typeof body.url === "string" && body.url.includes("csrf=true");
}

/**
 * NextAuth answers every refused credentials POST alike (401, or a redirect to the error page);
 * a throttled address gets 429 with the same body, so the sign-in form still reads its error
 * code, and a Retry-After of one window.
 */
function asTooManyRequests(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("Retry-After", String(env().SIGN_IN_RATE_LIMIT_WINDOW_SECONDS));
  headers.set("Cache-Control", "no-store");
  return new Response(response.body, { status: 429, statusText: "Too Many Requests", headers });
}

/**
 * NextAuth's session endpoint answers from the cookie alone; the app ends sessions in the
 * database (sign-out, an admin or the owner ending it, idle or absolute expiry, a lock, a
 * raised session version). An ended session gets `{}` here too, and its cookie is cleared, as
 * the pages would treat it. A live one is answered without its session key, which only the
 * server needs.
 */
async function withoutEndedSession(response: Response): Promise<Response> {
  const body = (await response.clone().json().catch(() => ({}))) as {
    user?: { id?: unknown };
    sessionVersion?: number;
    sessionKey?: string;
  };
  const userId = body.user?.id;
  if (typeof userId !== "number") return response;
  let ended: boolean;
  try {
    ended = await hasSessionEnded({ userId, sessionVersion: body.sessionVersion, sessionKey: body.sessionKey });
  } catch (error) {
    logServerError("session could not be checked; answered as signed out", error, { userId });
    return Response.json({}, { headers: { "Cache-Control": "no-store" } });
  }
  if (!ended) {
    const visible = { ...body };
    delete visible.sessionKey;
    const headers = new Headers(response.headers);
    headers.delete("Content-Length");
    return new Response(JSON.stringify(visible), { status: response.status, headers });
  }
  const headers = new Headers({ "Content-Type": "application/json", "Cache-Control": "no-store" });
  for (const cookie of response.headers.getSetCookie()) {
    const name = cookie.slice(0, cookie.indexOf("="));
    if (!name.includes("next-auth.session-token")) headers.append("Set-Cookie", cookie);
    else headers.append("Set-Cookie", `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${name.startsWith("__Secure-") ? "; Secure" : ""}`);
  }
  return new Response("{}", { status: 200, headers });
}

async function handle(request: NextRequest, context: RouteContext) {
  // NextAuth routes on the first two segments and ignores the rest (`/session/x` is the session
  // action): the app's checks read the same segments, never the path's ending.
  const [action, provider] = (await context.params).nextauth;
  // With a custom logger NextAuth also accepts client log entries at `_log`, with no CSRF
  // token: anyone could write server log lines. The app has no client logging; refuse it.
  if (action === "_log") return new Response("Not found\n", { status: 404 });
  const requestContext = requestContextFromHeaders(request.headers);
  const isCredentialsPost = request.method === "POST" && action === "callback" && provider === "credentials";
  const form = isCredentialsPost ? await request.clone().formData().catch(() => undefined) : undefined;
  const scope: AuthRequestScope = { context: requestContext, rateLimited: false };
  const response = await authRequestScope.run(scope, () => nextAuth(request, context));
  if (scope.rateLimited) return asTooManyRequests(response);
  // GET reads the session; a POST with the CSRF token (update()) answers it too.
  if (action === "session") return withoutEndedSession(response);
  // Every attempt that reaches the server is one row, including those NextAuth turns away.
  if (isCredentialsPost && (await isCsrfRejection(response))) {
    await recordRejectedSignInRequest({ username: form?.get("username"), password: form?.get("password") }, requestContext);
  }
  return response;
}

export { handle as GET, handle as POST };
