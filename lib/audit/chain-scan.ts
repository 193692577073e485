import { hash as sha256 } from "node:crypto";

/**
 * A fast first pass over the chain: the rows as PostgreSQL's binary COPY sends them, each
 * rebuilt into its canonical bytes (docs/audit.md) and hashed, with no row object or string
 * built on the common path. The metadata's binary form is its jsonb text, so the bytes the
 * database hashed are copied, not decoded and printed again. Only the first row that fails is
 * reported; `verify.ts` then walks around it to say what happened.
 */

/** The COPY of the rows with `afterId < id <= throughId`, in ID order, as the scan reads them. */
export function chainCopyQuery(afterId: number, throughId: number): string {
  return `copy (select id, occurred_at, username, username_truncated, username_normalized, user_id, result, host(ip),
    metadata, prev_hash, hash from account_logs where id > ${Math.trunc(afterId)} and id <= ${Math.trunc(throughId)} order by id)
    to stdout (format binary)`;
}

export type ScannedRow = { id: number; hash: Buffer };

export type ScanOutcome = {
  rows: number;
  /** The last row whose hash and link held. */
  last: ScannedRow | undefined;
  /** The first row whose hash or link did not hold. */
  firstBad: { id: number } | undefined;
};

/** Microseconds from 1970 to 2000, PostgreSQL's epoch for binary times. */
const POSTGRES_EPOCH_US = 946_684_800_000_000n;
const POSTGRES_EPOCH_US_NUMBER = 946_684_800_000_000;
const SIGNATURE_LENGTH = 11;
const HEADER_LENGTH = SIGNATURE_LENGTH + 8;
const FIELDS = 11;

/** Bytes that print as themselves inside a JSON string: printable ASCII but `"` and `\`. */
function isPlainJsonText(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buffer[i]!;
    if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) return false;
  }
  return true;
}

/** A JSON string of a field's UTF-8 bytes, escaped as jsonb prints it. */
function jsonString(buffer: Buffer, start: number, length: number): string {
  const end = start + length;
  return isPlainJsonText(buffer, start, end) ? `"${buffer.toString("latin1", start, end)}"` : JSON.stringify(buffer.toString("utf8", start, end));
}

/** The canonical bytes of one row, written after the previous hash into a reusable buffer. */
class RowEncoder {
  private out: Buffer = Buffer.alloc(4096);
  private length = 0;

  start(prevHash: Buffer): void {
    this.length = 0;
    this.raw(prevHash, 0, prevHash.length);
  }


  private room(extra: number): void {
    if (this.length + extra <= this.out.length) return;
    const grown = Buffer.alloc(Math.max(this.out.length * 2, this.length + extra));
    this.out.copy(grown, 0, 0, this.length);
    this.out = grown;
  }

  /** Text in UTF-8. */
  text(value: string): void {
    this.room(value.length * 3);
    this.length += this.out.write(value, this.length, "utf8");
  }

  raw(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    this.length += source.copy(this.out, this.length, start, end);
  }

  /** The closing bracket. */
  close(): void {
    this.room(1);
    this.out[this.length++] = 0x5d;
  }

  digest(): Buffer {
    return sha256("sha256", this.out.subarray(0, this.length), "buffer");
  }
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * "2026-11-26T09:05:40" for seconds since 1970 (UTC), by integer arithmetic: a `Date` and its ISO
 * string for every row cost more than the hash. Days to a civil date as in H. Hinnant's
 * `civil_from_days`.
 */
export function utcSecondText(epochSecond: number): string {
  const days = Math.floor(epochSecond / 86_400);
  const secondOfDay = epochSecond - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3_600);
  const minute = Math.floor((secondOfDay % 3_600) / 60);
  return `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(secondOfDay % 60)}`;
}

/**
 * "2026-11-26T09:05:40.123456Z" from a binary time (microseconds since 2000, big-endian), as
 * `to_char(… 'US')` writes it. Rows of the same second share the date and time part.
 */
class TimeText {
  private second = NaN;
  private prefix = "";

  read(buffer: Buffer, at: number): string {
    const high = buffer.readInt32BE(at);
    const low = buffer.readUInt32BE(at + 4);
    // Exact as a double within ±285 years of 2000; anything else takes the BigInt path.
    const micros =
      Math.abs(high) < 0x100000
        ? high * 0x1_0000_0000 + low + POSTGRES_EPOCH_US_NUMBER
        : Number(buffer.readBigInt64BE(at) + POSTGRES_EPOCH_US);
    const second = Math.floor(micros / 1_000_000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = utcSecondText(second);
    }
    const fraction = micros - second * 1_000_000;
    return `${this.prefix}.${fraction < 100_000 ? String(fraction).padStart(6, "0") : fraction}Z`;
  }
}

/**
 * Scans a binary COPY of `chainCopyQuery`, starting after a row whose hash is `prevHash`
 * (32 zero bytes before the first row). Stops at the first row that does not hold.
 */
export async function scanChain(
  source: AsyncIterable<Buffer>,
  prevHash: Buffer,
  onProgress: (rows: number, lastId: number) => void = () => {},
): Promise<ScanOutcome> {
  const encoder = new RowEncoder();
  const times = new TimeText();
  let expectedPrev: Buffer = Buffer.from(prevHash);
  let last: ScannedRow | undefined;
  let rows = 0;
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  const starts = new Int32Array(FIELDS);
  const lengths = new Int32Array(FIELDS);

  for await (const chunk of source) {
    let buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    if (!headerRead) {
      if (buffer.length < HEADER_LENGTH) {
        pending = buffer;
        continue;
      }
      offset = HEADER_LENGTH + buffer.readInt32BE(SIGNATURE_LENGTH + 4);
      headerRead = true;
    }
    for (;;) {
      if (buffer.length - offset < 2) break;
      const fieldCount = buffer.readInt16BE(offset);
      if (fieldCount === -1) {
        offset += 2;
        break;
      }
      if (fieldCount !== FIELDS) throw new Error(`The chain's COPY sent ${fieldCount} fields, not ${FIELDS}.`);
      let at = offset + 2;
      let whole = true;
      for (let field = 0; field < FIELDS; field++) {
        if (buffer.length - at < 4) {
          whole = false;
          break;
        }
        const length = buffer.readInt32BE(at);
        at += 4;
        if (length > 0 && buffer.length - at < length) {
          whole = false;
          break;
        }
        starts[field] = at;
        lengths[field] = length;
        if (length > 0) at += length;
      }
      if (!whole) break;
      offset = at;

      const id = Number(buffer.readBigInt64BE(starts[0]!));
      const prev = buffer.subarray(starts[9]!, starts[9]! + lengths[9]!);
      const stored = buffer.subarray(starts[10]!, starts[10]! + lengths[10]!);
      // Everything before the metadata as one string (one write), then the metadata's bytes.
      const userId = lengths[5]! < 0 ? "null" : String(buffer.readInt32BE(starts[5]!));
      const ip = lengths[7]! < 0 ? "null" : jsonString(buffer, starts[7]!, lengths[7]!);
      encoder.start(prev);
      encoder.text(
        `[1, ${id}, "${times.read(buffer, starts[1]!)}", ${jsonString(buffer, starts[2]!, lengths[2]!)}, ` +
          `${buffer[starts[3]!] ? "true" : "false"}, ${jsonString(buffer, starts[4]!, lengths[4]!)}, ${userId}, ` +
          `${jsonString(buffer, starts[6]!, lengths[6]!)}, ${ip}, `,
      );
      // jsonb's binary form: a version byte, then the text.
      encoder.raw(buffer, starts[8]! + 1, starts[8]! + lengths[8]!);
      encoder.close();
      if (!prev.equals(expectedPrev) || !encoder.digest().equals(stored)) return { rows, last, firstBad: { id } };
      expectedPrev = Buffer.from(stored);
      last = { id, hash: expectedPrev };
      rows += 1;
      if ((rows & 0xffff) === 0) onProgress(rows, id);
    }
    pending = buffer.subarray(offset);
    // Keep only the partial tuple, not the chunk it came in.
    if (pending.length) pending = Buffer.from(pending);
    buffer = pending;
  }
  if (last) onProgress(rows, last.id);
  return { rows, last, firstBad: undefined };
}
