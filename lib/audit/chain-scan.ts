import { hash as sha256 } from "node:crypto";

/**
 * A fast first pass over the chain: the rows as PostgreSQL's binary COPY sends them, each
 * rebuilt into its canonical bytes (docs/audit.md) and hashed, with no row object or string
 * built on the common path. The metadata's binary form is its jsonb text, so the bytes the
 * database hashed are copied, not decoded and printed again. Only the first row that fails is
 * reported; `verify.ts` then walks around it to say what happened.
 */

/**
 * The COPY of the rows with `afterSeq < seq <= throughSeq`, in chain order, as the scan reads them.
 * From the start (`afterSeq` 0) there is no lower bound: a row written below position 1 is read,
 * and fails the position check, rather than hidden.
 */
export function chainCopyQuery(afterSeq: number, throughSeq: number): string {
  const after = Math.trunc(afterSeq) > 0 ? `seq > ${Math.trunc(afterSeq)} and ` : "";
  return `copy (select id, occurred_at, username, username_truncated, username_normalized, user_id, result, host(ip),
    metadata, prev_hash, hash, seq from account_logs where ${after}seq <= ${Math.trunc(throughSeq)} order by seq)
    to stdout (format binary)`;
}

export type ScannedRow = { seq: number; id: number; hash: Buffer };

export type ScanOutcome = {
  rows: number;
  /** The last row whose hash and link held. */
  last: ScannedRow | undefined;
  /** The first row whose hash, link or position did not hold. */
  firstBad: { seq: number; id: number } | undefined;
};

/** Microseconds from 1970 to 2000, PostgreSQL's epoch for binary times. */
const POSTGRES_EPOCH_US = 946_684_800_000_000n;
const POSTGRES_EPOCH_US_NUMBER = 946_684_800_000_000;
const SIGNATURE_LENGTH = 11;
const HEADER_LENGTH = SIGNATURE_LENGTH + 8;
const FIELDS = 12;

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

const QUOTE = 0x22;
const COMMA_SPACE = [0x2c, 0x20];

/**
 * The canonical bytes of one row after the previous hash, written byte by byte into one
 * reusable buffer: no string is built for a row unless a field needs JSON escapes.
 */
class RowEncoder {
  private out: Buffer = Buffer.alloc(4096);
  private length = 0;
  private second = NaN;
  private secondBytes: Buffer = Buffer.alloc(0);

  private room(extra: number): void {
    if (this.length + extra <= this.out.length) return;
    const grown = Buffer.alloc(Math.max(this.out.length * 2, this.length + extra));
    this.out.copy(grown, 0, 0, this.length);
    this.out = grown;
  }

  begin(source: Buffer, prevStart: number, prevLength: number): void {
    this.length = 0;
    this.copy(source, prevStart, prevStart + prevLength);
    this.byte(0x5b); // [
    this.byte(0x31); // 1
    this.separator();
  }

  byte(value: number): void {
    this.room(1);
    this.out[this.length++] = value;
  }

  separator(): void {
    this.room(2);
    this.out[this.length++] = COMMA_SPACE[0]!;
    this.out[this.length++] = COMMA_SPACE[1]!;
  }

  copy(source: Buffer, start: number, end: number): void {
    this.room(end - start);
    // A short field is cheaper copied here than through Buffer#copy's checks.
    if (end - start <= 48) {
      const out = this.out;
      let at = this.length;
      for (let i = start; i < end; i++) out[at++] = source[i]!;
      this.length = at;
    } else {
      this.length += source.copy(this.out, this.length, start, end);
    }
  }

  /** ASCII text (digits, `true`, `null`). */
  ascii(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.out[this.length++] = text.charCodeAt(i);
  }

  /** A whole number, in decimal. */
  integer(value: number): void {
    if (value < 0 || !Number.isSafeInteger(value)) {
      this.ascii(String(value));
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.room(digits);
    for (let i = digits - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 10)) this.out[this.length + i] = 0x30 + (rest % 10);
    this.length += digits;
  }

  /** A field's UTF-8 bytes as a JSON string, escaped as jsonb prints it. */
  jsonString(source: Buffer, start: number, length: number): void {
    const end = start + length;
    // Copied as they are while they are plain printable ASCII; otherwise escaped as JSON.
    this.room(length + 2);
    const out = this.out;
    let at = this.length;
    out[at++] = QUOTE;
    for (let i = start; i < end; i++) {
      const byte = source[i]!;
      if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) {
        const escaped = Buffer.from(JSON.stringify(source.toString("utf8", start, end)), "utf8");
        this.copy(escaped, 0, escaped.length);
        return;
      }
      out[at++] = byte;
    }
    out[at++] = QUOTE;
    this.length = at;
  }

  /** `"2026-11-26T09:05:40.123456Z"` from a binary time: microseconds since 2000, big-endian. */
  time(source: Buffer, at: number): void {
    const high = source.readInt32BE(at);
    let second: number;
    let fraction: number;
    if (Math.abs(high) < 0x100000) {
      // Within ±142 years of 2000 the microseconds are exact as a double.
      const micros = high * 0x1_0000_0000 + source.readUInt32BE(at + 4) + POSTGRES_EPOCH_US_NUMBER;
      second = Math.floor(micros / 1_000_000);
      fraction = micros - second * 1_000_000;
    } else {
      const micros = source.readBigInt64BE(at) + POSTGRES_EPOCH_US;
      let seconds = micros / 1_000_000n;
      let rest = micros % 1_000_000n;
      if (rest < 0n) {
        rest += 1_000_000n;
        seconds -= 1n;
      }
      second = Number(seconds);
      fraction = Number(rest);
    }
    // Rows of the same second share the date and time.
    if (second !== this.second) {
      this.second = second;
      this.secondBytes = Buffer.from(utcSecondText(second), "latin1");
    }
    this.byte(QUOTE);
    this.copy(this.secondBytes, 0, this.secondBytes.length);
    this.byte(0x2e); // .
    this.room(6);
    for (let i = 5; i >= 0; i--) {
      this.out[this.length + i] = 0x30 + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    this.length += 6;
    this.byte(0x5a); // Z
    this.byte(QUOTE);
  }

  digest(): Buffer {
    return sha256("sha256", this.out.subarray(0, this.length), "buffer");
  }
}

/**
 * Scans a binary COPY of `chainCopyQuery`, starting after the row at `afterSeq` whose hash is
 * `prevHash` (0 and 32 zero bytes before the first row). Stops at the first row that does not
 * hold: its hash, its link to the row before, or its position (`seq` one more than the last).
 */
export async function scanChain(
  source: AsyncIterable<Buffer>,
  prevHash: Buffer,
  onProgress: (rows: number, lastSeq: number) => void = () => {},
  afterSeq = 0,
): Promise<ScanOutcome> {
  const encoder = new RowEncoder();
  // The hash the next row must link to, and the last row that held.
  const expectedPrev = Buffer.from(prevHash);
  let lastSeq = afterSeq;
  let lastId: number | undefined;
  const lastRow = (): ScannedRow | undefined =>
    lastId === undefined ? undefined : { seq: lastSeq, id: lastId, hash: Buffer.from(expectedPrev) };
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

      const id = buffer.readInt32BE(starts[0]!) * 0x1_0000_0000 + buffer.readUInt32BE(starts[0]! + 4);
      const seq = buffer.readInt32BE(starts[11]!) * 0x1_0000_0000 + buffer.readUInt32BE(starts[11]! + 4);
      const prevStart = starts[9]!;
      const storedStart = starts[10]!;
      encoder.begin(buffer, prevStart, lengths[9]!);
      encoder.integer(id);
      encoder.separator();
      encoder.time(buffer, starts[1]!);
      encoder.separator();
      encoder.jsonString(buffer, starts[2]!, lengths[2]!);
      encoder.ascii(buffer[starts[3]!] ? ", true, " : ", false, ");
      encoder.jsonString(buffer, starts[4]!, lengths[4]!);
      encoder.separator();
      if (lengths[5]! < 0) encoder.ascii("null");
      else encoder.integer(buffer.readInt32BE(starts[5]!));
      encoder.separator();
      encoder.jsonString(buffer, starts[6]!, lengths[6]!);
      encoder.separator();
      if (lengths[7]! < 0) encoder.ascii("null");
      else encoder.jsonString(buffer, starts[7]!, lengths[7]!);
      encoder.separator();
      // jsonb's binary form: a version byte, then the text.
      encoder.copy(buffer, starts[8]! + 1, starts[8]! + lengths[8]!);
      encoder.byte(0x5d); // ]
      const linked = lengths[9] === 32 && expectedPrev.compare(buffer, prevStart, prevStart + 32) === 0;
      if (!linked || seq !== lastSeq + 1 || lengths[10] !== 32 || encoder.digest().compare(buffer, storedStart, storedStart + 32) !== 0) {
        return { rows, last: lastRow(), firstBad: { seq, id } };
      }
      // The next row links to this one: keep its hash (the chunk's bytes are reused).
      buffer.copy(expectedPrev, 0, storedStart, storedStart + 32);
      lastId = id;
      lastSeq = seq;
      rows += 1;
      if ((rows & 0xffff) === 0) onProgress(rows, seq);
    }
    pending = buffer.subarray(offset);
    // Keep only the partial tuple, not the chunk it came in.
    if (pending.length) pending = Buffer.from(pending);
    buffer = pending;
  }
  if (lastId !== undefined) onProgress(rows, lastSeq);
  return { rows, last: lastRow(), firstBad: undefined };
}
