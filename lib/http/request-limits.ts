import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** A sign-in form is a username, a password, a CSRF token and a callback URL: a few hundred bytes. */
export const AUTH_BODY_LIMIT_BYTES = 16 * 1024;
/** Server actions post small forms (a reason, a password, a role). */
export const ACTION_BODY_LIMIT_BYTES = 64 * 1024;
/** No other route reads a body; one that arrives anyway gets the same bound. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

const AUTH_PREFIX = "/api/auth/";

/**
 * The action and provider NextAuth reads from a path under /api/auth/, as it routes: on the
 * first two segments, decoded, whatever follows (`/api/auth/session/x` is the session action).
 * Undefined outside NextAuth's routes.
 */
export function nextAuthRoute(pathname: string): { action: string; provider: string | undefined } | undefined {
  if (!pathname.startsWith(AUTH_PREFIX)) return undefined;
  const segments = pathname.slice(AUTH_PREFIX.length).split("/").map(decodeSegment);
  return { action: segments[0] ?? "", provider: segments[1] || undefined };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** NextAuth's credentials sign-in: the callback action of the credentials provider. */
export function isCredentialsSignIn(method: string | undefined, pathname: string): boolean {
  const route = nextAuthRoute(pathname);
  return method?.toUpperCase() === "POST" && route?.action === "callback" && route.provider === "credentials";
}

/** The most body bytes a request to this path may carry. */
export function bodyLimitFor(pathname: string, headers: Record<string, unknown>): number {
  if (pathname.startsWith(AUTH_PREFIX)) return AUTH_BODY_LIMIT_BYTES;
  if (headers["next-action"] !== undefined) return ACTION_BODY_LIMIT_BYTES;
  return DEFAULT_BODY_LIMIT_BYTES;
}

/** The declared Content-Length, or undefined when absent (a chunked body) or not a plain number. */
export function declaredBodyLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,16}\s*$/.test(value)) return undefined;
  return Number(value);
}

/** How long a refused upload may go on being read (and dropped) so that its client sees the 413. */
const LINGER_MS = 2_000;

/**
 * Holds a request's body to `limit` bytes before anything buffers it. A declared length over the
 * limit is refused before a byte is handed on; a chunked body is counted as it arrives and
 * refused the moment it passes the limit. Returns false when the request is refused at once
 * (the caller must not hand it on).
 */
export function limitRequestBody(
  request: IncomingMessage,
  response: ServerResponse,
  limit: number,
  onRefused: (received: "declared" | "streamed") => Promise<void> | void,
): boolean {
  // The refusal is answered once `onRefused` is done (a sign-in's row is written first).
  const refuseAfter = (received: "declared" | "streamed") => {
    void Promise.resolve()
      .then(() => onRefused(received))
      .catch(() => {})
      .finally(() => refuse(request, response, limit));
  };
  // The HTTP parser hands each body chunk to push(): count there, before any reader sees it.
  const push = request.push.bind(request);
  let received = 0;
  let refused = false;
  request.push = (chunk: unknown, encoding?: BufferEncoding) => {
    // The rest of a refused body is read and dropped; the 413 closes the connection.
    if (refused) return true;
    if (chunk !== null && chunk !== undefined) received += (chunk as Buffer).length;
    if (received <= limit) return push(chunk, encoding);
    refused = true;
    refuseAfter("streamed");
    return true;
  };
  const declared = declaredBodyLength(request.headers["content-length"]);
  if (declared === undefined || declared <= limit) return true;
  refused = true;
  refuseAfter("declared");
  return false;
}

/**
 * 413, then a lingering close: the client may still be sending, and a socket closed with its
 * bytes unread is reset, which can lose the answer before the client reads it. What it sends
 * meanwhile is dropped unread, and the connection is cut after at most two seconds.
 */
function refuse(request: IncomingMessage, response: ServerResponse, limit: number): void {
  const socket = request.socket;
  if (response.headersSent) {
    socket.destroy();
    return;
  }
  // Node closes a connection whose request body was left unread once the answer is written
  // (destroySoon): with the client still sending, that reset can beat the answer to it. Only
  // half-close instead, and keep dropping what arrives until the client stops or time is up.
  (socket as Socket & { destroySoon: () => void }).destroySoon = () => socket.end();
  response.writeHead(413, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", Connection: "close" });
  response.end(`Refused: the request body is larger than ${Math.round(limit / 1024)} KB.\n`);
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once("close", () => clearTimeout(cut));
}
