import { describe, expect, it } from 'vitest';
import { M_PER_DEG, northLine, sample } from '../../test/support/samples.js';
import { columnsFromSamples } from '../columns.js';
import { computeActivity } from '../compute-activity.js';
import { FLAG_PAUSED } from '../types.js';
import {
  cumulativeDistance,
  cumulativeDistanceNet,
  deviceDistance,
  hasOdometer,
  rawDistance,
} from './distance.js';

/** 101 rows due north, 10 m apart: a 1 km straight line */
function line(): { lat: Float64Array; lon: Float64Array } {
  const lat = Float64Array.from({ length: 101 }, (_, i) => 46.5 + (i * 10) / M_PER_DEG);
  return { lat, lon: new Float64Array(101).fill(6.6) };
}

describe('distance', () => {
  it('sums a straight 1 km line, skipping paused intervals and filter-segment breaks', () => {
    const { lat, lon } = line();
    const out = new Float64Array(101);
    const seg = new Int32Array(101);
    expect(cumulativeDistance(lat, lon, seg, new Uint8Array(101), 101, out)).toBeCloseTo(1000, 6);
    expect(out[50]).toBeCloseTo(500, 6);

    const flags = new Uint8Array(101);
    flags[30] = FLAG_PAUSED;
    seg.fill(1, 60);
    expect(cumulativeDistance(lat, lon, seg, flags, 101, out)).toBeCloseTo(980, 6);
    // cumulative series is flat across the skipped intervals
    expect(out[30]).toBe(out[29]);
    expect(out[60]).toBe(out[59]);
  });

  it('bridges rows without a smoothed position (distance is not lost, only not split)', () => {
    const { lat, lon } = line();
    lat[40] = Number.NaN;
    lat[41] = Number.NaN;
    const out = new Float64Array(101);
    expect(cumulativeDistance(lat, lon, new Int32Array(101), new Uint8Array(101), 101, out)).toBeCloseTo(
      1000,
      6,
    );
    expect(out[41]).toBe(out[39]);
    expect(out[42]).toBeCloseTo(420, 6);
  });

  it('raw distance skips rows without a plausible fix; device distance is the counter maximum', () => {
    const { columns: c } = columnsFromSamples([
      sample(0, { lat: 46.5, lon: 6.6 }),
      sample(1, { lat: 0, lon: 0 }),
      sample(2),
      sample(3, { lat: 46.5 + 100 / M_PER_DEG, lon: 6.6 }),
    ]);
    expect(rawDistance(c.lat, c.lon, c.length)).toBeCloseTo(100, 1);

    const nan = Number.NaN;
    expect(deviceDistance(Float32Array.from([nan, nan]), 2)).toBeNull();
    // a counter that glitches back keeps its maximum
    expect(deviceDistance(Float32Array.from([nan, 5, 250, 120, 240]), 5)).toBe(250);
  });

  it('end to end: a straight 1 km line at 4 m/s is 1 km in 250 s of moving time', () => {
    const s = computeActivity({
      userId: 'u',
      deviceId: 'd',
      sessionId: 's',
      sport: 'running',
      samples: northLine(250, 4),
      controls: [],
      sets: [],
      athlete: {},
    }).summary;
    expect(s.distanceM).toBeGreaterThan(999);
    expect(s.distanceM).toBeLessThan(1001);
    expect(s.rawDistanceM).toBeCloseTo(1000, 0);
    expect(s.movingS).toBe(250);
    expect(s.avgPaceSPerKm).toBeCloseTo(250, 0);
  });
});

describe('hasOdometer', () => {
  it('a rising counter on at least half the rows', () => {
    const d = Float32Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? i * 5 : Number.NaN));
    expect(hasOdometer(d, 10)).toBe(true);
    d[0] = Number.NaN;
    expect(hasOdometer(d, 10)).toBe(false);
    // a counter stuck at 0, as files without a speed sensor write it, is none
    expect(hasOdometer(new Float32Array(10), 10)).toBe(false);
    expect(hasOdometer(new Float32Array(10).fill(Number.NaN), 10)).toBe(false);
  });
});

describe('distance: 2026.12-3, net displacement over an auto-pause', () => {
  // rows 0-40 and 61-100 10 m apart; rows 41-60 auto-paused, creeping `creepM` per row
  const track = (creepM: number) => {
    const lat = new Float64Array(101);
    let y = 0;
    for (let i = 0; i < 101; i++) {
      if (i > 0) y += i >= 41 && i <= 60 ? creepM : 10;
      lat[i] = 46.5 + y / M_PER_DEG;
    }
    const flags = new Uint8Array(101);
    const autoPaused = new Uint8Array(101);
    flags.fill(FLAG_PAUSED, 41, 61);
    autoPaused.fill(1, 41, 61);
    return { lat, lon: new Float64Array(101).fill(6.6), flags, autoPaused };
  };
  const net = (autoPaused: Uint8Array) => ({ autoPaused, accuracy: () => 2, minSigmas: 3 });

  it('adds the stretch’s net displacement where it exceeds 3σ of the two ends (here 8.5 m)', () => {
    const t = track(1);
    const out = new Float64Array(101);
    const seg = new Int32Array(101);
    expect(cumulativeDistance(t.lat, t.lon, seg, t.flags, 101, out)).toBeCloseTo(800, 6);
    expect(cumulativeDistanceNet(t.lat, t.lon, seg, t.flags, 101, out, net(t.autoPaused))).toBeCloseTo(
      820,
      6,
    );
    expect(out[59]).toBeCloseTo(400, 6);
    expect(out[60]).toBeCloseTo(420, 6);
  });

  it('adds nothing for jitter-sized displacement or a device pause, and nothing across a segment break', () => {
    const out = new Float64Array(101);
    const seg = new Int32Array(101);
    const small = track(0.4);
    expect(
      cumulativeDistanceNet(small.lat, small.lon, seg, small.flags, 101, out, net(small.autoPaused)),
    ).toBeCloseTo(800, 6);
    const t = track(1);
    expect(cumulativeDistanceNet(t.lat, t.lon, seg, t.flags, 101, out, net(new Uint8Array(101)))).toBeCloseTo(
      800,
      6,
    );
    // a break at row 50 splits the stretch: 40 -> 49 (9 m) and 50 -> 60 (10 m), not the metre 49 -> 50
    seg.fill(1, 50);
    expect(cumulativeDistanceNet(t.lat, t.lon, seg, t.flags, 101, out, net(t.autoPaused))).toBeCloseTo(
      819,
      6,
    );
  });
});
