import { describe, expect, test } from 'vitest';
import { encodeString, JsonRowWriter, RowBinaryWriter } from './rowbinary.js';

describe('RowBinary writer', () => {
  test('fixed-width little-endian numbers, LEB128 strings, nullable flags', () => {
    const w = new RowBinaryWriter(4);
    w.u8(7);
    w.u16(0x0102);
    w.u32(0xdeadbeef);
    w.u64(2 ** 40 + 5);
    w.f64(1.5);
    w.nullable(null, 'u8');
    w.nullable(3, 'u8');
    w.string('hé');
    const b = w.bytes();
    expect(b[0]).toBe(7);
    expect(b.readUInt16LE(1)).toBe(0x0102);
    expect(b.readUInt32LE(3)).toBe(0xdeadbeef);
    expect(b.readBigUInt64LE(7)).toBe(2n ** 40n + 5n);
    expect(b.readDoubleLE(15)).toBe(1.5);
    expect([...b.subarray(23, 26)]).toEqual([1, 0, 3]);
    expect([...b.subarray(26)]).toEqual([3, 0x68, 0xc3, 0xa9]);
  });

  test('the JSON writer collects the same calls as rows of named values', () => {
    const w = new JsonRowWriter(['a', 'b', 'c', 'd']);
    for (const i of [1, 2]) {
      w.strings([`s${i}`], encodeString(`s${i}`));
      w.u64(i);
      w.nullable(null, 'f32');
      w.nullable(i / 2, 'f64');
      w.rows++;
    }
    expect(w.objects()).toEqual([
      { a: 's1', b: 1, c: null, d: 0.5 },
      { a: 's2', b: 2, c: null, d: 1 },
    ]);
  });

  test('long strings get multi-byte lengths; negative Int64', () => {
    expect([...encodeString('x'.repeat(300)).subarray(0, 2)]).toEqual([0xac, 0x02]);
    const w = new RowBinaryWriter();
    w.u64(-2);
    expect(w.bytes().readBigInt64LE(0)).toBe(-2n);
  });
});
