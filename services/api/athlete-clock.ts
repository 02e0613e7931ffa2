import type pg from 'pg';
import { isTimeZone, type LocalTime, localTime } from '../../pipelines/engagement/local-days.js';
import { ApiError } from './errors.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** The athlete's zone, first day of the week and local time now: what goal and streak views read in. */
export interface AthleteClock extends LocalTime {
  timezone: string;
  /** 0 = Sunday */
  weekStart: number;
}

export async function athleteClock(
  db: pg.Pool | pg.PoolClient,
  userId: string,
  nowMs = Date.now(),
): Promise<AthleteClock> {
  const r = await pgCall(() =>
    db.query<{ timezone: string; week_start: string }>(
      'SELECT timezone, week_start FROM users WHERE id = $1',
      [userId],
    ),
  );
  const row = r.rows[0];
  const timezone = row && isTimeZone(row.timezone) ? row.timezone : 'UTC';
  const weekStart = Math.max(0, WEEKDAYS.indexOf(row?.week_start ?? 'monday'));
  return { timezone, weekStart, ...localTime(nowMs, timezone) };
}

/** PostgreSQL error classes that mean "not reachable now" rather than "this query is wrong". */
function unavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e.code === 'string' && (e.code.startsWith('08') || e.code === '57P01' || e.code === '57P03'))
    return true;
  if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT') return true;
  return /timeout exceeded when trying to connect|Connection terminated/.test(e.message ?? '');
}

/** Runs a PostgreSQL call; a database that is down becomes 503 dependency_unavailable, never 500. */
export async function pgCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (unavailable(err))
      throw new ApiError('dependency_unavailable', 'PostgreSQL did not answer', { cause: err });
    throw err;
  }
}
