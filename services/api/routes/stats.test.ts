import { describe, expect, test } from 'vitest';
import { dayOf, isoDate } from '../../../pipelines/engagement/local-days.js';
import { statsPeriods } from './stats.js';

const show = (p: ReturnType<typeof statsPeriods>) =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v && [isoDate(v.from), isoDate(v.to)]]));

describe('statsPeriods', () => {
  test('Wednesday 2 December 2026, weeks from Sunday and from Monday', () => {
    const today = dayOf(2026, 12, 2);
    expect(show(statsPeriods(today, 0))).toEqual({
      week: ['2026-11-29', '2026-12-02'],
      month: ['2026-12-01', '2026-12-02'],
      year_to_date: ['2026-01-01', '2026-12-02'],
      last_4_weeks: ['2026-11-05', '2026-12-02'],
      lifetime: null,
    });
    expect(show(statsPeriods(today, 1)).week).toEqual(['2026-11-30', '2026-12-02']);
    expect(show(statsPeriods(today, 6)).week).toEqual(['2026-11-28', '2026-12-02']);
  });

  test('the first day of a year, of a month and of a week is its own period; a range rides along', () => {
    const today = dayOf(2028, 1, 1); // a Saturday
    const p = show(statsPeriods(today, 6, { from: dayOf(2027, 2, 28), to: dayOf(2027, 3, 1) }));
    expect(p.week).toEqual(['2028-01-01', '2028-01-01']);
    expect(p.month).toEqual(['2028-01-01', '2028-01-01']);
    expect(p.year_to_date).toEqual(['2028-01-01', '2028-01-01']);
    expect(p.last_4_weeks).toEqual(['2027-12-05', '2028-01-01']);
    expect(p.range).toEqual(['2027-02-28', '2027-03-01']);
  });
});
