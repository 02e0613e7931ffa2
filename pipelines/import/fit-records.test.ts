import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import FitParser from 'fit-file-parser';
import { FitEncoder } from 'fit-file-parser/encoder';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/import-fixtures.js';
import { parseFit } from './fit.js';
import { COL, type FitRecordColumns, fitCrc, splitFitRecords } from './fit-records.js';

// The hand-written record decoder against the library it replaces on the hot path (fit-file-parser 6.1):
// on every FIT file of the corpus, and on hand-built files with the field shapes the walker must read the
// library's way (big-endian, compressed timestamps, enum-typed fields, invalid values, repeated and
// oversized fields, a wire type the library drops), the columns hold exactly the library's values, the
// non-record rest decodes to the library's sessions, laps, events and file ids, and parseFit gives a
// deep-equal result with decoder 'auto' and 'library'.

const CORPUS = readdirSync(new URL('../../test/fixtures/import/', import.meta.url)).filter((f) =>
  /\.fit(\.gz)?$/.test(f),
);

const FIELDS: [number, string][] = [
  [COL.ts, 'timestamp'],
  [COL.lat, 'position_lat'],
  [COL.lon, 'position_long'],
  [COL.alt, 'altitude'],
  [COL.ealt, 'enhanced_altitude'],
  [COL.speed, 'speed'],
  [COL.espeed, 'enhanced_speed'],
  [COL.dist, 'distance'],
  [COL.hr, 'heart_rate'],
  [COL.cadence, 'cadence'],
  [COL.fcadence, 'fractional_cadence'],
  [COL.power, 'power'],
  [COL.acc, 'gps_accuracy'],
];

type Msg = Record<string, unknown>;

function library(b: Uint8Array): Msg {
  let out: Msg | undefined;
  let error: string | undefined;
  const copy = new Uint8Array(b);
  new FitParser({ force: false, mode: 'list' }).parse(copy.buffer, (e, d) => {
    error = e;
    out = d as unknown as Msg;
  });
  if (error) throw new Error(error);
  return out!;
}

/** The library's record fields as the columns hold them: a Date as ms, a finite number as it is, else NaN. */
function libraryColumns(records: Msg[]): number[][] {
  return FIELDS.map(([, name]) =>
    records.map((r) => {
      const v = r[name];
      if (v instanceof Date) return v.getTime();
      return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
    }),
  );
}

const columns = (c: FitRecordColumns) => FIELDS.map(([col]) => Array.from(c.cols[col]!));

/** The FIT files of a chained file, header to CRC. */
function chunks(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < b.length && !b.subarray(off).every((x) => x === 0)) {
    const end = b[off]! + new DataView(b.buffer, b.byteOffset + off).getUint32(4, true) + 2;
    out.push(b.subarray(off, off + end));
    off += end;
  }
  return out;
}

function expectSameAsLibrary(file: Uint8Array): void {
  const split = splitFitRecords(file);
  expect(split).not.toBeNull();
  const lib = library(file);
  expect(split!.records.length).toBe((lib.records as Msg[]).length);
  // Object.is per value: NaN equals NaN, and -0 would differ from 0
  expect(columns(split!.records)).toStrictEqual(libraryColumns(lib.records as Msg[]));
  const rest = library(split!.rest);
  expect(rest.records).toEqual([]);
  for (const key of ['sessions', 'laps', 'events', 'file_ids', 'field_descriptions'])
    expect(rest[key], key).toStrictEqual(lib[key]);
}

describe('splitFitRecords against fit-file-parser', () => {
  it.each(CORPUS)('%s: every record field and every other message as the library decodes them', (name) => {
    for (const file of chunks(fixture(name))) expectSameAsLibrary(file);
  });

  it.each(CORPUS)('%s: parseFit gives the same result with either decoder', (name) => {
    const b = fixture(name);
    expect(parseFit(b)).toStrictEqual(parseFit(b, { decoder: 'library' }));
  });

  it("a ride of 20 000 records written by the library's encoder, as the benchmark writes its 24 h ride", () => {
    const file = encoded(20_000);
    expectSameAsLibrary(file);
    expect(parseFit(file)).toStrictEqual(parseFit(file, { decoder: 'library' }));
  }, 60_000);

  it('field shapes of other writers: big-endian, compressed timestamps, enum and byte types, invalid values, repeated and oversized fields, a wire type the library drops', () => {
    const w = new FitWriter();
    w.define(0, 0, [[4, 4, 0x86]]); // file_id.time_created
    w.data(0, [u32(T0, true)]);
    // big-endian record: timestamp, lat, lon, altitude, heart_rate as enum, cadence as byte, power, distance
    w.define(
      1,
      20,
      [
        [253, 4, 0x86],
        [0, 4, 0x85],
        [1, 4, 0x85],
        [2, 2, 0x84],
        [3, 1, 0x00],
        [4, 1, 0x0d],
        [7, 2, 0x84],
        [5, 4, 0x86],
      ],
      false,
    );
    w.data(1, [
      u32(T0, false),
      s32(560_000_000, false),
      s32(-1_200_000_000, false),
      u16(2600, false),
      [150],
      [85],
      u16(250, false),
      u32(1234, false),
    ]);
    w.data(1, [
      u32(T0 + 1, false),
      s32(0x7fffffff, false),
      s32(-5, false),
      u16(0xffff, false),
      [0xff],
      [0xff],
      u16(0xffff, false),
      u32(0xffffffff, false),
    ]);
    // little-endian record with the timestamp first, for compressed headers; heart_rate twice (the last wins),
    // power as uint32 (another wire type: the library drops it), speed in 4 bytes (two uint16: the first is read),
    // enhanced fields, gps_accuracy, fractional cadence
    w.define(2, 20, [
      [253, 4, 0x86],
      [3, 1, 0x02],
      [3, 1, 0x02],
      [7, 4, 0x86],
      [6, 4, 0x84],
      [78, 4, 0x86],
      [73, 4, 0x86],
      [31, 1, 0x02],
      [4, 1, 0x02],
      [53, 1, 0x02],
      [2, 1, 0x84], // altitude in one byte: no whole uint16, left out
    ]);
    w.data(2, [
      u32(T0 + 2, true),
      [100],
      [101],
      u32(300, true),
      [...u16(3000, true), ...u16(4000, true)],
      u32(3000, true),
      u32(3500, true),
      [7],
      [88],
      [64],
      [9],
    ]);
    // compressed timestamps (offset 0..31, one rollover): the timestamp field takes no bytes
    for (const dt of [5, 20, 31, 3]) {
      const off = (T0 + 2 + dt) & 0x1f;
      w.compressed(2, off, [
        [102],
        [103],
        u32(1, true),
        [...u16(1, true), ...u16(2, true)],
        u32(1, true),
        u32(1, true),
        [8],
        [89],
        [32],
        [1],
      ]);
    }
    // a normal message after compressed ones sets the timestamp again
    w.data(2, [
      u32(T0 + 100, true),
      [110],
      [111],
      u32(5, true),
      [0, 0, 0, 0],
      u32(0xffffffff, true),
      u32(0xffffffff, true),
      [0xff],
      [0xff],
      [0xff],
      [0],
    ]);
    // a session, a lap and a timer event
    w.define(3, 21, [
      [253, 4, 0x86],
      [0, 1, 0x00],
      [1, 1, 0x00],
    ]);
    w.data(3, [u32(T0, true), [0], [0]]);
    w.data(3, [u32(T0 + 50, true), [0], [4]]);
    w.define(4, 19, [
      [253, 4, 0x86],
      [2, 4, 0x86],
    ]);
    w.data(4, [u32(T0 + 100, true), u32(T0, true)]);
    w.define(5, 18, [
      [253, 4, 0x86],
      [2, 4, 0x86],
      [5, 1, 0x00],
    ]);
    w.data(5, [u32(T0 + 100, true), u32(T0, true), [1]]);
    const file = w.close();
    expectSameAsLibrary(file);
    expect(parseFit(file)).toStrictEqual(parseFit(file, { decoder: 'library' }));
    const c = splitFitRecords(file)!.records.cols;
    expect(c[COL.hr]![0]).toBe(150); // enum-typed heart rate, big-endian record
    expect(c[COL.power]![2]).toBeNaN(); // uint32 power: dropped by the library
    expect(c[COL.hr]![2]).toBe(101); // the repeated field's last value
  });

  it('falls back to the library where the walker would not read the file its way', () => {
    // a developer field named like a record field: the library overwrites heart_rate with it
    const w = new FitWriter();
    w.define(0, 207, [
      [0, 1, 0x02], // developer_data_index
    ]);
    w.define(1, 206, [
      [0, 1, 0x02], // developer_data_index
      [1, 1, 0x02], // field_definition_number
      [2, 1, 0x02], // fit_base_type_id
      [3, 11, 0x07], // field_name
    ]);
    w.data(0, [[0]]);
    w.data(1, [[0], [0], [2], [...Buffer.from('heart_rate'), 0]]);
    w.define(
      2,
      20,
      [
        [253, 4, 0x86],
        [3, 1, 0x02],
      ],
      true,
      [[0, 1, 0]],
    );
    w.data(2, [u32(T0, true), [90], [140]]);
    const file = w.close();
    const lib = library(file);
    expect((lib.records as Msg[])[0]!.heart_rate).toBe(140);
    expect(parseFit(file)).toStrictEqual(parseFit(file, { decoder: 'library' }));
    expect(parseFit(file).activities[0]!.samples[0]!.hr).toBe(140);

    // a bad file CRC: null, so the library reports it
    const bad = new Uint8Array(encoded(10));
    bad[bad.length - 1]! ^= 0xff;
    expect(splitFitRecords(bad)).toBeNull();
    // a compressed-timestamp header on a lap: the library would date it from records it does not see
    const w2 = new FitWriter();
    w2.define(0, 20, [[253, 4, 0x86]]);
    w2.data(0, [u32(T0, true)]);
    w2.define(1, 19, [[253, 4, 0x86]]);
    w2.compressed(1, (T0 + 1) & 0x1f, []);
    expect(splitFitRecords(w2.close())).toBeNull();
  });

  it('fitCrc is the CRC of FitEncoder.calculateCRC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(fitCrc(b, 0, b.length)).toBe(FitEncoder.calculateCRC(b));
      }),
    );
  });
});

const T0 = 1_000_000_000;
const u16 = (v: number, le: boolean) => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, le);
  return [...b];
};
const u32 = (v: number, le: boolean) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, le);
  return [...b];
};
const s32 = (v: number, le: boolean) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, le);
  return [...b];
};

/** FIT bytes message by message: definitions, normal and compressed-timestamp data messages. */
class FitWriter {
  private readonly bytes: number[] = [];
  define(
    local: number,
    global: number,
    fields: [number, number, number][],
    le = true,
    dev: [number, number, number][] = [],
  ): void {
    this.bytes.push(
      0x40 | (dev.length > 0 ? 0x20 : 0) | local,
      0,
      le ? 0 : 1,
      ...(le ? [global & 0xff, global >> 8] : [global >> 8, global & 0xff]),
      fields.length,
    );
    for (const f of fields) this.bytes.push(...f);
    if (dev.length > 0) {
      this.bytes.push(dev.length);
      for (const f of dev) this.bytes.push(...f);
    }
  }
  data(local: number, values: number[][]): void {
    this.bytes.push(local);
    for (const v of values) this.bytes.push(...v);
  }
  compressed(local: number, offset: number, values: number[][]): void {
    this.bytes.push(0x80 | (local << 5) | offset);
    for (const v of values) this.bytes.push(...v);
  }
  close(): Uint8Array {
    const out = new Uint8Array(14 + this.bytes.length + 2);
    const v = new DataView(out.buffer);
    out.set([14, 0x20, 0x08, 0x08], 0);
    v.setUint32(4, this.bytes.length, true);
    out.set([0x2e, 0x46, 0x49, 0x54], 8);
    v.setUint16(12, FitEncoder.calculateCRC(out.subarray(0, 12)), true);
    out.set(this.bytes, 14);
    v.setUint16(
      14 + this.bytes.length,
      FitEncoder.calculateCRC(out.subarray(0, 14 + this.bytes.length)),
      true,
    );
    return out;
  }
}

/** A 1 Hz ride written by the library's own encoder, as bench/import-throughput.ts writes it. */
function encoded(seconds: number): Uint8Array {
  const t0 = FitEncoder.toFitTimestamp(new Date(Date.UTC(2026, 5, 1, 6)));
  const e = new FitEncoder();
  e.writeMessage(0, [{ number: 4, size: 4, baseType: 134, value: t0 }]);
  let dist = 0;
  for (let i = 0; i < seconds; i++) {
    dist += 8;
    e.writeMessage(
      20,
      [
        { number: 253, size: 4, baseType: 134, value: t0 + i },
        { number: 0, size: 4, baseType: 133, value: Math.round(((47.3 + i * 1e-5) * 2 ** 31) / 180) },
        { number: 1, size: 4, baseType: 133, value: Math.round(((8.5 - i * 1e-5) * 2 ** 31) / 180) },
        { number: 2, size: 2, baseType: 132, value: 2500 + (i % 400) },
        { number: 3, size: 1, baseType: 2, value: 120 + (i % 60) },
        { number: 4, size: 1, baseType: 2, value: 80 + (i % 9) },
        { number: 5, size: 4, baseType: 134, value: dist * 100 },
        { number: 6, size: 2, baseType: 132, value: 8000 + (i % 500) },
        { number: 7, size: 2, baseType: 132, value: 150 + (i % 90) },
      ],
      1,
    );
  }
  e.writeMessage(18, [
    { number: 253, size: 4, baseType: 134, value: t0 + seconds },
    { number: 2, size: 4, baseType: 134, value: t0 },
    { number: 5, size: 1, baseType: 0, value: 2 },
  ]);
  return e.close();
}
