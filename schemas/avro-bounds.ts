// Structural pre-check of untrusted Avro binary before avsc decodes it.
//
// avsc trusts array and map block counts: a 10-byte payload that claims 10^9 samples makes it loop
// 10^9 times over an exhausted buffer, building garbage records (a CPU and memory denial of service
// by any authenticated device). This walk reads the same bytes without building values and refuses
// a block count larger than the bytes left, a bad union index, a negative length, truncation and
// trailing bytes. After it passes, avsc's decode work is bounded by the payload size.
import type avro from 'avsc';

interface Cursor {
  buf: Buffer;
  pos: number;
}

// Zig-zag varint of at most 10 bytes; NaN when truncated or too long. Values beyond 2^53 lose
// precision, which is harmless here: they are refused as counts and lengths anyway.
function readLong(c: Cursor): number {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = c.buf[c.pos++];
    if (b === undefined) return Number.NaN;
    n += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    mul *= 128;
  }
  return Number.NaN;
}

function skipBytes(c: Cursor): boolean {
  const len = readLong(c);
  if (!(len >= 0) || len > c.buf.length - c.pos) return false;
  c.pos += len;
  return true;
}

function walk(type: avro.Type, c: Cursor): boolean {
  const t = type as avro.Type & {
    fields?: { type: avro.Type }[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    types?: avro.Type[];
    symbols?: string[];
    size?: number;
  };
  switch (type.typeName) {
    case 'null':
      return true;
    case 'boolean': {
      const b = c.buf[c.pos++];
      return b === 0 || b === 1;
    }
    case 'int':
    case 'long':
      return !Number.isNaN(readLong(c));
    case 'float':
      c.pos += 4;
      return c.pos <= c.buf.length;
    case 'double':
      c.pos += 8;
      return c.pos <= c.buf.length;
    case 'string':
    case 'bytes':
      return skipBytes(c);
    case 'fixed':
      c.pos += t.size ?? 0;
      return c.pos <= c.buf.length;
    case 'enum': {
      const i = readLong(c);
      return i >= 0 && i < (t.symbols?.length ?? 0);
    }
    case 'record':
    case 'error':
      for (const f of t.fields ?? []) if (!walk(f.type, c)) return false;
      return true;
    case 'array':
    case 'map':
      for (;;) {
        let n = readLong(c);
        if (Number.isNaN(n)) return false;
        if (n === 0) return true;
        if (n < 0) {
          n = -n;
          if (Number.isNaN(readLong(c))) return false; // block size in bytes, unused
        }
        // every item takes at least one byte in our schemas (no arrays of null or empty records)
        if (n > c.buf.length - c.pos) return false;
        for (let i = 0; i < n; i++) {
          if (type.typeName === 'map' && !skipBytes(c)) return false;
          const item = type.typeName === 'map' ? t.valuesType : t.itemsType;
          if (!item || !walk(item, c)) return false;
        }
      }
    default:
      if (t.types) {
        const i = readLong(c);
        const branch = t.types[i];
        return branch !== undefined && walk(branch, c);
      }
      // a logical type: walk its underlying type
      return false;
  }
}

/** True when `buf` is exactly one well-formed value of `type` with sane block counts. */
export function avroWellFormed(type: avro.Type, buf: Buffer): boolean {
  const c: Cursor = { buf, pos: 0 };
  return walk(type, c) && c.pos === buf.length;
}
