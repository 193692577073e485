import net from "node:net";
import os from "node:os";
import tls from "node:tls";
import type { StreamFormat } from "@/db/schema";
import { cefLine, formatRow, outcomeOf, type ApiRow } from "@/lib/api/formats";
import { pinnedLookup, type CheckedDestination } from "./destination";
import type { Delivery } from "./webhook";

/** authpriv: security messages that may carry personal data (usernames, addresses). */
const FACILITY_AUTHPRIV = 10;
const SEVERITY = { warning: 4, notice: 5, informational: 6 } as const;
const APP_NAME = "account-logs";
const BOM = "\uFEFF";
/** The most a `meta sequenceId` may be (RFC 5424, 7.3.1); past it the row's seq is in the message alone. */
const MAX_SEQUENCE_ID = 2_147_483_647;

/** RFC 5424 HOSTNAME: printable US-ASCII, at most 255 characters, or the nil value. */
export function syslogHostname(name = os.hostname()): string {
  const clean = name.replace(/[^\x21-\x7e]/g, "").slice(0, 255);
  return clean || "-";
}

function severityOf(result: ApiRow["result"]): number {
  if (result === "account_locked" || result === "login_failed_account_locked") return SEVERITY.warning;
  return outcomeOf(result) === "failure" ? SEVERITY.notice : SEVERITY.informational;
}

/** The text a row becomes in the stream's format: a CEF line, or one JSON document. */
export function syslogText(format: StreamFormat, row: ApiRow): string {
  return format === "cef" ? cefLine(row) : JSON.stringify(formatRow(format, row));
}

/**
 * One RFC 5424 message: facility authpriv, a severity from the result, the row's time, the
 * result as MSGID, the seq as `meta sequenceId`, and the row as UTF-8 text (with the BOM the
 * RFC asks for).
 */
export function syslogMessage(row: ApiRow, format: StreamFormat, hostname = syslogHostname()): string {
  const priority = FACILITY_AUTHPRIV * 8 + severityOf(row.result);
  const structured = row.seq <= MAX_SEQUENCE_ID ? `[meta sequenceId="${row.seq}"]` : "-";
  return `<${priority}>1 ${row.time} ${hostname} ${APP_NAME} - ${row.result} ${structured} ${BOM}${syslogText(format, row)}`;
}

/** A message that is not a row: the page's test event. */
export function syslogTestMessage(text: string, hostname = syslogHostname()): string {
  return `<${FACILITY_AUTHPRIV * 8 + SEVERITY.notice}>1 ${new Date().toISOString()} ${hostname} ${APP_NAME} - test - ${BOM}${text}`;
}

/** RFC 5425 / RFC 6587 octet counting: the message's length in bytes, a space, the message. */
export function octetCounted(message: string): Buffer {
  const bytes = Buffer.from(message, "utf8");
  return Buffer.concat([Buffer.from(`${bytes.length} `, "ascii"), bytes]);
}

export type SyslogTls = { ca?: string; cert?: string; key?: string };

/**
 * Sends messages over one connection (TLS 1.2 or later, or plain TCP) to a checked address.
 * Syslog has no acknowledgement: the batch counts as delivered once every byte was handed to the
 * network and the receiver closed the connection after that, all within `timeoutMs`. A reset, a
 * refused connection, a certificate that does not check, a receiver that closes before the
 * batch is written or does not close is a failure, and the batch is sent again. A receiver that
 * takes the bytes and drops them unread (a proxy with no backend) cannot be told apart: the
 * documentation says so, and what to put in front of such a receiver.
 */
export function sendSyslog(
  destination: CheckedDestination,
  messages: string[],
  { tls: tlsOptions = {}, timeoutMs, signal }: { tls?: SyslogTls; timeoutMs: number; signal?: AbortSignal },
): Promise<Delivery> {
  const { url, addresses } = destination;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port);
  const payload = Buffer.concat(messages.map(octetCounted));
  return new Promise((resolve) => {
    let settled = false;
    const lookup = pinnedLookup(addresses) as never;
    // Half-open: the receiver's end is seen as such, so one that closes before taking the batch
    // is told from one that read it to the end.
    const tcp = net.connect({ host, port, lookup, allowHalfOpen: true });
    const socket =
      url.protocol === "tls:"
        ? tls.connect({
            socket: tcp,
            host,
            minVersion: "TLSv1.2",
            ...(net.isIP(host) ? {} : { servername: host }),
            // A custom CA is trusted as well as the system's, not instead of them.
            ...(tlsOptions.ca && { ca: [...tls.rootCertificates, tlsOptions.ca] }),
            ...(tlsOptions.cert && tlsOptions.key && { cert: tlsOptions.cert, key: tlsOptions.key }),
          })
        : tcp;
    const finish = (delivery: Delivery) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      signal?.removeEventListener("abort", abort);
      socket.destroy();
      tcp.destroy();
      resolve(delivery);
    };
    const abort = () => finish({ ok: false, error: "stopped" });
    signal?.addEventListener("abort", abort, { once: true });
    const deadline = setTimeout(() => finish({ ok: false, error: `the receiver did not take the batch within ${timeoutMs / 1000} s` }), timeoutMs);
    let written = false;
    let receiverEnded = false;
    socket.on(url.protocol === "tls:" ? "secureConnect" : "connect", () =>
      socket.end(payload, () => {
        written = true;
      }),
    );
    socket.on("end", () => {
      receiverEnded = true;
      if (!written) finish({ ok: false, error: "the receiver closed the connection before taking the batch" });
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish({ ok: false, error: error.code ? `${error.code}: ${error.message}` : error.message }));
    socket.on("close", (hadError) => {
      if (hadError) return;
      finish(written && receiverEnded ? { ok: true, status: 0 } : { ok: false, error: "the connection closed before the batch was taken" });
    });
    // What the receiver says is read and dropped: syslog receivers send nothing back.
    socket.resume();
    if (signal?.aborted) abort();
  });
}
