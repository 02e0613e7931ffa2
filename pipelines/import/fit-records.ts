// FIT record messages decoded straight into columns, and everything else handed to fit-file-parser.
//
// Why: fit-file-parser builds an object per message and formats each field through its profile lookups;
// on a 24 h ride (86 400 records) that was 44 % of an import's CPU (bench/results/import-throughput.md).
// Record messages (global 20) are ~99 % of an activity file, and parseFit reads 13 of their fields. So one
// walk over the file decodes those 13 fields of every record into typed columns, and copies every other
// message (definitions, file_id, session, lap, event, field descriptions) into a small FIT file that the
// library decodes as before. Whatever this walker does not handle exactly as fit-file-parser 6.1 does
// (a bad CRC, a structural error, a compressed-timestamp header on a message the library must decode, a
// developer field that would overwrite a record field, a timestamp field of another base type) makes it
// return null, and the caller decodes the file with the library alone: the library stays the reference
// for every error and every odd file. fit-records.test.ts proves the two paths equal on every FIT file of
// the corpus (test/fixtures/import) and on synthetic files with every field shape the walker accepts.

/** Column of each record field parseFit reads. */
export const COL = {
  ts: 0,
  lat: 1,
  lon: 2,
  alt: 3,
  ealt: 4,
  speed: 5,
  espeed: 6,
  dist: 7,
  hr: 8,
  cadence: 9,
  fcadence: 10,
  power: 11,
  acc: 12,
} as const;
export const COLS = 13;

/** The record (global 20) fields of the FIT profile that parseFit reads, as fit-file-parser's profile has them. */
const RECORD_FIELDS: ReadonlyArray<{ num: number; col: number; name: string; base: number }> = [
  { num: 253, col: COL.ts, name: 'timestamp', base: 0x86 },
  { num: 0, col: COL.lat, name: 'position_lat', base: 0x85 },
  { num: 1, col: COL.lon, name: 'position_long', base: 0x85 },
  { num: 2, col: COL.alt, name: 'altitude', base: 0x84 },
  { num: 78, col: COL.ealt, name: 'enhanced_altitude', base: 0x86 },
  { num: 6, col: COL.speed, name: 'speed', base: 0x84 },
  { num: 73, col: COL.espeed, name: 'enhanced_speed', base: 0x86 },
  { num: 5, col: COL.dist, name: 'distance', base: 0x86 },
  { num: 3, col: COL.hr, name: 'heart_rate', base: 0x02 },
  { num: 4, col: COL.cadence, name: 'cadence', base: 0x02 },
  { num: 53, col: COL.fcadence, name: 'fractional_cadence', base: 0x02 },
  { num: 7, col: COL.power, name: 'power', base: 0x84 },
  { num: 31, col: COL.acc, name: 'gps_accuracy', base: 0x02 },
];
const FIELD_OF = new Map(RECORD_FIELDS.map((f) => [f.num, f]));
/** Names a developer field must not have on a record: the library would let it overwrite the native field. */
export const RECORD_FIELD_NAMES: ReadonlySet<string> = new Set(RECORD_FIELDS.map((f) => f.name));

/** Global message numbers whose messages the library still decodes: file_id, session, lap, event, field_description, developer_data_id. */
const KEEP: ReadonlySet<number> = new Set([0, 18, 19, 21, 206, 207]);
const RECORD = 20;
const TIMESTAMP = 253;
const UINT32 = 0x86;
/** FIT time 0 (1989-12-31T00:00:00Z) in Unix ms, as fit-file-parser adds it. */
const GARMIN_TIME_OFFSET = 631065600000;
/** Semicircles to degrees, the library's constant (computed the same way, so the product is the same double). */
const SC = 180 / 2 ** 31;

// How the library reads a value, by wire base type: 0 one byte (enum, uint8, byte), 1 uint16, 2 uint32, 3 sint32.
const U8 = 0;
const U16 = 1;
const U32 = 2;
const S32 = 3;
const UINT8_FAMILY = new Set([0x00, 0x02, 0x0d]);

/** One local definition, compiled. */
interface Def {
  global: number;
  le: boolean;
  /** data bytes of a normal-header message, and of a compressed-timestamp one (field 0 skipped when it is 253) */
  size: number;
  sizeCompressed: number;
  /** offsets of timestamp (253) fields, in order (normal header): each one sets or clears the last timestamp */
  tsOffsets: number[];
  /** record only: (column, offset, reader) triples for the normal header, and for the compressed header */
  plan: Int32Array;
  planCompressed: Int32Array;
}

export interface FitRecordColumns {
  /** records decoded, in file order */
  length: number;
  /**
   * cols[c][i]: field c of record i as fit-file-parser formats it (timestamp in Unix ms), NaN where the
   * library leaves the field out
   */
  cols: Float64Array[];
}

export interface FitSplit {
  records: FitRecordColumns;
  /** the same FIT file without its record messages (every definition kept), for fit-file-parser */
  rest: Uint8Array;
  /** (developer data index, field number) of every developer field that a record definition declares */
  recordDevFields: Array<[number, number]>;
}

/**
 * One FIT file (header to CRC, no chained file after it): its records as columns, the rest as a FIT file.
 * Null when the file is anything but a well-formed FIT file this walker reads exactly as the library does.
 */
export function splitFitRecords(b: Uint8Array): FitSplit | null {
  const hs = b[0]!;
  if ((hs !== 12 && hs !== 14) || b.length < hs + 2) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataEnd = hs + view.getUint32(4, true);
  if (dataEnd + 2 > b.length) return null;
  if (hs === 14) {
    const hc = view.getUint16(12, true);
    if (hc !== 0 && hc !== fitCrc(b, 0, 12)) return null;
  }
  if (view.getUint16(dataEnd, true) !== fitCrc(b, 0, dataEnd)) return null;

  const defs: (Def | undefined)[] = new Array(16);
  let cap = Math.max(16, Math.ceil((dataEnd - hs) / 32));
  // NaN (left out) until a record sets the field
  let cols = Array.from({ length: COLS }, () => new Float64Array(cap).fill(Number.NaN));
  let n = 0;
  const rest = new Uint8Array(dataEnd + 2);
  rest.set(b.subarray(0, 12));
  rest[0] = 14;
  let ro = 14;
  const recordDevFields: Array<[number, number]> = [];
  let lastTs: number | undefined;
  let i = hs;
  while (i < dataEnd) {
    const h = b[i]!;
    if ((h & 0x80) === 0 && (h & 0x40) !== 0) {
      const def = compileDefinition(b, i, dataEnd, recordDevFields);
      if (def === null) return null;
      defs[h & 15] = def.def;
      rest.set(b.subarray(i, def.end), ro);
      ro += def.end - i;
      i = def.end;
      continue;
    }
    const compressed = (h & 0x80) !== 0;
    if (!compressed && (h & 0x30) !== 0) return null;
    const def = defs[compressed ? (h & 0x60) >> 5 : h & 15];
    if (def === undefined) return null;
    const start = i + 1;
    const end = start + (compressed ? def.sizeCompressed : def.size);
    if (end > dataEnd) return null;
    let ts = Number.NaN;
    if (compressed) {
      if (lastTs === undefined) return null;
      const off = h & 0x1f;
      const prevOff = lastTs & 0x1f;
      const t = lastTs - prevOff + off + (off < prevOff ? 0x20 : 0);
      if (t >= 0xffffffff) return null;
      lastTs = t;
      ts = t * 1000 + GARMIN_TIME_OFFSET;
    } else {
      for (const o of def.tsOffsets) {
        const v = def.le ? view.getUint32(start + o, true) : view.getUint32(start + o, false);
        lastTs = v === 0xffffffff ? undefined : v;
      }
    }
    if (def.global === RECORD) {
      if (n === cap) {
        cap *= 2;
        cols = cols.map((c) => {
          const bigger = new Float64Array(cap).fill(Number.NaN);
          bigger.set(c);
          return bigger;
        });
      }
      readRecord(view, start, def.le, compressed ? def.planCompressed : def.plan, cols, n);
      // a compressed timestamp is set after the fields, over any timestamp field the message has
      if (compressed) cols[COL.ts]![n] = ts;
      n++;
    } else if (KEEP.has(def.global)) {
      // the library would date this message from the records' timestamps, which it will not see
      if (compressed) return null;
      rest.set(b.subarray(i, end), ro);
      ro += end - i;
    }
    i = end;
  }
  if (i !== dataEnd) return null;
  new DataView(rest.buffer).setUint32(4, ro - 14, true);
  rest[12] = 0; // header CRC 0: "not computed", which the library accepts
  rest[13] = 0;
  const crc = fitCrc(rest, 0, ro);
  rest[ro] = crc & 0xff;
  rest[ro + 1] = crc >> 8;
  return {
    records: { length: n, cols: cols.map((c) => c.subarray(0, n)) },
    rest: rest.subarray(0, ro + 2),
    recordDevFields,
  };
}

function compileDefinition(
  b: Uint8Array,
  i: number,
  dataEnd: number,
  recordDevFields: Array<[number, number]>,
): { def: Def; end: number } | null {
  const h = b[i]!;
  if (i + 6 > dataEnd) return null;
  const le = b[i + 2] === 0;
  const global = le ? b[i + 3]! | (b[i + 4]! << 8) : b[i + 4]! | (b[i + 3]! << 8);
  const nf = b[i + 5]!;
  const hasDev = (h & 0x20) !== 0;
  let end = i + 6 + nf * 3;
  if (end + (hasDev ? 1 : 0) > dataEnd) return null;
  const nd = hasDev ? b[end]! : 0;
  if (hasDev) end += 1 + nd * 3;
  if (end > dataEnd) return null;
  let size = 0;
  let sizeCompressed = 0;
  const tsOffsets: number[] = [];
  const plan: number[] = [];
  const planCompressed: number[] = [];
  for (let k = 0; k < nf; k++) {
    const p = i + 6 + k * 3;
    const num = b[p]!;
    const fsize = b[p + 1]!;
    const base = b[p + 2]!;
    // a compressed-timestamp message has no bytes for a leading timestamp field (the library skips it)
    const skipWhenCompressed = k === 0 && num === TIMESTAMP;
    if (num === TIMESTAMP) {
      // the library's invalid-value rule for a timestamp is that of its wire type; uint32 is the only one read here
      if (base !== UINT32) return null;
      if (fsize >= 4 && fsize % 4 === 0) tsOffsets.push(size);
      else tsOffsets.push(-1);
    }
    if (global === RECORD) {
      const f = FIELD_OF.get(num);
      if (f !== undefined) {
        const reader = readerFor(f.base, base, fsize);
        if (reader === null) return null;
        if (reader >= 0) {
          plan.push(f.col, size, reader);
          if (!skipWhenCompressed) planCompressed.push(f.col, sizeCompressed, reader);
        }
      }
    }
    size += fsize;
    if (!skipWhenCompressed) sizeCompressed += fsize;
  }
  // a timestamp field too short for its type is invalid data: it clears the last timestamp
  if (tsOffsets.includes(-1)) return null;
  for (let k = 0; k < nd; k++) {
    const p = i + 6 + nf * 3 + 1 + k * 3;
    const fsize = b[p + 1]!;
    if (global === RECORD) recordDevFields.push([b[p + 2]!, b[p]!]);
    size += fsize;
    sizeCompressed += fsize;
  }
  return {
    def: {
      global,
      le,
      size,
      sizeCompressed,
      tsOffsets,
      plan: Int32Array.from(plan),
      planCompressed: Int32Array.from(planCompressed),
    },
    end,
  };
}

/**
 * How the library reads a field whose profile base type is `profile` and whose definition says `wire`:
 * a reader; -1 when the library leaves the field out (a wire type it does not match to the profile's, or a
 * size that is no whole number of values); null when the wire type is one this walker does not know.
 */
function readerFor(profile: number, wire: number, size: number): number | null {
  const compatible = wire === profile || (UINT8_FAMILY.has(profile) && UINT8_FAMILY.has(wire));
  if (!compatible) return KNOWN_WIRE.has(wire) ? -1 : null;
  const reader = profile === 0x02 ? U8 : profile === 0x84 ? U16 : profile === 0x86 ? U32 : S32;
  const width = reader === U8 ? 1 : reader === U16 ? 2 : 4;
  return size >= width && size % width === 0 ? reader : -1;
}
const KNOWN_WIRE = new Set([
  0x00, 0x01, 0x02, 0x07, 0x0a, 0x0d, 0x83, 0x84, 0x85, 0x86, 0x88, 0x89, 0x8b, 0x8c, 0x8e, 0x8f, 0x90,
]);

/**
 * One record's fields, formatted as fit-file-parser formats them (binary.js formatByType, then applyOptions
 * with its default units m and m/s, whose conversion is `x * 1 + 0`): the all-ones value (0x7FFFFFFF for a
 * sint32) is invalid and leaves the field out; a field the definition repeats takes its last value.
 */
function readRecord(
  view: DataView,
  start: number,
  le: boolean,
  plan: Int32Array,
  cols: Float64Array[],
  row: number,
): void {
  for (let k = 0; k < plan.length; k += 3) {
    const col = plan[k]!;
    const at = start + plan[k + 1]!;
    const reader = plan[k + 2]!;
    let v: number;
    if (reader === U8) {
      v = view.getUint8(at);
      if (v === 0xff) continue;
    } else if (reader === U16) {
      v = view.getUint16(at, le);
      if (v === 0xffff) continue;
    } else if (reader === U32) {
      v = view.getUint32(at, le);
      if (v === 0xffffffff) continue;
    } else {
      v = view.getInt32(at, le);
      if (v === 0x7fffffff) continue;
    }
    cols[col]![row] = format(col, v);
  }
}

function format(col: number, v: number): number {
  switch (col) {
    case COL.ts:
      return v * 1000 + GARMIN_TIME_OFFSET;
    case COL.lat:
    case COL.lon:
      return v * SC;
    case COL.alt:
    case COL.ealt:
      return (v / 5 + -500) * 1 + 0;
    case COL.speed:
    case COL.espeed:
      return (v / 1000 + 0) * 1 + 0;
    case COL.dist:
      return (v / 100 + 0) * 1 + 0;
    case COL.fcadence:
      return v / 128 + 0;
    case COL.acc:
      return (v / 1 + 0) * 1 + 0;
    default: // heart_rate, cadence, power: scale 1
      return v / 1 + 0;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * The FIT CRC (CRC-16/ARC: polynomial 0x8005 reflected, initial 0), a byte at a time. FIT's SDK computes it a
 * nibble at a time with a 16-entry table; both give the same CRC (fit-records.test.ts checks every corpus file,
 * whose stored CRCs the library verifies).
 */
export function fitCrc(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ b[i]!) & 0xff]!;
  return crc;
}
