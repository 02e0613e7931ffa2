import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDate, localDay, parseIsoDate, weekday } from './local-days.js';
import { elapsedFraction, PERIOD_KINDS, type PeriodRule, periodOf, periodsBetween } from './periods.js';

const D = (s: string) => parseIsoDate(s)!;
const day = fc.integer({ min: D('1990-01-01'), max: D('2060-12-31') });

describe('periods', () => {
  it('a period contains its day and tiles the calendar', () => {
    fc.assert(
      fc.property(
        day,
        fc.constantFrom('day', 'week', 'month', 'year'),
        fc.integer({ min: 0, max: 6 }),
        (d, kind, ws) => {
          const rule: PeriodRule = { kind: kind as PeriodRule['kind'], weekStart: ws };
          const p = periodOf(rule, d)!;
          expect(p.start <= d && d <= p.end).toBe(true);
          expect(periodOf(rule, p.start)).toEqual(p);
          expect(periodOf(rule, p.end)).toEqual(p);
          expect(periodOf(rule, p.end + 1)!.start).toBe(p.end + 1);
          if (kind === 'week') expect(weekday(p.start)).toBe(ws);
        },
      ),
    );
  });

  it('knows month and year lengths', () => {
    expect(periodOf({ kind: 'month', weekStart: 1 }, D('2024-02-10'))).toEqual({
      start: D('2024-02-01'),
      end: D('2024-02-29'),
    });
    expect(periodOf({ kind: 'month', weekStart: 1 }, D('2026-12-31'))).toEqual({
      start: D('2026-12-01'),
      end: D('2026-12-31'),
    });
    expect(periodOf({ kind: 'year', weekStart: 1 }, D('2026-07-01'))).toEqual({
      start: D('2026-01-01'),
      end: D('2026-12-31'),
    });
  });

  it('a custom period is its range only', () => {
    const rule: PeriodRule = {
      kind: 'custom',
      weekStart: 1,
      custom: { start: D('2026-03-01'), end: D('2026-03-20') },
    };
    expect(periodOf(rule, D('2026-03-05'))).toEqual({ start: D('2026-03-01'), end: D('2026-03-20') });
    expect(periodOf(rule, D('2026-03-21'))).toBeNull();
    expect(periodsBetween(rule, D('2026-01-01'), D('2026-12-31'))).toHaveLength(1);
    expect(periodsBetween(rule, D('2026-04-01'), D('2026-12-31'))).toHaveLength(0);
  });

  it('weeks start on the athlete’s first day: Sunday 23:30 local belongs to the week it ends', () => {
    const ms = Date.parse('2026-11-30T04:30:00Z'); // Sunday 23:30 in New York
    const d = localDay(ms, 'America/New_York');
    const monday = periodOf({ kind: 'week', weekStart: 1 }, d)!;
    expect([isoDate(monday.start), isoDate(monday.end)]).toEqual(['2026-11-23', '2026-11-29']);
    const sunday = periodOf({ kind: 'week', weekStart: 0 }, d)!;
    expect([isoDate(sunday.start), isoDate(sunday.end)]).toEqual(['2026-11-29', '2026-12-05']);
  });

  it('a DST week still has seven local days and its activities stay in it', () => {
    // Europe/Paris leaves summer time on Sunday 2026-10-25 (a 25-hour day)
    const w = periodOf({ kind: 'week', weekStart: 1 }, D('2026-10-21'))!;
    expect([isoDate(w.start), isoDate(w.end)]).toEqual(['2026-10-19', '2026-10-25']);
    const late = Date.parse('2026-10-25T22:30:00Z'); // 23:30 CET on the Sunday
    expect(localDay(late, 'Europe/Paris')).toBe(w.end);
    const early = Date.parse('2026-10-18T22:30:00Z'); // 00:30 CEST on the Monday
    expect(localDay(early, 'Europe/Paris')).toBe(w.start);
  });

  it('enumerates the periods between two dates', () => {
    const rule: PeriodRule = { kind: 'week', weekStart: 1 };
    const ps = periodsBetween(rule, D('2026-11-04'), D('2026-11-30'));
    expect(ps.map((p) => isoDate(p.start))).toEqual([
      '2026-11-02',
      '2026-11-09',
      '2026-11-16',
      '2026-11-23',
      '2026-11-30',
    ]);
    expect(PERIOD_KINDS).toContain('custom');
  });

  it('measures the elapsed part of a period', () => {
    const p = { start: D('2026-11-30'), end: D('2026-12-06') };
    expect(elapsedFraction(p, p.start - 1, 0)).toBe(0);
    expect(elapsedFraction(p, p.start, 43_200)).toBeCloseTo(0.5 / 7);
    expect(elapsedFraction(p, p.end + 1, 0)).toBe(1);
  });
});
