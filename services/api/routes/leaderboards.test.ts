import { describe, expect, test } from 'vitest';
import { rank } from './leaderboards.js';

const row = (key: string, points: number, distance = 0) => ({
  key,
  rankValue: points,
  entry: { user_id: key, points, distance_m: distance, activities: 1 },
});

describe('rank', () => {
  test('competition ranking: equal points share a rank, the next rank skips', () => {
    const r = rank([row('c', 10), row('a', 30), row('b', 10), row('d', 5)]);
    expect(r.map((e) => [e.key, e.rank])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 2],
      ['d', 4],
    ]);
  });
  test('ties list by distance, then by key, so the order is stable', () => {
    const r = rank([row('b', 10, 100), row('a', 10, 100), row('c', 10, 900)]);
    expect(r.map((e) => e.key)).toEqual(['c', 'a', 'b']);
    expect(new Set(r.map((e) => e.rank))).toEqual(new Set([1]));
  });
  test('nobody: no entries', () => {
    expect(rank([])).toEqual([]);
  });
});
