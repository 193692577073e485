import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestContext } from "@/lib/client/request-context";

export type AuthRequestScope = {
  /** Where the request came from, for NextAuth events that are not handed the request (sign-out). */
  context: RequestContext;
  /** Set by `authorize` when the client address is throttled: the route answers 429. */
  rateLimited: boolean;
};

/** The auth route's request, for the parts of NextAuth that run without it. */
export const authRequestScope = new AsyncLocalStorage<AuthRequestScope>();
