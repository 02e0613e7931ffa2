import { Readable } from 'node:stream';

/**
 * A growable RowBinary writer: ClickHouse's native row format (little-endian fixed-width numbers,
 * LEB128-prefixed strings, a 0/1 byte before Nullable values). Used for the samples table, whose
 * inserts dominate the worker's CPU: no per-row objects, no JSON on either side (measured with
 * bench/worker-throughput.ts: JSONEachRow encoding was the top self-time function). Same bytes on
 * ClickHouse 18.16 and current versions.
 */
/**
 * The column-value calls a row encoder makes, in column order. RowBinaryWriter turns them into
 * RowBinary bytes; JsonRowWriter into JSONEachRow objects (for clients that cannot send a binary
 * body: chdb's @clickhouse/client connection converts request bodies to UTF-8 text).
 */
export interface RowWriter {
  rows: number;
  /** String columns; `encoded` is the same strings pre-encoded with encodeString (for RowBinary) */
  strings(values: readonly string[], encoded: Buffer): void;
  u8(v: number): void;
  u16(v: number): void;
  u32(v: number): void;
  u64(v: number): void;
  f32(v: number): void;
  f64(v: number): void;
  nullable(v: number | null | undefined, kind: NumberKind): void;
}

export type NumberKind = 'u8' | 'u16' | 'u32' | 'u64' | 'f32' | 'f64';

export class RowBinaryWriter implements RowWriter {
  private buf: Buffer;
  /** DataView over `buf`: its little-endian setters compile to plain stores (Buffer's write*LE check and dispatch per call) */
  private view: DataView;
  private pos = 0;
  rows = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    next.set(this.buf.subarray(0, this.pos), 0);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  get length(): number {
    return this.pos;
  }

  /** A pre-encoded String column value (see `encodeString`). */
  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  string(s: string): void {
    this.raw(encodeString(s));
  }

  strings(_values: readonly string[], encoded: Buffer): void {
    this.raw(encoded);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  /** UInt64 or non-negative Int64 from a safe integer. */
  u64(v: number): void {
    this.ensure(8);
    if (v < 0) {
      this.view.setBigInt64(this.pos, BigInt(v), true);
    } else {
      this.view.setUint32(this.pos, v % 4294967296, true);
      this.view.setUint32(this.pos + 4, Math.floor(v / 4294967296), true);
    }
    this.pos += 8;
  }

  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** LEB128 unsigned integer: the length before an Array's elements. */
  varUInt(n: number): void {
    this.ensure(10);
    let v = n;
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v) b |= 0x80;
      this.buf[this.pos++] = b;
    } while (v);
  }

  /**
   * The first `n` elements of a typed array as RowBinary array elements of its own width: its bytes
   * as they are in memory, which is little-endian on every platform Node runs on here (checked once).
   */
  typed(a: Float64Array | Float32Array | Uint8Array | Uint16Array, n: number): void {
    const bytes = n * a.BYTES_PER_ELEMENT;
    this.ensure(bytes);
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, bytes), this.pos);
    this.pos += bytes;
  }

  /** Nullable(...): the null flag, then the value when present (one bounds check for both). */
  nullable(v: number | null | undefined, kind: NumberKind): void {
    if (v === null || v === undefined || Number.isNaN(v)) {
      this.u8(1);
      return;
    }
    this.ensure(9);
    this.buf[this.pos++] = 0;
    const p = this.pos;
    switch (kind) {
      case 'u8':
        this.buf[p] = v;
        this.pos = p + 1;
        return;
      case 'u16':
        this.view.setUint16(p, v, true);
        this.pos = p + 2;
        return;
      case 'u32':
        this.view.setUint32(p, v >>> 0, true);
        this.pos = p + 4;
        return;
      case 'f32':
        this.view.setFloat32(p, v, true);
        this.pos = p + 4;
        return;
      case 'f64':
        this.view.setFloat64(p, v, true);
        this.pos = p + 8;
        return;
      case 'u64':
        this.u64(v);
    }
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  stream(): Readable {
    return Readable.from([this.bytes()]);
  }
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('RowBinaryWriter.typed needs a little-endian platform');
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

/** Collects the same calls as plain values, one array per row, for JSONEachRow inserts. */
export class JsonRowWriter implements RowWriter {
  rows = 0;
  private current: unknown[] = [];
  private readonly out: unknown[][] = [];
  private readonly width: number;

  constructor(private readonly columns: readonly string[]) {
    this.width = columns.length;
  }

  private push(v: unknown): void {
    this.current.push(v);
    if (this.current.length === this.width) {
      this.out.push(this.current);
      this.current = [];
    }
  }

  strings(values: readonly string[], _encoded?: Buffer): void {
    for (const v of values) this.push(v);
  }
  u8(v: number): void {
    this.push(v);
  }
  u16(v: number): void {
    this.push(v);
  }
  u32(v: number): void {
    this.push(v);
  }
  u64(v: number): void {
    this.push(v);
  }
  f32(v: number): void {
    this.push(v);
  }
  f64(v: number): void {
    this.push(v);
  }
  nullable(v: number | null | undefined, _kind: NumberKind): void {
    this.push(v === null || v === undefined || Number.isNaN(v) ? null : v);
  }

  objects(): Record<string, unknown>[] {
    return this.out.map((row) => Object.fromEntries(row.map((v, i) => [this.columns[i]!, v])));
  }
}
