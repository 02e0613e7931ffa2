import { describe, expect, test } from 'vitest';
import { dayOf, isoDate } from '../../../pipelines/engagement/local-days.js';
import { periodShift, periodStart, progressSeries } from './progress.js';

const d = (s: string) => dayOf(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10)));

describe('progress periods', () => {
  test('starts and shifts of each kind', () => {
    expect(isoDate(periodStart('quarter', d('2026-08-17'), 1))).toBe('2026-07-01');
    expect(isoDate(periodStart('week', d('2026-12-02'), 6))).toBe('2026-11-28'); // weeks from Saturday
    expect(isoDate(periodShift('quarter', d('2026-01-01'), -1))).toBe('2025-10-01');
    expect(isoDate(periodShift('month', d('2026-01-01'), -13))).toBe('2024-12-01');
    expect(isoDate(periodShift('year', d('2026-01-01'), 2))).toBe('2028-01-01');
  });

  test('a sum with no activity is a series of zeros; its moving average and mean are 0, not null', () => {
    const out = progressSeries({
      activities: [],
      metric: 'distance',
      period: 'month',
      weekStart: 1,
      from: d('2026-01-10'),
      to: d('2026-03-01'),
      window: 3,
    });
    expect(out.series.map((p) => [p.start, p.end, p.value, p.running_total, p.moving_average])).toEqual([
      ['2026-01-01', '2026-01-31', 0, 0, 0],
      ['2026-02-01', '2026-02-28', 0, 0, 0],
      ['2026-03-01', '2026-03-31', 0, 0, 0],
    ]);
    expect([out.total, out.average_per_period]).toEqual([0, 0]);
  });
});
