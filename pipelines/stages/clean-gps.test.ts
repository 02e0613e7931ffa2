import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../schemas/types.js';
import { sample } from '../../test/support/samples.js';
import { columnsFromSamples } from '../columns.js';
import { sportConfig } from '../config.js';
import { haversine } from '../primitives/geo.js';
import { FLAG_BREAK, FLAG_INVALID, FLAG_JUMP } from '../types.js';
import { cleanGps, within } from './clean-gps.js';

const fix = (i: number, lat: number, lon: number, acc = 5): Sample => sample(i, { lat, lon, acc });

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

describe('within (the jump gate distance test)', () => {
  it('decides exactly as haversine <= allow, also at the boundary, near the poles and far apart', () => {
    const RAD = Math.PI / 180;
    fc.assert(
      fc.property(
        fc.double({ min: -89.9, max: 89.9, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        fc.double({ min: 0, max: 3000, noNaN: true }),
        fc.double({ min: 0.9, max: 1.1, noNaN: true }),
        fc.double({ min: -0.01, max: 0.01, noNaN: true }),
        (lat1, lon1, bearing, d, scale, refOffset) => {
          const lat2 = Math.max(-90, Math.min(90, lat1 + (d * Math.cos(bearing)) / 6_371_008.8 / RAD));
          const lon2 = lon1 + (d * Math.sin(bearing)) / (6_371_008.8 * Math.cos(lat1 * RAD)) / RAD;
          const exact = haversine(lat1, lon1, lat2, lon2);
          const cosRef = Math.cos((lat1 + refOffset) * RAD);
          for (const allow of [exact, exact * scale, exact * (1 + 1e-12), exact * (1 - 1e-12)]) {
            expect(within(lat1, lon1, lat2, lon2, cosRef, allow)).toBe(exact <= allow);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('clean-gps: 2026.12-3, re-anchor accepts the run', () => {
  // due north at 3 m/s, 1 Hz; from row 20 on every fix sits 300 m east (a relocation after signal loss)
  const relocated = () => {
    const d = 3 / 111_195;
    const east = 300 / (111_195 * Math.cos((46.5 * Math.PI) / 180));
    return Array.from({ length: 40 }, (_, i) => fix(i, 46.5 + i * d, i >= 20 ? 6.6 + east : 6.6, 3));
  };
  const run = (samples: Sample[], version: string) => {
    const { columns } = columnsFromSamples(samples);
    const flags = columns.flags.slice(0, columns.length);
    const counts = cleanGps(columns, sportConfig('running', version), flags);
    return { counts, flags: [...flags] };
  };

  it('2026.12-2 rejects the run and breaks on the anchor; 2026.12-3 accepts the run and breaks on its first fix', () => {
    const old = run(relocated(), '2026.12-2');
    expect(old.counts).toEqual({ invalid: 0, jumps: 8, breaks: 1 });
    expect(old.flags.slice(20, 29)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, FLAG_BREAK]);
    const now = run(relocated(), '2026.12-3');
    expect(now.counts).toEqual({ invalid: 0, jumps: 0, breaks: 1 });
    expect(now.flags[20]).toBe(FLAG_BREAK);
    expect(now.flags.filter((f) => f !== 0)).toEqual([FLAG_BREAK]);
  });

  it('a spike that comes back is still a jump', () => {
    const d = 3 / 111_195;
    const samples = Array.from({ length: 30 }, (_, i) =>
      fix(i, 46.5 + i * d + (i === 10 ? 200 / 111_195 : 0), 6.6, 3),
    );
    expect(run(samples, '2026.12-3').counts).toEqual({ invalid: 0, jumps: 1, breaks: 0 });
  });
});
