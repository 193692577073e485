import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { configuredTarget, pgliteSiblingPath } from "@/db";
import { env } from "@/lib/env";

/**
 * Stream secrets (a webhook's signing secret, its custom headers such as a Splunk HEC token) are
 * kept in the database encrypted with AES-256-GCM under a key the database never holds:
 * `STREAM_SECRET_KEY`, or on the embedded database a 0600 file beside the data. A copy of the
 * database alone does not give them away.
 */
export class StreamKeyError extends Error {
  override name = "StreamKeyError";
}

const VERSION = "v1";

function parseKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) throw new StreamKeyError("STREAM_SECRET_KEY must be 32 random bytes, base64 (openssl rand -base64 32).");
  return key;
}

let cached: { source: string; key: Buffer } | undefined;

/** Refuses a malformed `STREAM_SECRET_KEY` at start-up, rather than at the first send. */
export function checkStreamSecretKey(): void {
  const { STREAM_SECRET_KEY } = env();
  if (STREAM_SECRET_KEY) parseKey(STREAM_SECRET_KEY);
}

/** The key, from `STREAM_SECRET_KEY` or the file beside the embedded data (made on first use). */
export function streamSecretKey(): Buffer {
  const { STREAM_SECRET_KEY } = env();
  if (STREAM_SECRET_KEY) {
    if (cached?.source !== STREAM_SECRET_KEY) cached = { source: STREAM_SECRET_KEY, key: parseKey(STREAM_SECRET_KEY) };
    return cached.key;
  }
  const target = configuredTarget();
  if (target.kind !== "pglite") throw new StreamKeyError("Set STREAM_SECRET_KEY (openssl rand -base64 32), the same on every instance, to keep stream secrets.");
  const file = pgliteSiblingPath(target.dir, "stream-secret-key");
  if (cached?.source === file) return cached.key;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  cached = { source: file, key: parseKey(fs.readFileSync(file, "utf8")) };
  return cached.key;
}

/** `v1.iv.tag.ciphertext`, each base64; the stream's ID is bound in as associated data. */
export function sealSecret(plain: string, context: string, key = streamSecretKey()): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
}

export function openSecret(sealed: string, context: string, key = streamSecretKey()): string {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined) throw new StreamKeyError("A stream secret is not in a known form.");
  try {
    // A full 16-byte tag, whatever length the stored one claims.
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  } catch {
    throw new StreamKeyError("A stream secret does not open with this STREAM_SECRET_KEY: was the key changed?");
  }
}
