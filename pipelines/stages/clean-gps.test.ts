import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import { columnsFromSamples } from '../columns.js';
import { sportConfig } from '../config.js';
import { FLAG_INVALID, FLAG_JUMP } from '../types.js';
import { cleanGps } from './clean-gps.js';

const T = 1_760_000_000_000;
const fix = (i: number, lat: number, lon: number, acc = 5): Sample => ({
  ts: T + i * 1000,
  seq: i,
  lat,
  lon,
  alt: null,
  acc,
  speed: null,
  dist: null,
  hr: null,
  cadence: null,
  power: null,
  lap: false,
});

describe('clean-gps', () => {
  it('drops null island, out-of-range and poor-accuracy fixes, and rejects a 200 m jump', () => {
    const d = 3 / 111_195; // 3 m of latitude
    const samples = [
      fix(0, 46.5, 6.6),
      fix(1, 46.5 + d, 6.6),
      fix(2, 0, 0),
      fix(3, 95, 6.6),
      fix(4, 46.5 + 3 * d, 6.6, 80),
      fix(5, 46.5 + 200 / 111_195, 6.6),
      fix(6, 46.5 + 6 * d, 6.6),
    ];
    const { columns } = columnsFromSamples(samples);
    const flags = columns.flags.slice(0, columns.length);
    const r = cleanGps(columns, sportConfig('running'), flags);
    expect(r).toEqual({ invalid: 3, jumps: 1, breaks: 0 });
    expect([...flags].map((f) => f & (FLAG_INVALID | FLAG_JUMP))).toEqual([0, 0, 4, 4, 4, 8, 0]);
  });
});
