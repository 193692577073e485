import { withAuth } from "next-auth/middleware";

// A coarse guard only: it sends visitors without a session to /login. Every page and action
// checks the session against the database and the role itself.
export default withAuth({
  secret: process.env.NEXTAUTH_SECRET,
  pages: { signIn: "/login" },
});

export const config = {
  matcher: ["/((?!login|api/auth|_next/static|_next/image|favicon.ico).*)"],
};
