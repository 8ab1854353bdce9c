/**
 * Rows in COPY's binary format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary
 * Format"), for Db.copyFrom. Writing numbers as bytes costs a fraction of formatting them as text
 * (a float as text took about 110 ns in Node and as much again for the server to parse), which
 * matters at a million rows. Each row states its field count; every field is its length and its
 * value in network byte order, or length -1 for null. The caller writes the fields in the order
 * and of the types of the target's columns.
 */
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]; // PGCOPY\n\377\r\n\0
const TWO_32 = 2 ** 32;
/** Postgres counts dates and times from 2000-01-01; these count from 1970-01-01. */
const PG_EPOCH_DAY = 10_957;
const PG_EPOCH_MS = PG_EPOCH_DAY * 86_400_000;

export class CopyBinaryWriter {
  private buf: Buffer;
  private at = 0;

  constructor(expectedBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(64, expectedBytes));
    for (const b of SIGNATURE) this.buf[this.at++] = b;
    this.at = this.buf.writeInt32BE(0, this.buf.writeInt32BE(0, this.at)); // flags, header extension length
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  /** Starts a row of `fields` fields, of which text fields are at most `textBytes` bytes in all. */
  row(fields: number, textBytes = 0): this {
    this.room(2 + fields * 12 + textBytes);
    this.at = this.buf.writeInt16BE(fields, this.at);
    return this;
  }

  /** A bigint: any safe integer. */
  int8(v: number | null): this {
    if (v === null) return this.null();
    const hi = Math.floor(v / TWO_32);
    this.at = this.buf.writeInt32BE(8, this.at);
    this.at = this.buf.writeInt32BE(hi, this.at);
    this.at = this.buf.writeUInt32BE(v - hi * TWO_32, this.at);
    return this;
  }

  int4(v: number | null): this {
    if (v === null) return this.null();
    this.at = this.buf.writeInt32BE(4, this.at);
    this.at = this.buf.writeInt32BE(v, this.at);
    return this;
  }

  float8(v: number | null): this {
    if (v === null) return this.null();
    this.at = this.buf.writeInt32BE(8, this.at);
    this.at = this.buf.writeDoubleBE(v, this.at);
    return this;
  }

  int2(v: number | null): this {
    if (v === null) return this.null();
    this.at = this.buf.writeInt32BE(2, this.at);
    this.at = this.buf.writeInt16BE(v, this.at);
    return this;
  }

  /** Text, as its UTF-8 bytes (encode once what repeats: Buffer.from(text)); or a bytea's bytes. */
  text(bytes: Uint8Array | null): this {
    if (bytes === null) return this.null();
    this.at = this.buf.writeInt32BE(bytes.length, this.at);
    this.buf.set(bytes, this.at);
    this.at += bytes.length;
    return this;
  }

  /** A date, from a day number (whole UTC days since 1970-01-01). */
  date(day: number | null): this {
    return this.int4(day === null ? null : day - PG_EPOCH_DAY);
  }

  /** A timestamptz, from milliseconds since 1970-01-01 UTC. */
  timestamptz(ms: number | null): this {
    return this.int8(ms === null ? null : (ms - PG_EPOCH_MS) * 1000);
  }

  /** A row's address (ctid), as a number from {@link readCopyBinary}: its block times 65,536 plus its line. */
  tid(v: number | null): this {
    if (v === null) return this.null();
    this.at = this.buf.writeInt32BE(6, this.at);
    this.at = this.buf.writeUInt32BE(Math.floor(v / 65_536), this.at);
    this.at = this.buf.writeUInt16BE(v % 65_536, this.at);
    return this;
  }

  bool(v: boolean): this {
    this.at = this.buf.writeInt32BE(1, this.at);
    this.buf[this.at++] = v ? 1 : 0;
    return this;
  }

  null(): this {
    this.at = this.buf.writeInt32BE(-1, this.at);
    return this;
  }

  /** The bytes, with the trailer. The writer is not to be used afterwards. */
  finish(): Uint8Array {
    this.room(2);
    this.at = this.buf.writeInt16BE(-1, this.at);
    return this.buf.subarray(0, this.at);
  }
}

/**
 * How to read a column of {@link readCopyBinary}: an integer (int2, int4 or int8, by its length;
 * a boolean as 1 or 0), a float8, a row address (tid: its block times 65,536 plus its line), a
 * date (as a day number, whole days since 1970-01-01: selecting the date as it is spares the
 * server a subtraction per row), or where the field's bytes lie (`offset`: the index in the data
 * of its first byte, after the four bytes of its length; for a bytea the caller decodes).
 */
export type CopyColumn = 'int' | 'float8' | 'tid' | 'date' | 'offset';

/**
 * The columns of COPY … TO in binary format (Db.copyTo): one array per column, null for SQL null.
 * Integers are read by their length (int8 must be a safe integer, as every id and day here is);
 * a float8 column must say so, since it is eight bytes as an int8 is. Reading a million rows of
 * numbers this way costs the server half of what formatting them as text array literals does.
 */
export function readCopyBinary(data: Uint8Array, columns: readonly CopyColumn[]): (number | null)[][] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < SIGNATURE.length; i++) if (data[i] !== SIGNATURE[i]) throw new Error('not COPY binary data');
  const start = SIGNATURE.length + 8 + view.getInt32(SIGNATURE.length + 4);
  // The rows are counted first, so that each column is allocated once at its size: growing a
  // million-element array by pushes leaves its smaller copies to the garbage collector.
  let rows = 0;
  for (let at = start; ; rows++) {
    const fields = view.getInt16(at);
    at += 2;
    if (fields === -1) break;
    if (fields !== columns.length) throw new Error(`COPY row of ${fields} fields, ${columns.length} expected`);
    for (let c = 0; c < fields; c++) {
      const length = view.getInt32(at);
      at += 4 + Math.max(0, length);
    }
  }
  const out = columns.map(() => new Array<number | null>(rows));
  let at = start;
  for (let r = 0; r < rows; r++) {
    at += 2;
    for (let c = 0; c < columns.length; c++) {
      const length = view.getInt32(at);
      at += 4;
      const column = out[c]!;
      if (length === -1) column[r] = null;
      else if (columns[c] === 'offset') column[r] = at;
      else if (columns[c] === 'float8') column[r] = view.getFloat64(at);
      else if (columns[c] === 'date') column[r] = view.getInt32(at) + PG_EPOCH_DAY;
      else if (columns[c] === 'tid') {
        if (length !== 6) throw new Error(`COPY field of ${length} bytes where a tid was expected`);
        column[r] = view.getUint32(at) * 65_536 + view.getUint16(at + 4);
      }
      else if (length === 8) column[r] = view.getInt32(at) * TWO_32 + view.getUint32(at + 4);
      else if (length === 4) column[r] = view.getInt32(at);
      else if (length === 2) column[r] = view.getInt16(at);
      else if (length === 1) column[r] = data[at]!; // a boolean: 1 or 0
      else throw new Error(`COPY field of ${length} bytes where an integer was expected`);
      if (length > 0) at += length;
    }
  }
  return out;
}
