import { withAuth } from "next-auth/middleware";
import { env } from "@/lib/env";
import { logServerInfo } from "@/lib/server-log";

// The address the app's server stamped (lib/client/ip.ts); read directly, as this runs on the edge runtime.
const CLIENT_IP_HEADER = "x-account-logs-client-ip";

// A coarse guard only: it sends visitors without a session to /login. Every page and action
// checks the session against the database and the role itself.
export default withAuth({
  // Read when the middleware loads, after server.ts has completed the configuration.
  secret: env().NEXTAUTH_SECRET,
  pages: { signIn: "/login" },
  callbacks: {
    authorized({ req, token }) {
      if (token) return true;
      // Anonymous requests for admin pages, actions and exports: a bounded server log line, never
      // a log row, so anonymous traffic cannot grow the audit trail.
      if (req.nextUrl.pathname.startsWith("/admin")) {
        logServerInfo("access denied", {
          resource: req.nextUrl.pathname.slice(0, 200),
          method: req.method,
          ip: req.headers.get(CLIENT_IP_HEADER)?.slice(0, 64) ?? null,
          signedIn: false,
        });
      }
      return false;
    },
  },
});

export const config = {
  matcher: ["/((?!login|api/auth|api/v1/|_next/static|_next/image|favicon.ico).*)"],
};
