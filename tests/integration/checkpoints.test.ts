import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createPublicKey } from "node:crypto";
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { copyOutOf, getDb, rowsOf, type Database } from "@/db";
import { appendAccountLog } from "@/lib/account-log/record";
import {
  Checkpointer,
  checkpointLine,
  checkpointSignatureHolds,
  gatherCheckpointEvidence,
  signCheckpoint,
  newSigningKeyPem,
  parseSigningKey,
  readCheckpointFile,
  readCheckpoints,
  type Checkpoint,
} from "@/lib/audit/checkpoints";
import { sealPending } from "@/lib/audit/sealer";
import { verifyChain, type ChainHead, type CheckpointEvidence } from "@/lib/audit/verify";
import { asSuperuser, DATABASE_KINDS, useFreshDatabase } from "../support/databases";

const key = parseSigningKey(newSigningKeyPem());
const otherKey = parseSigningKey(newSigningKeyPem());

async function writeRows(db: Database, count: number, prefix = "cp") {
  for (let i = 0; i < count; i++) await appendAccountLog(db, [{ username: `${prefix}-${i}`, result: "login_failed_wrong_password", ip: "192.0.2.44" }]);
  await sealPending(db);
}

/** Verifies by the walk and, on PostgreSQL, by the fast pass too: both must agree. */
async function verify(db: Database, evidence: CheckpointEvidence, start?: ChainHead) {
  const walked = await verifyChain(db, undefined, { checkpoints: evidence, start });
  const copy = copyOutOf();
  if (copy) {
    const scanned = await verifyChain(db, undefined, { copy, checkpoints: evidence, start });
    expect({ ...scanned, startedAt: undefined }).toEqual({ ...walked, startedAt: undefined });
  }
  return walked;
}

describe.each(DATABASE_KINDS)("signed checkpoints on %s", (kind) => {
  useFreshDatabase(kind);
  let file: string;
  let checkpointer: Checkpointer;
  const evidence = async (db: Database, publicKeys = [createPublicKey(key)]): Promise<CheckpointEvidence> => ({
    checkpoints: [...(await readCheckpoints(db)), ...(await readCheckpointFile(file))],
    publicKeys,
  });

  beforeEach(async () => {
    const db = await getDb();
    await asSuperuser(
      db,
      sql`delete from account_logs`,
      sql`delete from account_log_checkpoints`,
      sql`delete from account_log_verifications`,
      sql`update account_log_seal_state set seq = 0, head_hash = decode(repeat('00', 32), 'hex')`,
    );
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "checkpoints-")), "checkpoints.ndjson");
    checkpointer = new Checkpointer(key, { rows: 5, seconds: 60, file });
  });

  it("signs the sealed head every N rows or after the time, in the database and the file", async () => {
    const db = await getDb();
    await writeRows(db, 3);
    // The first rows are checkpointed at once: there is no earlier checkpoint to count from.
    const first = await checkpointer.run(db);
    expect(first).toMatchObject({ seq: 3, rowCount: 3 });
    await writeRows(db, 4);
    expect(await checkpointer.run(db)).toBeUndefined();
    await writeRows(db, 1);
    expect(await checkpointer.run(db)).toMatchObject({ seq: 8, rowCount: 8 });
    await writeRows(db, 1);
    expect(await checkpointer.run(db)).toBeUndefined();
    expect(await checkpointer.run(db, new Date(Date.now() + 61_000))).toMatchObject({ seq: 9 });
    // Nothing new sealed: no checkpoint, however long it has been.
    expect(await checkpointer.run(db, new Date(Date.now() + 200_000))).toBeUndefined();

    const stored = await readCheckpoints(db);
    expect(stored.map((checkpoint) => checkpoint.seq)).toEqual([3, 8, 9]);
    expect(await readCheckpointFile(file)).toEqual(stored);
    for (const checkpoint of stored) expect(checkpointSignatureHolds(checkpoint, createPublicKey(key))).toBe(true);
    expect(checkpointSignatureHolds(stored[0]!, createPublicKey(otherKey))).toBe(false);
    const [head] = rowsOf<{ hash: string }>(await db.execute(sql`select encode(hash, 'hex') as hash from account_logs where seq = 8`));
    expect(stored[1]!.headHash).toBe(head!.hash);
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);

    expect(await verify(db, await evidence(db))).toMatchObject({ intact: true, rowsVerified: 9 });
  });

  it("refuses a checkpoint that names another head, or an older position", async () => {
    const db = await getDb();
    await writeRows(db, 2);
    await checkpointer.run(db);
    const refused = (statement: ReturnType<typeof sql>) => db.execute(statement).then(() => "accepted", (e: Error & { cause?: { message?: string } }) => e.cause?.message ?? e.message);
    expect(await refused(sql`select account_log_checkpoint(2, decode(repeat('11', 32), 'hex'), now(), 'x', decode('00', 'hex'))`)).toMatch(/no sealed row at seq 2 has that hash/);
    expect(
      await refused(sql`select account_log_checkpoint(1, (select hash from account_logs where seq = 1), now(), 'x', decode('00', 'hex'))`),
    ).toMatch(/a checkpoint at or after seq 1 exists/);
    await expect(db.execute(sql`delete from account_log_checkpoints`)).rejects.toThrow();
  });

  it("names a truncation below the last checkpoint, also when the database's checkpoints are gone too", async () => {
    const db = await getDb();
    await writeRows(db, 7);
    await checkpointer.run(db);
    // The tail cut and the sealer's state set back: the chain that is left links up.
    await asSuperuser(
      db,
      sql`delete from account_logs where seq > 4`,
      sql`update account_log_seal_state set seq = 4, head_hash = (select hash from account_logs where seq = 4)`,
    );
    const truncated = { intact: false, broken: { kind: "truncated", detail: expect.stringContaining("checkpoint at seq 7 says 7 rows; the log ends at seq 4") } };
    expect(await verify(db, await evidence(db))).toMatchObject(truncated);
    // The checkpoints deleted as well: the file outside the database still has them.
    await asSuperuser(db, sql`delete from account_log_checkpoints`);
    expect(await readCheckpoints(db)).toEqual([]);
    expect(await verify(db, await evidence(db))).toMatchObject(truncated);
  });

  it("names a chain re-hashed from an edited row without the key, and a checkpoint forged without it", async () => {
    const db = await getDb();
    await writeRows(db, 6);
    await checkpointer.run(db);
    // Row 3 edited, and every hash from it recomputed: the chain links up again.
    await asSuperuser(
      db,
      sql`update account_logs set username = 'rewritten' where seq = 3`,
      sql`do $$ declare l account_logs; previous bytea; begin
        for l in select * from account_logs order by seq loop
          if l.seq >= 3 then
            update account_logs set prev_hash = previous, hash = sha256(previous || convert_to(account_log_canonical(l.id, l.occurred_at,
              l.username, l.username_truncated, l.username_normalized, l.user_id, l.result, l.ip, l.metadata), 'UTF8'))
            where seq = l.seq;
            select hash into previous from account_logs where seq = l.seq;
          else previous := l.hash; end if;
        end loop; end $$`,
    );
    expect(await verifyChain(db)).toMatchObject({ intact: true, rowsVerified: 6 });
    expect(await verify(db, await evidence(db))).toMatchObject({ intact: false, broken: { kind: "rehashed", detail: expect.stringContaining("re-hashed without the signing key") } });

    // The attacker replaces the checkpoint too, with the new head, but cannot sign it.
    await asSuperuser(
      db,
      sql`delete from account_log_checkpoints`,
      sql`insert into account_log_checkpoints (seq, head_hash, row_count, signed_at, key_id, signature)
        select 6, hash, 6, now(), ${(await readCheckpoints(db))[0]?.keyId ?? "x"}, decode(repeat('ab', 64), 'hex') from account_logs where seq = 6`,
    );
    fs.rmSync(file);
    fs.writeFileSync(file, "");
    expect(await verify(db, await evidence(db))).toMatchObject({ intact: false, broken: { kind: "unsigned" } });
  });

  it("starts from a checkpoint: the rows after it are verified from its head", async () => {
    const db = await getDb();
    await writeRows(db, 6);
    const checkpoint = (await checkpointer.run(db)) as Checkpoint;
    await writeRows(db, 4, "after");
    const start = { seq: checkpoint.seq, id: 0, hash: checkpoint.headHash };
    expect(await verify(db, await evidence(db), start)).toMatchObject({ intact: true, rowsVerified: 4, head: { seq: 10 } });
    // A break after the checkpoint is still found.
    await asSuperuser(db, sql`update account_logs set result = 'login_successful' where seq = 8`);
    expect(await verify(db, await evidence(db), start)).toMatchObject({ intact: false, broken: { kind: "edited" } });
  });

  it("does not sign a head the rows since the last checkpoint do not lead to", async () => {
    const db = await getDb();
    await writeRows(db, 3);
    expect(await checkpointer.run(db)).toMatchObject({ seq: 3 });
    await writeRows(db, 5);
    await asSuperuser(db, sql`update account_logs set username = 'edited' where seq = 6`);
    expect(await checkpointer.run(db)).toBeUndefined();
    expect((await readCheckpoints(db)).map((checkpoint) => checkpoint.seq)).toEqual([3]);
  });

  it("names a log with a signing key and many rows but no checkpoint at all", async () => {
    const db = await getDb();
    await writeRows(db, 9);
    const none = { checkpoints: [], publicKeys: [createPublicKey(key)] };
    expect(await verify(db, none)).toMatchObject({ intact: true });
    expect(await verify(db, { ...none, expectedEvery: 5 })).toMatchObject({
      intact: false,
      broken: { kind: "unsigned", detail: expect.stringContaining("no signed checkpoint of this log exists") },
    });
  });

  it("skips the checkpoints of another log in a shared file, and counts them", async () => {
    const db = await getDb();
    await writeRows(db, 3);
    await checkpointer.run(db);
    // Another database's checkpoint at a position this log has not reached: not a truncation here.
    const foreign = signCheckpoint(key, { logId: "00000000-0000-4000-8000-000000000000", seq: 99, headHash: "ab".repeat(32), rowCount: 99, signedAt: new Date() });
    fs.appendFileSync(file, checkpointLine(foreign));
    const gathered = await gatherCheckpointEvidence(db, { checkpointFile: file });
    expect(gathered).toMatchObject({ fromFile: 1, otherLogs: 1 });
    expect(gathered.checkpoints.map((checkpoint) => checkpoint.seq)).toEqual([3]);
    expect(await verify(db, { checkpoints: gathered.checkpoints, publicKeys: [createPublicKey(key)] })).toMatchObject({ intact: true });
  });

  it("needs the signing key's public half: a checkpoint of an unknown key is named, not passed", async () => {
    const db = await getDb();
    await writeRows(db, 2);
    await checkpointer.run(db);
    expect(await verify(db, await evidence(db, [createPublicKey(otherKey)]))).toMatchObject({
      intact: false,
      broken: { kind: "unsigned", detail: expect.stringContaining("which was not given") },
    });
  });
});
