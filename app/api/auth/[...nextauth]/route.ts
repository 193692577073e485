import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { recordRejectedSignInRequest } from "@/lib/account-log/sign-in";
import { authOptions } from "@/lib/auth/options";
import { authRequestScope } from "@/lib/auth/request-scope";
import { requestContextFromHeaders } from "@/lib/client/request-context";

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

async function handle(request: NextRequest, context: RouteContext) {
  const requestContext = requestContextFromHeaders(request.headers);
  const isCredentialsPost = request.method === "POST" && request.nextUrl.pathname.endsWith("/callback/credentials");
  const form = isCredentialsPost ? await request.clone().formData().catch(() => undefined) : undefined;
  const response = await authRequestScope.run(requestContext, () => nextAuth(request, context));
  // Every attempt that reaches the server is one row, including those NextAuth turns away.
  if (isCredentialsPost && (await isCsrfRejection(response))) {
    await recordRejectedSignInRequest({ username: form?.get("username") }, requestContext);
  }
  return response;
}

export { handle as GET, handle as POST };
