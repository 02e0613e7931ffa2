// An athlete's progress: one metric as a series of calendar periods in their zone, every period present.
// Every metric is a numerator over a denominator, which makes one rule serve sums and ratios alike:
// - sums (distance, duration, count, elevation, calories): the denominator is 1 per period, so the value is
//   the sum, the moving average the mean over the window and the average the mean per period;
// - ratios (pace: moving s over km; power: watt-seconds over the seconds with power): the value, moving
//   average and average are sums of numerators over sums of denominators (null where there is none).
// docs/analytics.md "Progress" has the ClickHouse query that gives the same numbers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  civil,
  type Day,
  dayOf,
  isoDate,
  localDay,
  parseIsoDate,
  startOfLocalDay,
} from '../../../pipelines/engagement/local-days.js';
import { weekStartOf } from '../../../pipelines/engagement/periods.js';
import { ident, int, str } from '../../common/clickhouse-sql.js';
import { principalOf } from '../access.js';
import { athleteClock } from '../athlete-clock.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { latestActivities } from '../latest-activities.js';
import { athleteRows, redisStatsCache } from '../stats-cache.js';
import { problemResponse, selectRows } from './shared.js';

export const PROGRESS_METRICS = [
  'distance',
  'duration',
  'count',
  'elevation',
  'pace',
  'calories',
  'power',
] as const;
export const PROGRESS_PERIODS = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type ProgressMetric = (typeof PROGRESS_METRICS)[number];
export type ProgressPeriod = (typeof PROGRESS_PERIODS)[number];

const PROGRESS_COLUMNS = [
  'start_ts',
  'sport',
  'distance_m',
  'moving_s',
  'elev_gain_m',
  'calories',
  'power_avg',
];

/** Most periods one series may hold (a day series of ten years). */
const MAX_PERIODS = 3700;

const RATIO: Record<ProgressMetric, boolean> = {
  distance: false,
  duration: false,
  count: false,
  elevation: false,
  calories: false,
  pace: true,
  power: true,
};
const UNIT: Record<ProgressMetric, string> = {
  distance: 'm',
  duration: 's',
  count: 'activities',
  elevation: 'm',
  calories: 'kcal',
  pace: 's/km',
  power: 'W',
};

/** The first date of the period of `kind` that holds `day`. */
export function periodStart(kind: ProgressPeriod, day: Day, weekStart: number): Day {
  if (kind === 'day') return day;
  if (kind === 'week') return weekStartOf(day, weekStart);
  const { y, m } = civil(day);
  if (kind === 'month') return dayOf(y, m, 1);
  if (kind === 'quarter') return dayOf(y, m - ((m - 1) % 3), 1);
  return dayOf(y, 1, 1);
}

/** The first date of the period `n` periods after the one starting on `start` (n may be negative). */
export function periodShift(kind: ProgressPeriod, start: Day, n: number): Day {
  if (kind === 'day') return start + n;
  if (kind === 'week') return start + 7 * n;
  const months = n * (kind === 'month' ? 1 : kind === 'quarter' ? 3 : 12);
  const { y, m } = civil(start);
  const idx = y * 12 + (m - 1) + months;
  return dayOf(Math.floor(idx / 12), (idx % 12) + 1, 1);
}

export interface ProgressInput {
  /** local date each activity started on, and its figures */
  activities: ReadonlyArray<{
    day: Day;
    distance_m: number;
    moving_s: number;
    elev_gain_m: number;
    calories: number;
    power_avg: number | null;
  }>;
  metric: ProgressMetric;
  period: ProgressPeriod;
  weekStart: number;
  from: Day;
  to: Day;
  window: number;
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

/** The series, pure: what the route answers for the activities it read. */
export function progressSeries(p: ProgressInput) {
  const first = periodStart(p.period, p.from, p.weekStart);
  const last = periodStart(p.period, p.to, p.weekStart);
  const starts: Day[] = [];
  for (let s = periodShift(p.period, first, -(p.window - 1)); s <= last; s = periodShift(p.period, s, 1))
    starts.push(s);
  const index = new Map(starts.map((s, i) => [s, i]));
  const num = new Float64Array(starts.length);
  const den = new Float64Array(starts.length).fill(RATIO[p.metric] ? 0 : 1);
  const count = new Float64Array(starts.length);
  for (const a of p.activities) {
    const i = index.get(periodStart(p.period, a.day, p.weekStart));
    if (i === undefined) continue;
    count[i]! += 1;
    switch (p.metric) {
      case 'distance':
        num[i]! += a.distance_m;
        break;
      case 'duration':
        num[i]! += a.moving_s;
        break;
      case 'count':
        num[i]! += 1;
        break;
      case 'elevation':
        num[i]! += a.elev_gain_m;
        break;
      case 'calories':
        num[i]! += a.calories;
        break;
      case 'pace':
        if (a.distance_m > 0) {
          num[i]! += a.moving_s;
          den[i]! += a.distance_m / 1000;
        }
        break;
      case 'power':
        if (a.power_avg !== null) {
          num[i]! += a.power_avg * a.moving_s;
          den[i]! += a.moving_s;
        }
        break;
    }
  }
  const firstIndex = p.window - 1;
  let runNum = 0;
  let runDen = 0;
  const series = [];
  for (let i = firstIndex; i < starts.length; i++) {
    runNum += num[i]!;
    runDen += den[i]!;
    let wNum = 0;
    let wDen = 0;
    for (let k = i - p.window + 1; k <= i; k++) {
      wNum += num[k]!;
      wDen += den[k]!;
    }
    series.push({
      start: isoDate(starts[i]!),
      end: isoDate(periodShift(p.period, starts[i]!, 1) - 1),
      activities: count[i]!,
      value: RATIO[p.metric] ? ratio(num[i]!, den[i]!) : num[i]!,
      running_total: RATIO[p.metric] ? ratio(runNum, runDen) : runNum,
      moving_average: ratio(wNum, wDen),
    });
  }
  return {
    series,
    total: RATIO[p.metric] ? ratio(runNum, runDen) : runNum,
    average_per_period: ratio(runNum, runDen),
  };
}

const Nullable = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

export const progressRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = ident(deps.clickhouseDatabase);
  // the rows of the athlete's range, cached under the athlete's generation where the invalidator runs (deps.ts)
  const rowsOf = athleteRows(
    deps.activityGenerations ? redisStatsCache(deps.redis, 3600) : null,
    <T>(query: string) => selectRows<T>(deps.clickhouse, query),
  );

  app.get(
    '/users/me/progress',
    {
      config: { access: 'user' },
      schema: {
        tags: ['stats'],
        summary:
          "One metric of the caller's activities per calendar period, with running total and moving average",
        description:
          "Periods in the athlete's time zone and first day of the week; the series covers the whole periods that hold `from` .. `to`, every one present (sums 0 when empty; pace and power null). Pace is moving seconds per km of the activities with a distance; power the moving-time weighted average of the activities with power. The moving average covers the `window` periods that end with each one (also before `from`); the running total starts with the first period (for pace and power: the ratio so far).",
        querystring: Type.Object({
          metric: Type.Union(PROGRESS_METRICS.map((m) => Type.Literal(m))),
          period: Type.Union(PROGRESS_PERIODS.map((m) => Type.Literal(m))),
          from: Type.String({ format: 'date' }),
          to: Type.String({ format: 'date' }),
          sport: Type.Optional(
            Type.Union(['running', 'cycling', 'walking', 'hiking', 'strength'].map((s) => Type.Literal(s))),
          ),
          window: Type.Integer({
            minimum: 1,
            maximum: 52,
            default: 4,
            description: 'periods of the moving average',
          }),
        }),
        response: {
          200: Type.Object({
            metric: Type.String(),
            unit: Type.String(),
            period: Type.String(),
            window: Type.Integer(),
            timezone: Type.String(),
            total: Nullable('sum over the series (pace, power: their ratio over the series)'),
            average_per_period: Nullable('the mean per period (pace, power: the ratio over the series)'),
            series: Type.Array(
              Type.Object({
                start: Type.String({ format: 'date' }),
                end: Type.String({ format: 'date' }),
                activities: Type.Integer(),
                value: Nullable('the metric of the period'),
                running_total: Nullable('from the first period of the series to this one'),
                moving_average: Nullable('over the `window` periods ending with this one'),
              }),
            ),
          }),
          400: problemResponse('validation_failed'),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const from = parseIsoDate(q.from);
      const to = parseIsoDate(q.to);
      if (from === null || to === null)
        throw new ApiError('validation_failed', 'from and to must be real dates');
      if (from > to) throw new ApiError('validation_failed', 'from must not be after to');
      const userId = principalOf(req).user_id;
      const clock = await athleteClock(deps.pg, userId);
      const first = periodShift(q.period, periodStart(q.period, from, clock.weekStart), -(q.window - 1));
      const end = periodShift(q.period, periodStart(q.period, to, clock.weekStart), 1);
      if ((end - first) / (q.period === 'day' ? 1 : q.period === 'week' ? 7 : 28) > MAX_PERIODS)
        throw new ApiError('validation_failed', `at most ${MAX_PERIODS} periods`);
      // start_ts and sport can change between versions: judged on the latest one, outside the subquery
      const where = [
        `start_ts >= ${int(startOfLocalDay(first, clock.timezone))}`,
        `start_ts < ${int(startOfLocalDay(end, clock.timezone))}`,
      ];
      if (q.sport) where.push(`sport = ${str(q.sport)}`);
      const rows = await rowsOf<{
        start_ts: string | number;
        distance_m: number;
        moving_s: number;
        elev_gain_m: number;
        calories: number;
        power_avg: number | null;
      }>(
        userId,
        `SELECT start_ts, distance_m, moving_s, elev_gain_m, calories, power_avg
         FROM ${latestActivities(db, `user_id = ${str(userId)}`, PROGRESS_COLUMNS)}
         WHERE ${where.join(' AND ')}`,
      );
      const out = progressSeries({
        activities: rows.map((r) => ({ ...r, day: localDay(Number(r.start_ts), clock.timezone) })),
        metric: q.metric,
        period: q.period,
        weekStart: clock.weekStart,
        from,
        to,
        window: q.window,
      });
      return {
        metric: q.metric,
        unit: UNIT[q.metric],
        period: q.period,
        window: q.window,
        timezone: clock.timezone,
        ...out,
      };
    },
  );
};
