import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  civil,
  dayOf,
  isoDate,
  isTimeZone,
  localDay,
  localTime,
  parseIsoDate,
  startOfLocalDay,
  weekday,
} from './local-days.js';

describe('local days', () => {
  it('round-trips civil dates and ISO text', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (d) => {
        const { y, m, d: dd } = civil(d);
        expect(dayOf(y, m, dd)).toBe(d);
        expect(parseIsoDate(isoDate(d))).toBe(d);
      }),
    );
    expect(isoDate(0)).toBe('1970-01-01');
    expect(parseIsoDate('2024-02-29')).toBe(dayOf(2024, 2, 29));
    expect(parseIsoDate('2026-02-29')).toBeNull();
    expect(parseIsoDate('2026-13-01')).toBeNull();
    expect(parseIsoDate('26-01-01')).toBeNull();
  });

  it('knows the weekday', () => {
    expect(weekday(0)).toBe(4); // Thursday
    expect(weekday(parseIsoDate('2026-11-29')!)).toBe(0); // a Sunday
  });

  it('agrees with Date for UTC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        const t = localTime(ms, 'UTC');
        const date = new Date(ms);
        expect(isoDate(t.day)).toBe(date.toISOString().slice(0, 10));
        expect(t.second).toBe(Math.floor((ms % 86_400_000) / 1000));
      }),
    );
  });

  it('puts 23:30 local on a Sunday on that Sunday, whatever UTC says', () => {
    // 2026-11-29 23:30 in New York (UTC-5) is Monday 04:30 UTC
    const ms = Date.parse('2026-11-30T04:30:00Z');
    expect(isoDate(localDay(ms, 'America/New_York'))).toBe('2026-11-29');
    expect(isoDate(localDay(ms, 'UTC'))).toBe('2026-11-30');
  });

  it('handles date-line zones (Kiribati +14, Pago Pago -11)', () => {
    const ms = Date.parse('2026-06-15T12:00:00Z');
    expect(isoDate(localDay(ms, 'Pacific/Kiritimati'))).toBe('2026-06-16');
    expect(isoDate(localDay(ms, 'Pacific/Pago_Pago'))).toBe('2026-06-15');
    // Samoa skipped 2011-12-30 when it crossed the date line
    const before = Date.parse('2011-12-30T09:59:00Z');
    expect(isoDate(localDay(before, 'Pacific/Apia'))).toBe('2011-12-29');
    expect(isoDate(localDay(before + 120_000, 'Pacific/Apia'))).toBe('2011-12-31');
  });

  it('finds the first instant of a local day, across DST changes', () => {
    const zones = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Kiritimati', 'UTC'];
    fc.assert(
      fc.property(
        fc.integer({ min: dayOf(2000, 1, 1), max: dayOf(2040, 1, 1) }),
        fc.constantFrom(...zones),
        (d, tz) => {
          const ms = startOfLocalDay(d, tz);
          expect(localDay(ms, tz)).toBe(d);
          expect(localDay(ms - 1000, tz)).toBe(d - 1);
        },
      ),
    );
    // America/Santiago skips 00:00 on its DST start day (2026-09-06): the day starts at 01:00
    const d = parseIsoDate('2026-09-06')!;
    const ms = startOfLocalDay(d, 'America/Santiago');
    expect(localTime(ms, 'America/Santiago')).toEqual({ day: d, second: 3600 });
  });

  it('validates zone names', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});
