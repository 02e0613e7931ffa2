import { describe, expect, test } from 'vitest';
import type { LatLon } from './projection';
import { TrailLayer, type TrailSource } from './trail-layer';

const at = (i: number): LatLon => ({ lat: 47.37 + i * 1e-5, lon: 8.54 + i * 1e-5 });
const trail = (n: number, from = 0) => Array.from({ length: n }, (_, i) => at(from + i));
const plan = (l: TrailLayer, sources: TrailSource[]) => l.plan(sources, 600, 360, 16);

describe('TrailLayer', () => {
  test('the first draw is full; then only the points added since are stroked, from the last one drawn', () => {
    const l = new TrailLayer();
    const a: TrailSource = { id: 'a', trail: trail(10), state: 'live' };
    const b: TrailSource = { id: 'b', trail: trail(5, 3), state: 'live' };
    const first = plan(l, [a, b]);
    expect(first.full).toBe(true);
    expect(first.strokes.map((s) => [s.id, s.points.length])).toEqual([
      ['a', 10],
      ['b', 5],
    ]);
    const last = a.trail.at(-1)!;
    (a.trail as LatLon[]).push(at(10), at(11));
    const next = plan(l, [a, b]);
    expect(next.full).toBe(false);
    expect(next.strokes).toEqual([{ id: 'a', state: 'live', points: [last, at(10), at(11)] }]);
    // nothing new: nothing to stroke
    expect(plan(l, [a, b])).toMatchObject({ full: false, strokes: [] });
  });

  test('everything anew when a colour changes, a session goes, a trail is trimmed, leaves the area or the size changes', () => {
    const l = new TrailLayer();
    const a: TrailSource = { id: 'a', trail: trail(10), state: 'live' };
    const b: TrailSource = { id: 'b', trail: trail(10), state: 'live' };
    plan(l, [a, b]);
    expect(plan(l, [a, { ...b, state: 'old' }]).full).toBe(true);
    expect(plan(l, [a, { ...b, state: 'old' }]).full).toBe(false);
    // b gone, c new, same count
    expect(plan(l, [a, { id: 'c', trail: trail(3), state: 'live' }]).full).toBe(true);
    // trimmed at the cap: the oldest point no longer there
    const trimmed = { ...a, trail: a.trail.slice(1) };
    expect(plan(l, [trimmed]).full).toBe(true);
    // a small step stays inside the margin; a jump of kilometres refits
    expect(plan(l, [{ ...trimmed, trail: [...trimmed.trail, at(11)] }]).full).toBe(false);
    const far = { ...trimmed, trail: [...trimmed.trail, at(11), { lat: 47.5, lon: 8.7 }] };
    const refit = plan(l, [far]);
    expect(refit.full).toBe(true);
    expect(refit.strokes[0]!.points).toHaveLength(far.trail.length);
    const q = refit.fit.project({ lat: 47.5, lon: 8.7 });
    expect(q.x).toBeGreaterThanOrEqual(16);
    expect(q.x).toBeLessThanOrEqual(600 - 16);
    expect(q.y).toBeGreaterThanOrEqual(16);
    expect(q.y).toBeLessThanOrEqual(360 - 16);
    expect(l.plan([far], 800, 360, 16).full).toBe(true);
  });

  test('an incremental draw strokes the same segments as drawing every trail anew', () => {
    // the union of strokes over many updates equals every consecutive pair of every trail, once
    const l = new TrailLayer();
    const a: TrailSource = { id: 'a', trail: [], state: 'live' };
    const seen: string[] = [];
    for (let i = 0; i < 50; i++) {
      (a.trail as LatLon[]).push(at(i % 7 === 0 ? i : i + 0.5));
      const p = plan(l, [a]);
      if (p.full) seen.length = 0;
      for (const s of p.strokes)
        for (let k = 1; k < s.points.length; k++) seen.push(JSON.stringify([s.points[k - 1], s.points[k]]));
    }
    const all = a.trail.slice(1).map((p, k) => JSON.stringify([a.trail[k], p]));
    expect(seen).toEqual(all);
  });
});
