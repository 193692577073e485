import type { UserRole } from "@/db/schema";

declare module "next-auth" {
  interface User {
    role: UserRole;
    sessionVersion: number;
    /** The key of the session record (only its hash is stored); it lives in the encrypted token. */
    sessionKey: string;
  }
  interface Session {
    user: { id: number; name: string; role: UserRole };
    sessionVersion: number;
    /** For the server's checks only: the session route removes it before answering. */
    sessionKey?: string;
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    uid?: number;
    role?: UserRole;
    sessionVersion?: number;
    sid?: string;
  }
}
