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
