// Goal periods over local dates: a day, a week starting on the athlete's first day of the week, a
// calendar month or year, or one custom range. Pure: every rule here takes Days (local-days.ts).
import { civil, type Day, dayOf, weekday } from './local-days.js';

export const PERIOD_KINDS = ['day', 'week', 'month', 'year', 'custom'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface PeriodRule {
  kind: PeriodKind;
  /** 0 = Sunday ... 6 = Saturday; used by `week` */
  weekStart: number;
  /** the one range of a `custom` period (inclusive); ignored otherwise */
  custom?: { start: Day; end: Day };
}

/** A period as an inclusive range of local dates. */
export interface Period {
  start: Day;
  end: Day;
}

/** The first day of the week containing `day`, for weeks starting on `weekStart` (0 = Sunday). */
export function weekStartOf(day: Day, weekStart: number): Day {
  return day - ((weekday(day) - weekStart + 7) % 7);
}

/** The period of `rule` that contains `day`, or null (a custom period contains only its range). */
export function periodOf(rule: PeriodRule, day: Day): Period | null {
  switch (rule.kind) {
    case 'day':
      return { start: day, end: day };
    case 'week': {
      const start = weekStartOf(day, rule.weekStart);
      return { start, end: start + 6 };
    }
    case 'month': {
      const { y, m } = civil(day);
      const start = dayOf(y, m, 1);
      return { start, end: (m === 12 ? dayOf(y + 1, 1, 1) : dayOf(y, m + 1, 1)) - 1 };
    }
    case 'year': {
      const { y } = civil(day);
      return { start: dayOf(y, 1, 1), end: dayOf(y + 1, 1, 1) - 1 };
    }
    case 'custom': {
      const c = rule.custom;
      return c && day >= c.start && day <= c.end ? { start: c.start, end: c.end } : null;
    }
  }
}

/** The periods of `rule` that overlap [from, to], oldest first. */
export function periodsBetween(rule: PeriodRule, from: Day, to: Day): Period[] {
  const out: Period[] = [];
  if (rule.kind === 'custom') {
    const c = rule.custom;
    if (c && c.start <= to && c.end >= from) out.push({ start: c.start, end: c.end });
    return out;
  }
  for (let d = from; d <= to; ) {
    const p = periodOf(rule, d)!;
    out.push(p);
    d = p.end + 1;
  }
  return out;
}

/** Fraction of `period` elapsed at local `day` + `second` (0 before it, 1 after it). */
export function elapsedFraction(period: Period, day: Day, second: number): number {
  if (day < period.start) return 0;
  if (day > period.end) return 1;
  return (day - period.start + second / 86_400) / (period.end - period.start + 1);
}
