import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { env } from "@/lib/env";

const KEY_LENGTH = 32;
/** The salt of padding and dummy derives: their keys are never compared, so one per process will do. */
const DUMMY_SALT = randomBytes(16);

export type ScryptParameters = { N: number; r: number; p: number };

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** OWASP's scrypt minimum (N=2^17, r=8, p=1) unless SCRYPT_LOG2_N says otherwise. */
export function currentParameters(): ScryptParameters {
  return { N: 2 ** env().SCRYPT_LOG2_N, r: 8, p: 1 };
}

/** scrypt's work for a set of parameters, in units of one block mix: N·r·p. */
export const workOf = ({ N, r, p }: ScryptParameters) => N * r * p;

let workDone = 0;
/** The scrypt work this process has derived so far (N·r·p units): what tests compare between kinds of check. */
export const passwordWorkDone = () => workDone;

function derive(password: string, salt: Buffer, parameters: ScryptParameters): Promise<Buffer> {
  const { N, r, p } = parameters;
  workDone += workOf(parameters);
  // 128 * N * r bytes of memory, plus headroom; Node's default cap (32 MiB) is below OWASP's N.
  return scryptAsync(password, salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r });
}

/** `scrypt$N=131072,r=8,p=1$<salt>$<key>` (base64url). */
export async function hashPassword(password: string, parameters = currentParameters()): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, parameters);
  const { N, r, p } = parameters;
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

function parseHash(stored: string): { parameters: ScryptParameters; salt: Buffer; key: Buffer } | undefined {
  const match = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!match) return undefined;
  const [, N, r, p, salt, key] = match;
  return {
    parameters: { N: Number(N), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt!, "base64url"),
    key: Buffer.from(key!, "base64url"),
  };
}

/**
 * The one derive that brings a check made at `stored` up to the work of one at `current`: none
 * when the stored hash costs as much or more; else one at the smaller N with the r that makes up
 * the difference (scrypt's work and memory are both proportional to N·r·p), so the check costs
 * what one at the current cost does, in two derives instead of one. An unreadable hash is padded
 * with a whole one.
 */
export function paddingDerive(stored: ScryptParameters | undefined, current: ScryptParameters): ScryptParameters | undefined {
  if (!stored) return current;
  const missing = workOf(current) - workOf(stored);
  if (missing <= 0) return undefined;
  // Both N are powers of two, so the difference is a whole multiple of the smaller one.
  const N = Math.min(stored.N, current.N);
  return { N, r: missing / N, p: 1 };
}

/**
 * Whether the password matches the stored hash. Every check costs at least the current cost:
 * a hash made at a lower cost (not yet upgraded at a sign-in) is checked at its own cost and
 * padded up, so a wrong password on such an account takes as long as on any other, or on an
 * unknown or locked one (`verifyDummyPassword`).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  const candidate = parsed ? await derive(password, parsed.salt, parsed.parameters) : undefined;
  const padding = paddingDerive(parsed?.parameters, currentParameters());
  if (padding) await derive(password, DUMMY_SALT, padding);
  return candidate !== undefined && candidate.length === parsed!.key.length && timingSafeEqual(candidate, parsed!.key);
}

export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  const current = currentParameters();
  return !parsed || parsed.parameters.N < current.N || parsed.parameters.r < current.r;
}

/**
 * Spends what checking a password costs at the current cost, for unknown and locked accounts,
 * so the response time does not tell them apart from a wrong password. (An account whose hash
 * was made at a higher cost than the current one, after SCRYPT_LOG2_N was lowered, still
 * costs more; raising the cost, the usual change, leaves no difference.)
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  await derive(password, DUMMY_SALT, currentParameters());
  return false;
}
