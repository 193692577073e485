import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { appendAccountLog } from "@/lib/account-log/record";
import { attemptThrottledSignIn } from "@/lib/account-log/sign-in";
import { requestContextFromHeaders, requestMetadata } from "@/lib/client/request-context";
import { getDb } from "@/db";
import { metrics } from "@/lib/metrics/registry";
import { logServerError, logServerInfo } from "@/lib/server-log";
import { SESSION_LIFETIME_SECONDS } from "@/lib/sessions/key";
import { revokeSessionByKey } from "@/lib/sessions/queries";
import { authRequestScope } from "./request-scope";

export const authOptions: NextAuthOptions = {
  // NextAuth moves the cookie's expiry on at every session poll; the session record's absolute
  // expiry (lib/sessions) is what ends a session, whatever the cookie says.
  session: { strategy: "jwt", maxAge: SESSION_LIFETIME_SECONDS },
  pages: { signIn: "/login", error: "/login" },
  providers: [
    CredentialsProvider({
      name: "Username and password",
      credentials: {
        username: { label: "Username", type: "text" },
        password: { label: "Password", type: "password" },
      },
      async authorize(credentials, req) {
        const context = requestContextFromHeaders(req.headers ?? {});
        const endTimer = metrics().signInDuration.startTimer();
        let outcome;
        try {
          outcome = await attemptThrottledSignIn(credentials ?? {}, context);
        } catch {
          endTimer({ outcome: "unavailable" });
          // Already logged with its cause; the client gets a fixed code, never the error text.
          throw new Error("SignInUnavailable");
        }
        endTimer({ outcome: outcome.status === "signed_in" ? "signed_in" : outcome.reason });
        if (outcome.status === "signed_in") {
          const { user, session } = outcome;
          return { id: String(user.id), name: user.username, role: user.role, sessionVersion: user.sessionVersion, sessionKey: session.key };
        }
        if (outcome.reason === "rate_limited") {
          // The route turns this into HTTP 429; the code depends on the address alone.
          const scope = authRequestScope.getStore();
          if (scope) scope.rateLimited = true;
          throw new Error("RateLimited");
        }
        // NextAuth hands a thrown message to the client: only this fixed code, which any
        // username reaches after enough failures, so it tells nothing about existence.
        if (outcome.reason === "locked") throw new Error("AccountLocked");
        return null;
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        token.uid = Number(user.id);
        token.role = user.role;
        token.sessionVersion = user.sessionVersion;
        token.sid = user.sessionKey;
      }
      return token;
    },
    session({ session, token }) {
      session.user = { id: token.uid ?? 0, name: token.name ?? "", role: token.role ?? "user" };
      session.sessionVersion = token.sessionVersion ?? 0;
      if (token.sid) session.sessionKey = token.sid;
      return session;
    },
    redirect({ url, baseUrl }) {
      // Same origin only: relative paths (not protocol-relative) or absolute URLs on baseUrl.
      if (url.startsWith("/") && !url.startsWith("//") && !url.startsWith("/\\")) return `${baseUrl}${url}`;
      try {
        if (new URL(url).origin === new URL(baseUrl).origin) return url;
      } catch {
        // Not a URL: fall through to the home page.
      }
      return baseUrl;
    },
  },
  // NextAuth's own messages as one line of JSON each, like the app's: its default prints stacks
  // over several lines, and a bad session cookie would do that at will.
  logger: {
    error(code, metadata) {
      const error = metadata instanceof Error ? metadata : (metadata as { error?: unknown } | undefined)?.error;
      logServerError(`next-auth: ${code}`, error ?? code);
    },
    warn(code) {
      logServerInfo(`next-auth warning: ${code}`);
    },
    debug() {},
  },
  events: {
    async signOut({ token }) {
      if (!token?.uid) return;
      const userId = token.uid;
      const context = authRequestScope.getStore()?.context;
      try {
        // The session record ends with the `logout` row, in one transaction. A cookie whose
        // session is already over ends nothing and writes no row: a kept cookie cannot fill
        // the log with sign-outs.
        const ended = await (await getDb()).transaction(async (tx) => {
          if (!token.sid || !(await revokeSessionByKey(tx, { userId, sessionKey: token.sid }))) return false;
          await appendAccountLog(tx, [
            {
              username: token.name ?? "",
              userId,
              result: "logout",
              ip: context?.ip ?? null,
              metadata: context ? requestMetadata(context) : {},
            },
          ]);
          return true;
        });
        if (!ended) logServerInfo("sign-out of a session already ended; nothing logged", { userId });
      } catch (error) {
        logServerError("sign-out could not be recorded", error, { userId: token.uid });
      }
    },
  },
};

