import { describe, expect, it } from 'vitest';
import type { SessionControl } from '../../schemas/types.js';
import { sportConfig } from '../config.js';
import { explicitPauses, movingTime } from './moving-time.js';

const cfg = sportConfig('running');
const ts = Float64Array.from({ length: 101 }, (_, i) => i * 1000);
const ctl = (kind: SessionControl['kind'], t: number): SessionControl => ({
  deviceId: 'd',
  userId: 'u',
  sessionId: 's',
  kind,
  sport: 'running',
  ts: t,
  receivedAt: 0,
});

describe('moving-time', () => {
  it('auto-pauses stops of at least minPauseS, not a 3 s hesitation', () => {
    const speed = new Float32Array(101).fill(3);
    speed.fill(0, 20, 51); // standing at rows 20..50: 30 intervals with both ends at 0
    speed.fill(0, 70, 73); // 3 s hesitation
    const r = movingTime(
      ts,
      speed,
      new Float32Array(101).fill(Number.NaN),
      101,
      explicitPauses([]),
      cfg,
      new Uint8Array(101),
    );
    expect(r.elapsedS).toBe(100);
    expect(r.autoPausedS).toBe(30);
    expect(r.movingS).toBe(70);
  });

  it('explicit pause/resume wins, duplicates ignored', () => {
    const speed = new Float32Array(101).fill(3);
    const p = explicitPauses([ctl('pause', 10_000), ctl('resume', 40_000), ctl('pause', 10_000)]);
    const r = movingTime(ts, speed, speed, 101, p, cfg, new Uint8Array(101));
    expect(r.explicitPausedS).toBe(30);
    expect(r.movingS).toBe(70);
  });
});

describe('moving-time: gaps (2026.12-1, gapByDisplacement)', () => {
  // rows 1 s apart, then a 178 s gap between rows 50 and 51 (a device auto-pause), speed 3 m/s at
  // both ends of it: the athlete slowed into the stop and sped out of it
  const n = 101;
  const tsGap = Float64Array.from({ length: n }, (_, i) => (i <= 50 ? i : i + 177) * 1000);
  const speed = new Float32Array(n).fill(3);
  const lat = Float64Array.from({ length: n }, (_, i) => 45 + ((i <= 50 ? i : i - 1) * 3) / 111_195);
  const lon = new Float64Array(n).fill(7);
  const noDist = new Float32Array(n).fill(Number.NaN);

  it('a gap whose displacement is under the pause speed is stopped, whatever its end speeds', () => {
    // 3 m over 178 s (the track moved on by one step only)
    const cfg12 = sportConfig('running', '2026.12-1');
    const flags = new Uint8Array(n);
    const r = movingTime(tsGap, speed, speed, n, explicitPauses([]), cfg12, flags, {
      lat,
      lon,
      dist: noDist,
    });
    expect(r.autoPausedS).toBe(178);
    expect(r.movingS).toBe(99);
    expect(flags[51]! & 16).toBe(16);
    // 2026.11-3 judged it by its end speeds: 178 s of moving time
    const cfgOld = sportConfig('running', '2026.11-3');
    const old = movingTime(tsGap, speed, speed, n, explicitPauses([]), cfgOld, new Uint8Array(n), {
      lat,
      lon,
      dist: noDist,
    });
    expect(old.movingS).toBe(277);
  });

  it('a gap the athlete covered (signal loss while running) is moving', () => {
    const far = Float64Array.from(lat, (x, i) => (i > 50 ? x + (178 * 3) / 111_195 : x));
    const r = movingTime(
      tsGap,
      speed,
      speed,
      n,
      explicitPauses([]),
      sportConfig('running', '2026.12-1'),
      new Uint8Array(n),
      {
        lat: far,
        lon,
        dist: noDist,
      },
    );
    expect(r.movingS).toBe(277);
  });

  it('without a track, the odometer over the gap decides', () => {
    const none = new Float64Array(n).fill(Number.NaN);
    const dist = Float32Array.from({ length: n }, (_, i) => (i <= 50 ? i * 3 : 150 + (i - 50) * 3));
    const cfg12 = sportConfig('cycling', '2026.12-1');
    const still = movingTime(tsGap, speed, speed, n, explicitPauses([]), cfg12, new Uint8Array(n), {
      lat: none,
      lon: none,
      dist,
    });
    expect(still.autoPausedS).toBe(178);
    const moved = Float32Array.from(dist, (d, i) => (i > 50 ? d + 600 : d));
    const r = movingTime(tsGap, speed, speed, n, explicitPauses([]), cfg12, new Uint8Array(n), {
      lat: none,
      lon: none,
      dist: moved,
    });
    expect(r.movingS).toBe(277);
  });
});
