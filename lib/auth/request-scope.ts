import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestContext } from "@/lib/client/request-context";

/** The auth route's request, for NextAuth events that are not handed one (sign-out). */
export const authRequestScope = new AsyncLocalStorage<RequestContext>();
