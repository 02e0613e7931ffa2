import { describe, expect, test } from 'vitest';
import { buildStreams, STREAM_KEYS, type StreamsRow, sampleIndices } from './streams.js';

// Three samples: the first has everything (with zeros that must stay 0, not become null), the second
// has no position fix (raw or smoothed) and no HR, the third is in a pause and has no power.
const row: StreamsRow = {
  version: '20261101000003',
  ts: ['1760000000000', '1760000001000', '1760000002500'],
  lat: [46.5, 0, 46.50002],
  lon: [6.6, 0, 6.60001],
  lat_smooth: [46.50001, 0, 46.50003],
  lon_smooth: [6.60001, 0, 6.60002],
  alt: [400, 401, 0],
  alt_smooth: [400.123, 400.5, 0],
  speed: [0, 2.5, 3],
  distance_m: [0, 2.5, 6.25],
  hr: [150, 0, 152],
  cadence: [0, 80, 82],
  power: [0, 210, 0],
  flags: [1, 0, 16],
  // bits: 2 lat, 4 lon, 8 alt, 128 hr, 256 cadence, 512 power, 2048/4096 lat/lon smooth,
  // 8192 alt_smooth, 16384 speed, 32768 distance
  present: [
    2 | 4 | 8 | 128 | 256 | 512 | 2048 | 4096 | 8192 | 16384 | 32768,
    8 | 256 | 512 | 8192 | 16384 | 32768,
    2 | 4 | 8 | 128 | 256 | 2048 | 4096 | 8192 | 16384 | 32768,
  ],
};

describe('activity streams', () => {
  test('every key, one value per sample; 0 stays 0 and an absent value is null', () => {
    const s = buildStreams(row, STREAM_KEYS);
    expect(s).toMatchObject({ version: 20261101000003, original_size: 3, size: 3, resolution: 'all' });
    expect(s.streams).toEqual({
      time: { data: [0, 1, 2.5] },
      latlng: {
        data: [[46.50001, 6.60001], null, [46.50003, 6.60002]],
        raw: [[46.5, 6.6], null, [46.50002, 6.60001]],
      },
      distance: { data: [0, 2.5, 6.25] },
      altitude: { data: [400.12, 400.5, 0], raw: [400, 401, 0] },
      heartrate: { data: [150, null, 152] },
      velocity_smooth: { data: [0, 2.5, 3] },
      cadence: { data: [0, 80, 82] },
      watts: { data: [0, 210, null] },
      moving: { data: [true, true, false] },
    });
  });

  test('only the keys asked for', () => {
    expect(Object.keys(buildStreams(row, ['heartrate', 'time']).streams).sort()).toEqual([
      'heartrate',
      'time',
    ]);
  });

  test('a resolution picks evenly spread samples, first and last included', () => {
    expect(sampleIndices(5, undefined)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(5, 100)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(11, 3)).toEqual([0, 5, 10]);
    expect(sampleIndices(10_001, 100)).toHaveLength(100);
    expect(sampleIndices(10_001, 100).at(-1)).toBe(10_000);
    expect(sampleIndices(0, 100)).toEqual([]);
    const low = buildStreams(row, ['time'], 'low');
    expect(low).toMatchObject({ resolution: 'low', size: 3, original_size: 3 });
  });
});
