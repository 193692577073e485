import postgres from "postgres";
import { chainCopyQuery, scanChain } from "./chain-scan";

export type RangeTask = { url: string; afterSeq: number; throughSeq: number; prevHash: string };
export type RangeResult = {
  rows: number;
  last: { seq: number; id: number; hash: string } | undefined;
  firstBad: { seq: number; id: number } | undefined;
};

/**
 * Scans the rows with `afterSeq < seq <= throughSeq` on a connection of its own, from the hash
 * of the row at `afterSeq`: one range of a parallel verification (`parallel-verify.ts`).
 */
export async function scanRange({ url, afterSeq, throughSeq, prevHash }: RangeTask): Promise<RangeResult> {
  const client = postgres(url, {
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: `account-logs verify ${afterSeq}`, statement_timeout: 0 },
  });
  try {
    const chunks = (await client.unsafe(chainCopyQuery(afterSeq, throughSeq)).readable()) as AsyncIterable<Buffer>;
    const scan = await scanChain(chunks, Buffer.from(prevHash, "hex"), () => {}, afterSeq);
    return { rows: scan.rows, last: scan.last && { seq: scan.last.seq, id: scan.last.id, hash: scan.last.hash.toString("hex") }, firstBad: scan.firstBad };
  } finally {
    // Stopped at a break, the COPY is cut short with its connection.
    await client.end({ timeout: 0 });
  }
}
