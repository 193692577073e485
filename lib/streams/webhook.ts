import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import tls from "node:tls";
import { pinnedLookup, type CheckedDestination } from "./destination";

const SECRET_PREFIX = "whsec_";

/** A Standard Webhooks secret: `whsec_` and 32 random bytes, base64. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

export function isWebhookSecret(secret: string): boolean {
  return secret.startsWith(SECRET_PREFIX) && /^[A-Za-z0-9+/]{32,}={0,2}$/.test(secret.slice(SECRET_PREFIX.length));
}

/** `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's bytes (Standard Webhooks). */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** What a receiver does: any of the space-separated signatures matches, in constant time. */
export function webhookSignatureHolds(secret: string, id: string, timestamp: number, body: string, header: string): boolean {
  const expected = Buffer.from(webhookSignature(secret, id, timestamp, body));
  return header.split(" ").some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export type Delivery = { ok: true; status: number } | { ok: false; status?: number; error: string };

const RESPONSE_KEPT_BYTES = 512;

/**
 * One POST of a batch to a checked destination: connected to the address that was checked (the
 * name is not looked up again), redirects not followed, an answer within `timeoutMs` or none.
 * A 2xx is delivered; anything else is an error with what the receiver said, cut short.
 */
export function postWebhook(
  destination: CheckedDestination,
  { body, headers, ca, timeoutMs, signal }: { body: string; headers: Record<string, string>; ca?: string; timeoutMs: number; signal?: AbortSignal },
): Promise<Delivery> {
  const { url, addresses } = destination;
  const secure = url.protocol === "https:";
  const send = secure ? https.request : http.request;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return new Promise((resolve) => {
    let settled = false;
    const finish = (delivery: Delivery) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(delivery);
    };
    const request = send(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "User-Agent": "account-logs-stream/1", ...headers },
        lookup: pinnedLookup(addresses) as never,
        // A custom CA is trusted as well as the system's, not instead of them.
        ...(secure && { ...(isIP(host) ? {} : { servername: host }), ...(ca && { ca: [...tls.rootCertificates, ca] }) }),
        agent: false,
        signal,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on("data", (chunk: Buffer) => {
          if (kept < RESPONSE_KEPT_BYTES) chunks.push(chunk.subarray(0, RESPONSE_KEPT_BYTES - kept));
          kept += chunk.length;
        });
        response.on("end", () => {
          if (status >= 200 && status < 300) return finish({ ok: true, status });
          const said = Buffer.concat(chunks).toString("utf8").replace(/\s+/g, " ").trim().slice(0, 200);
          const redirect = status >= 300 && status < 400 ? `redirect to ${String(response.headers.location ?? "?").slice(0, 200)} not followed` : "";
          finish({ ok: false, status, error: `HTTP ${status}${redirect ? `: ${redirect}` : said ? `: ${said}` : ""}` });
        });
        response.on("error", (error) => finish({ ok: false, status, error: error.message }));
      },
    );
    // One deadline for the whole exchange (connect, TLS, a slow trickle of an answer), not only for silence.
    const deadline = setTimeout(() => request.destroy(new Error(`no complete answer within ${timeoutMs / 1000} s`)), timeoutMs);
    request.on("error", (error: NodeJS.ErrnoException) => finish({ ok: false, error: error.code && error.code !== "ERR_STREAM_DESTROYED" ? `${error.code}: ${error.message}` : error.message }));
    request.end(body);
  });
}
