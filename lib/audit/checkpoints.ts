import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { configuredTarget, pgliteSiblingPath, rowsOf, type Executor } from "@/db";
import { env } from "@/lib/env";
import { logServerError } from "@/lib/server-log";
import { ChainWalker, walkRows, type ChainBreak, type ChainHead } from "./verify";

/**
 * Signed checkpoints (docs/audit.md, "Checkpoints"): every so many rows or seconds, the head of
 * the chain at a position is signed with an Ed25519 key the database never holds, stored through
 * the owner's function (which checks the head against the log) and appended to a file outside
 * the database. A superuser who rewrites the log and re-hashes the chain cannot sign for it.
 */

export type Checkpoint = {
  /** The log it belongs to (`account_log_seal_state.log_id`). */
  logId: string;
  seq: number;
  /** The hash of the row at `seq`, in hex. */
  headHash: string;
  /** Rows sealed from the first through `seq`. */
  rowCount: number;
  signedAt: Date;
  /** The signing key's fingerprint (`keyIdOf`). */
  keyId: string;
  signature: Buffer;
};

export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

/** The first 16 hex digits of the SHA-256 of the public key (SubjectPublicKeyInfo, DER). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

/** A private key from `AUDIT_SIGNING_KEY`: PEM, or base64 of PKCS#8 DER. Must be Ed25519. */
export function parseSigningKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes("-----BEGIN")
      ? createPrivateKey(text.replace(/\\n/g, "\n"))
      : createPrivateKey({ key: Buffer.from(text, "base64"), format: "der", type: "pkcs8" });
  } catch (error) {
    throw new SigningKeyError(`AUDIT_SIGNING_KEY is not a private key in PEM or base64 PKCS#8 (${(error as Error).message}).`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new SigningKeyError(`AUDIT_SIGNING_KEY is an ${key.asymmetricKeyType} key; checkpoints are signed with Ed25519 (npm run audit:key -- --new makes one).`);
  }
  return key;
}

/** A public key as PEM or a PEM file's text; a private key gives its public half. */
export function parsePublicKey(text: string): KeyObject {
  const key = text.includes("PRIVATE KEY") ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
  if (key.asymmetricKeyType !== "ed25519") throw new SigningKeyError(`The public key is ${key.asymmetricKeyType}, not Ed25519.`);
  return key;
}

/** A new Ed25519 private key, PEM. */
export function newSigningKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/**
 * The key file beside the embedded database, made on first use with mode 0600 (like the session
 * secret). It shares the data's trust domain: whoever can rewrite the data folder can read it.
 */
export function embeddedSigningKey(file: string): KeyObject {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, newSigningKeyPem(), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return parseSigningKey(fs.readFileSync(file, "utf8"));
}

/**
 * The configured signing key and where it came from: `AUDIT_SIGNING_KEY`, else the key file
 * beside the embedded database (made on first use); none on PostgreSQL without the variable.
 */
export function configuredSigningKey(): { key: KeyObject; source: string } | undefined {
  const { AUDIT_SIGNING_KEY } = env();
  if (AUDIT_SIGNING_KEY) return { key: parseSigningKey(AUDIT_SIGNING_KEY), source: "AUDIT_SIGNING_KEY" };
  const target = configuredTarget();
  if (target.kind !== "pglite" || target.dir.startsWith("memory://")) return undefined;
  const file = pgliteSiblingPath(target.dir, "audit-signing-key");
  return { key: embeddedSigningKey(file), source: path.resolve(file) };
}

/** The checkpoint writer the configuration asks for, or undefined without a key. */
export function configuredCheckpointer(): Checkpointer | undefined {
  const signing = configuredSigningKey();
  if (!signing) return undefined;
  const { AUDIT_CHECKPOINT_ROWS, AUDIT_CHECKPOINT_SECONDS, AUDIT_CHECKPOINT_FILE } = env();
  return new Checkpointer(signing.key, { rows: AUDIT_CHECKPOINT_ROWS, seconds: AUDIT_CHECKPOINT_SECONDS, file: AUDIT_CHECKPOINT_FILE });
}

type SignedFields = Pick<Checkpoint, "logId" | "seq" | "headHash" | "rowCount" | "signedAt">;

/** The exact bytes signed: a versioned JSON array, so no field can be read as another. */
export function checkpointMessage({ logId, seq, headHash, rowCount, signedAt }: SignedFields): Buffer {
  return Buffer.from(JSON.stringify(["account-logs checkpoint", 1, logId, seq, headHash, rowCount, signedAt.toISOString()]), "utf8");
}

export function signCheckpoint(key: KeyObject, fields: SignedFields): Checkpoint {
  return { ...fields, keyId: keyIdOf(key), signature: sign(null, checkpointMessage(fields), key) };
}

export function checkpointSignatureHolds(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointMessage(checkpoint), publicKey, checkpoint.signature);
  } catch {
    return false;
  }
}

type RawCheckpoint = { log_id: string; seq: number | string; head_hash: string; row_count: number | string; signed_at: string | Date; key_id: string; signature: string };
const fromRaw = (row: RawCheckpoint): Checkpoint => ({
  logId: row.log_id,
  seq: Number(row.seq),
  headHash: row.head_hash,
  rowCount: Number(row.row_count),
  signedAt: new Date(row.signed_at),
  keyId: row.key_id,
  signature: Buffer.from(row.signature, "base64"),
});

/** Every checkpoint in the database, oldest first. */
export async function readCheckpoints(executor: Executor): Promise<Checkpoint[]> {
  return rowsOf<RawCheckpoint>(
    await executor.execute(sql`
      select (select log_id from account_log_seal_state)::text as log_id, seq, encode(head_hash, 'hex') as head_hash, row_count,
        signed_at, key_id, encode(signature, 'base64') as signature
      from account_log_checkpoints order by seq`),
  ).map(fromRaw);
}

/** The log's identity, which every checkpoint of it signs. */
export async function logIdOf(executor: Executor): Promise<string> {
  const [row] = rowsOf<{ log_id: string }>(await executor.execute(sql`select log_id::text as log_id from account_log_seal_state`));
  return row!.log_id;
}

/** One line of the checkpoint file. */
export function checkpointLine(checkpoint: Checkpoint): string {
  return `${JSON.stringify({
    log_id: checkpoint.logId,
    seq: checkpoint.seq,
    head_hash: checkpoint.headHash,
    row_count: checkpoint.rowCount,
    signed_at: checkpoint.signedAt.toISOString(),
    key_id: checkpoint.keyId,
    signature: checkpoint.signature.toString("base64"),
  })}\n`;
}

const fileLineSchema = z.object({
  log_id: z.uuid(),
  seq: z.number().int().positive(),
  head_hash: z.string().regex(/^[0-9a-f]{64}$/),
  row_count: z.number().int().nonnegative(),
  signed_at: z.iso.datetime(),
  key_id: z.string().max(64),
  signature: z.base64(),
});

/** The checkpoints of a file written by `appendCheckpointFile`; a malformed line names itself. */
export async function readCheckpointFile(file: string): Promise<Checkpoint[]> {
  const checkpoints: Checkpoint[] = [];
  let lineNumber = 0;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file, "utf8"), crlfDelay: Infinity })) {
    lineNumber += 1;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new SigningKeyError(`${file}, line ${lineNumber}: not JSON.`);
    }
    const parsed = fileLineSchema.safeParse(value);
    if (!parsed.success) throw new SigningKeyError(`${file}, line ${lineNumber}: not a checkpoint (${parsed.error.issues[0]!.path.join(".")}).`);
    const { log_id, seq, head_hash, row_count, signed_at, key_id, signature } = parsed.data;
    checkpoints.push({ logId: log_id, seq, headHash: head_hash, rowCount: row_count, signedAt: new Date(signed_at), keyId: key_id, signature: Buffer.from(signature, "base64") });
  }
  return checkpoints;
}

/**
 * What verification holds the chain to: the checkpoints in the database and in the checkpoint
 * file (a copy the database cannot change), and the public keys to check them with: the
 * configured key's, and any given (retired keys, after a rotation).
 */
export async function gatherCheckpointEvidence(
  executor: Executor,
  { publicKeyFiles = [], checkpointFile }: { publicKeyFiles?: string[]; checkpointFile?: string },
): Promise<{ checkpoints: Checkpoint[]; publicKeys: KeyObject[]; fromFile: number; otherLogs: number; expectedEvery?: number }> {
  const publicKeys = publicKeyFiles.map((file) => parsePublicKey(fs.readFileSync(file, "utf8")));
  const signing = configuredSigningKey();
  if (signing) publicKeys.push(createPublicKey(signing.key));
  const stored = await readCheckpoints(executor);
  const logId = await logIdOf(executor);
  // A file may hold the checkpoints of several logs (one folder, several databases): only this one's count.
  const everyFiled = checkpointFile && fs.existsSync(checkpointFile) ? await readCheckpointFile(checkpointFile) : [];
  const filed = everyFiled.filter((checkpoint) => checkpoint.logId === logId);
  // The same checkpoint in both places counts once; two that differ are both held to their signature.
  const seen = new Set(stored.map((checkpoint) => checkpointLine(checkpoint)));
  const checkpoints = [...stored, ...filed.filter((checkpoint) => !seen.has(checkpointLine(checkpoint)))];
  const expectedEvery = signing ? env().AUDIT_CHECKPOINT_ROWS : undefined;
  return { checkpoints, publicKeys, fromFile: filed.length, otherLogs: everyFiled.length - filed.length, expectedEvery };
}

/** How many rows since the last checkpoint the writer re-reads before signing (more: it signs unread). */
const LINK_CHECK_LIMIT = 100_000;

/** The first break between `from` (or the first row) and `head`: the rows must lead to that head. */
async function firstBreak(executor: Executor, from: ChainHead | undefined, head: ChainHead): Promise<ChainBreak | undefined> {
  const walker = new ChainWalker(from);
  const broken = await walkRows(executor, walker, head.seq);
  if (broken) return broken;
  const reached = walker.head;
  if (!reached || reached.seq !== head.seq || reached.hash !== head.hash) {
    return { id: 0, kind: "edited", detail: `the rows end at seq ${reached?.seq ?? 0}, not at the sealed head, seq ${head.seq}` };
  }
  return undefined;
}

/**
 * Writes checkpoints when due, after sealing: every `rows` sealed rows, or after `seconds` when
 * any row was sealed since the last. Any instance may; the database keeps one per position.
 */
export class Checkpointer {
  constructor(
    private readonly key: KeyObject,
    private readonly options: { rows: number; seconds: number; file: string | undefined },
  ) {}

  /** Writes a checkpoint at the sealed head if one is due; the checkpoint written, if any. */
  async run(executor: Executor, now = new Date()): Promise<Checkpoint | undefined> {
    const [state] = rowsOf<{
      log_id: string;
      seq: number | string;
      head_hash: string;
      last_seq: number | string | null;
      last_at: string | Date | null;
      last_hash: string | null;
    }>(
      await executor.execute(sql`
        select s.log_id::text as log_id, s.seq, encode(s.head_hash, 'hex') as head_hash, c.seq as last_seq, c.signed_at as last_at,
          encode(c.head_hash, 'hex') as last_hash
        from account_log_seal_state s
        left join lateral (select seq, signed_at, head_hash from account_log_checkpoints order by seq desc limit 1) c on true`),
    );
    if (!state) return undefined;
    const seq = Number(state.seq);
    const last = state.last_seq === null ? undefined : { seq: Number(state.last_seq), at: new Date(state.last_at!).getTime() };
    const sinceLast = seq - (last?.seq ?? 0);
    if (sinceLast <= 0) return undefined;
    const due = sinceLast >= this.options.rows || !last || now.getTime() - last.at >= this.options.seconds * 1000;
    if (!due) return undefined;
    // Sign only a head the rows lead to from the last checkpoint: rows rewritten carelessly since
    // then are not signed for. (A rewrite that re-hashes every row since is indistinguishable here.)
    const from = last ? { seq: last.seq, id: 0, hash: state.last_hash! } : undefined;
    if (sinceLast <= LINK_CHECK_LIMIT) {
      const broken = await firstBreak(executor, from, { seq, id: 0, hash: state.head_hash });
      if (broken) {
        logServerError("a checkpoint was not signed: the rows since the last one do not lead to the head", new Error(broken.detail), { seq });
        return undefined;
      }
    }
    const checkpoint = signCheckpoint(this.key, { logId: state.log_id, seq, headHash: state.head_hash, rowCount: seq, signedAt: now });
    try {
      await executor.execute(sql`select account_log_checkpoint(${seq}::bigint, decode(${checkpoint.headHash}, 'hex'),
        ${now.toISOString()}::timestamptz, ${checkpoint.keyId}, decode(${checkpoint.signature.toString("base64")}, 'base64'))`);
    } catch (error) {
      // Another instance wrote one at or after this position first.
      const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
      if (code === "23505") return undefined;
      throw error;
    }
    if (this.options.file) {
      try {
        fs.mkdirSync(path.dirname(this.options.file), { recursive: true });
        fs.appendFileSync(this.options.file, checkpointLine(checkpoint), { mode: 0o640 });
      } catch (error) {
        logServerError("a checkpoint could not be appended to the checkpoint file; it is in the database", error, { file: this.options.file, seq });
      }
    }
    return checkpoint;
  }
}
