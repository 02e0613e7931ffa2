// Local calendar dates as integers (days since 1970-01-01, proleptic Gregorian) and the conversion of
// an instant into the local date and time of day of an IANA time zone. Goals, streaks and challenges
// count in the athlete's local days, so every rule in this folder works on these integers: adding a
// day is `+ 1`, whatever the zone's DST or offset does.

/** A local date: days since 1970-01-01. */
export type Day = number;

const MS_PER_DAY = 86_400_000;

/** Year, month (1-12) and day of month of a Day (H. Hinnant's civil_from_days). */
export function civil(day: Day): { y: number; m: number; d: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** The Day of a civil date (days_from_civil); month 1-12. */
export function dayOf(y: number, m: number, d: number): Day {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD`; null when it is not a real date (2026-02-30). */
export function parseIsoDate(s: string): Day | null {
  const m = ISO_DATE.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  const day = dayOf(y, mo, d);
  const back = civil(day);
  return back.m === mo && back.d === d ? day : null;
}

export function isoDate(day: Day): string {
  const { y, m, d } = civil(day);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(day: Day): number {
  return (((day + 4) % 7) + 7) % 7;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA zone name this runtime knows (`Europe/Paris`, `UTC`). */
export function isTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  day: Day;
  /** seconds since local midnight, 0 .. 86399 */
  second: number;
}

/** The local date and time of day of instant `ms` in zone `tz`. */
export function localTime(ms: number, tz: string): LocalTime {
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatter(tz).formatToParts(ms)) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
    }
  }
  return { day: dayOf(y, mo, d), second: h * 3600 + mi * 60 + s };
}

export function localDay(ms: number, tz: string): Day {
  return localTime(ms, tz).day;
}

/** The instant local midnight of `day` begins in `tz` (the first instant of that local date). */
export function startOfLocalDay(day: Day, tz: string): number {
  // Offsets are at most ±26 h: search from the UTC midnight, correcting by the observed offset twice
  // (the second pass settles a DST change between the guess and the answer).
  let ms = day * MS_PER_DAY;
  for (let i = 0; i < 3; i++) {
    const t = localTime(ms, tz);
    const diff = (t.day - day) * 86_400 + t.second;
    if (diff === 0) return ms;
    ms -= diff * 1000;
  }
  // Midnight does not exist on this date (a DST jump at 00:00): the first instant after it.
  while (localTime(ms, tz).day < day) ms += 60_000;
  while (localTime(ms - 60_000, tz).day === day) ms -= 60_000;
  return ms;
}
