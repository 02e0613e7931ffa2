import { Readable } from 'node:stream';

/**
 * A growable RowBinary writer: ClickHouse's native row format (little-endian fixed-width numbers,
 * LEB128-prefixed strings, a 0/1 byte before Nullable values). Used for the samples table, whose
 * inserts dominate the worker's CPU: no per-row objects, no JSON on either side (measured with
 * bench/worker-throughput.ts: JSONEachRow encoding was the top self-time function). Same bytes on
 * ClickHouse 18.16 and current versions.
 */
export class RowBinaryWriter {
  private buf: Buffer;
  private pos = 0;
  rows = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  /** A pre-encoded String column value (see `encodeString`). */
  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  string(s: string): void {
    this.raw(encodeString(s));
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** UInt64 or non-negative Int64 from a safe integer. */
  u64(v: number): void {
    this.ensure(8);
    if (v < 0) {
      this.buf.writeBigInt64LE(BigInt(v), this.pos);
    } else {
      this.buf.writeUInt32LE(v % 4294967296, this.pos);
      this.buf.writeUInt32LE(Math.floor(v / 4294967296), this.pos + 4);
    }
    this.pos += 8;
  }

  f32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Nullable(...): writes the null flag, and the value via `write` when present. */
  nullable(v: number | null | undefined, write: (v: number) => void): void {
    if (v === null || v === undefined || Number.isNaN(v)) {
      this.u8(1);
    } else {
      this.u8(0);
      write.call(this, v);
    }
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  stream(): Readable {
    return Readable.from([this.bytes()]);
  }
}

/** LEB128 length + UTF-8 bytes: a String value ready for `raw`. */
export function encodeString(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    len.push(b);
  } while (n);
  return Buffer.concat([Buffer.from(len), body]);
}
