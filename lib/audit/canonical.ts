import { createHash } from "node:crypto";

/** The first row's `prev_hash`: 32 zero bytes. */
export const GENESIS_HASH = "0".repeat(64);

/** The hashed fields of a log row, as the database gives them to `account_log_canonical`. */
export type ChainedFields = {
  id: number | string;
  /** UTC with microseconds: `2026-11-26T09:05:40.123456Z`. */
  occurredAt: string;
  username: string;
  usernameTruncated: boolean;
  usernameNormalized: string;
  userId: number | string | null;
  result: string;
  /** The bare address, or null. */
  ip: string | null;
  /** The metadata as PostgreSQL prints jsonb, or the parsed value to print that way. */
  metadata: string | unknown;
};

function compareKeys(a: string, b: string): number {
  // jsonb orders object keys by UTF-8 length, then bytewise.
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length - right.length || Buffer.compare(left, right);
}

/**
 * A JSON value printed exactly as PostgreSQL prints it as jsonb: keys ordered by length then
 * bytes, `", "` and `": "` separators, and the escapes of `JSON.stringify` (which are the same
 * as PostgreSQL's for the strings a UTF-8 database can hold).
 */
export function jsonbText(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) throw new Error(`Only whole numbers are chained; got ${value}.`);
      return String(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(jsonbText).join(", ")}]`;
      const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
      entries.sort(([a], [b]) => compareKeys(a, b));
      return `{${entries.map(([key, item]) => `${JSON.stringify(key)}: ${jsonbText(item)}`).join(", ")}}`;
    }
    default:
      throw new Error(`Cannot encode a ${typeof value} in the chain.`);
  }
}

/** Version 1 of the canonical encoding, identical to the database's `account_log_canonical`. */
export function canonicalEncoding(row: ChainedFields): string {
  const metadata = typeof row.metadata === "string" ? row.metadata : jsonbText(row.metadata);
  return (
    `[1, ${row.id}, ${JSON.stringify(row.occurredAt)}, ${JSON.stringify(row.username)}, ` +
    `${row.usernameTruncated ? "true" : "false"}, ${JSON.stringify(row.usernameNormalized)}, ` +
    `${row.userId === null ? "null" : row.userId}, ${JSON.stringify(row.result)}, ` +
    `${row.ip === null ? "null" : JSON.stringify(row.ip)}, ${metadata}]`
  );
}

/** SHA-256(prev_hash ‖ UTF-8 of the canonical encoding), in hex. */
export function chainHash(prevHashHex: string, canonical: string): string {
  return createHash("sha256").update(Buffer.from(prevHashHex, "hex")).update(canonical, "utf8").digest("hex");
}
