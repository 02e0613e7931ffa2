// An athlete's stats: totals of fixed periods in their own calendar, personal bests and streaks.
// The ClickHouse part (totals, bests) is cached per athlete in Redis under a generation that every
// activities.v1 record bumps (stats-cache.ts); streaks are read from the engagement read model each time,
// since that service applies the same events on its own schedule and a cached streak could lag it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import {
  type Day,
  isoDate,
  localDay,
  parseIsoDate,
  startOfLocalDay,
} from '../../../pipelines/engagement/local-days.js';
import { periodOf, weekStartOf } from '../../../pipelines/engagement/periods.js';
import { ident, int, str } from '../../common/clickhouse-sql.js';
import { principalOf, requireVisibleAthlete } from '../access.js';
import { type AthleteClock, athleteClock } from '../athlete-clock.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { latestActivities } from '../latest-activities.js';
import { redisStatsCache } from '../stats-cache.js';
import { readStreaks, StreaksSchema } from '../streaks-read.js';
import { isoTime, problemResponse, selectRows } from './shared.js';

/**
 * How long a cached figure may live. Not what keeps it fresh (the generation does): it bounds Redis memory,
 * and how stale a figure can get while the invalidator is not running.
 */
const CACHE_TTL_S = 3600;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const Figures = Type.Object({
  activities: Type.Integer(),
  distance_m: Type.Number(),
  moving_s: Type.Number({ description: 'moving time, s' }),
  elev_gain_m: Type.Number(),
  calories: Type.Number({ description: 'kcal' }),
  avg_speed_mps: Type.Union([Type.Number(), Type.Null()], {
    description: 'distance / moving time of the activities with a distance; null without one',
  }),
  avg_pace_s_per_km: Type.Union([Type.Number(), Type.Null()], {
    description: 'the same as a pace, s/km; null without distance',
  }),
});
const SportFigures = Type.Intersect([Type.Object({ sport: Type.String() }), Figures]);
const Period = Type.Object({
  from: Type.Union([Type.String({ format: 'date' }), Type.Null()], {
    description: 'first local date, inclusive (null: since the first activity)',
  }),
  to: Type.Union([Type.String({ format: 'date' }), Type.Null()], {
    description: 'last local date, inclusive (null: no end)',
  }),
  overall: Figures,
  by_sport: Type.Array(SportFigures),
});
const PersonalBest = Type.Object({
  sport: Type.String(),
  kind: Type.Union([Type.Literal('time'), Type.Literal('speed'), Type.Literal('power')], {
    description:
      'time: the shortest time over a distance (foot sports); speed, power: the best average over a duration (cycling)',
  }),
  name: Type.String({
    description:
      '400 m, 1 km, 1 mile, 5 km, 10 km, half marathon, marathon; 5 s, 1 min, 5 min, 20 min, 60 min',
  }),
  distance_m: Type.Number(),
  duration_s: Type.Number(),
  avg_speed_mps: Type.Number(),
  avg_power_w: Type.Union([Type.Number(), Type.Null()]),
  activity_id: Type.String(),
  start_time: Type.String({ format: 'date-time', description: 'when the effort began (UTC)' }),
  date: Type.String({ format: 'date', description: "the athlete's local date of it" }),
});
const StatsResponse = Type.Object({
  user_id: Type.String(),
  timezone: Type.String(),
  week_start: Type.String(),
  today: Type.String({ format: 'date', description: "the athlete's local date now" }),
  periods: Type.Object({
    week: Period,
    month: Period,
    year_to_date: Period,
    last_4_weeks: Period,
    lifetime: Period,
    range: Type.Optional(Period),
  }),
  personal_bests: Type.Array(PersonalBest),
  streaks: StreaksSchema,
});
type PeriodOut = Static<typeof Period>;
type BestOut = Static<typeof PersonalBest>;
type FiguresOut = Static<typeof Figures>;

/** Local-date ranges of the fixed periods at `today`; lifetime has none. */
export function statsPeriods(today: Day, weekStart: number, range?: { from: Day; to: Day }) {
  const out: Record<string, { from: Day; to: Day } | null> = {
    week: { from: weekStartOf(today, weekStart), to: today },
    month: { from: periodOf({ kind: 'month', weekStart }, today)!.start, to: today },
    year_to_date: { from: periodOf({ kind: 'year', weekStart }, today)!.start, to: today },
    last_4_weeks: { from: today - 27, to: today },
    lifetime: null,
  };
  if (range) out.range = range;
  return out;
}

const METRICS = ['distance_m', 'moving_s', 'elev_gain_m', 'calories'] as const;

function figures(activities: number, sums: Record<string, number>): FiguresOut {
  const distance = sums.distance_m ?? 0;
  const movingWithDistance = sums.moving_dist_s ?? 0;
  return {
    activities,
    distance_m: distance,
    moving_s: sums.moving_s ?? 0,
    elev_gain_m: sums.elev_gain_m ?? 0,
    calories: sums.calories ?? 0,
    avg_speed_mps: distance > 0 && movingWithDistance > 0 ? distance / movingWithDistance : null,
    avg_pace_s_per_km: distance > 0 ? movingWithDistance / (distance / 1000) : null,
  };
}

export const statsRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = ident(deps.clickhouseDatabase);
  const cache = redisStatsCache(deps.redis, CACHE_TTL_S);

  const select = <T>(query: string) => selectRows<T>(deps.clickhouse, query);

  /** Totals per sport of every period in one pass over the athlete's range of the `activities` key. */
  const totals = async (userId: string, clock: AthleteClock, periods: ReturnType<typeof statsPeriods>) => {
    const cols: string[] = [];
    for (const [name, p] of Object.entries(periods)) {
      const cond = p
        ? `start_ts >= ${int(startOfLocalDay(p.from, clock.timezone))} AND start_ts < ${int(startOfLocalDay(p.to + 1, clock.timezone))}`
        : '1';
      cols.push(`countIf(${cond}) AS ${name}__activities`);
      for (const m of METRICS) cols.push(`sumIf(${m}, ${cond}) AS ${name}__${m}`);
      cols.push(`sumIf(moving_s, distance_m > 0 AND ${cond}) AS ${name}__moving_dist_s`);
    }
    const rows = await select<Record<string, string | number>>(
      `SELECT sport, ${cols.join(', ')}
       FROM ${latestActivities(db, `user_id = ${str(userId)}`, ['sport', 'start_ts', ...METRICS])}
       GROUP BY sport ORDER BY sport`,
    );
    const out: Record<string, PeriodOut> = {};
    for (const [name, p] of Object.entries(periods)) {
      const all: Record<string, number> = {};
      let allCount = 0;
      const bySport: PeriodOut['by_sport'] = [];
      for (const r of rows) {
        const count = Number(r[`${name}__activities`]);
        if (count === 0) continue;
        const sums: Record<string, number> = {};
        for (const m of [...METRICS, 'moving_dist_s']) {
          sums[m] = Number(r[`${name}__${m}`]);
          all[m] = (all[m] ?? 0) + sums[m]!;
        }
        allCount += count;
        bySport.push({ sport: String(r.sport), ...figures(count, sums) });
      }
      out[name] = {
        from: p ? isoDate(p.from) : null,
        to: p ? isoDate(p.to) : null,
        overall: figures(allCount, all),
        by_sport: bySport,
      };
    }
    return out;
  };

  /** The best of each effort the worker stored in the activities' `best_efforts` (pipelines/stages/best-efforts.ts). */
  const personalBests = async (userId: string, clock: AthleteClock): Promise<BestOut[]> => {
    const rows = await select<{ activity_id: string; sport: string; best_efforts: string }>(
      `SELECT activity_id, sport, best_efforts
       FROM ${latestActivities(db, `user_id = ${str(userId)}`, ['activity_id', 'sport', 'start_ts', 'best_efforts'])}
       WHERE best_efforts NOT IN ('', '[]') ORDER BY start_ts, activity_id`,
    );
    const best = new Map<string, BestOut>();
    const offer = (key: string, b: BestOut, better: (old: BestOut) => boolean) => {
      const old = best.get(key);
      if (!old || better(old)) best.set(key, b);
    };
    for (const r of rows) {
      let efforts: unknown;
      try {
        efforts = JSON.parse(r.best_efforts);
      } catch {
        continue;
      }
      if (!Array.isArray(efforts)) continue;
      for (const e of efforts as Array<{
        kind: string;
        name: string;
        distanceM: number;
        durationS: number;
        startTs: number;
        avgSpeedMps: number;
        avgPowerW: number | null;
      }>) {
        const b = {
          sport: r.sport,
          name: e.name,
          distance_m: e.distanceM,
          duration_s: e.durationS,
          avg_speed_mps: e.avgSpeedMps,
          avg_power_w: e.avgPowerW ?? null,
          activity_id: r.activity_id,
          start_time: isoTime(e.startTs),
          date: isoDate(localDay(e.startTs, clock.timezone)),
        };
        // earlier activities first: a tie keeps the first one to set the mark
        if (e.kind === 'distance')
          offer(`${r.sport}|time|${e.name}`, { ...b, kind: 'time' }, (o) => e.durationS < o.duration_s);
        else if (e.kind === 'duration') {
          offer(
            `${r.sport}|speed|${e.name}`,
            { ...b, kind: 'speed' },
            (o) => e.avgSpeedMps > o.avg_speed_mps,
          );
          const power = e.avgPowerW;
          if (power !== null && power !== undefined)
            offer(
              `${r.sport}|power|${e.name}`,
              { ...b, kind: 'power' },
              (o) => power > (o.avg_power_w ?? -1),
            );
        }
      }
    }
    const kindOrder = { time: 0, speed: 1, power: 2 };
    return [...best.values()].sort(
      (a, b) =>
        a.sport.localeCompare(b.sport) ||
        kindOrder[a.kind] - kindOrder[b.kind] ||
        a.distance_m * (a.kind === 'time' ? 1 : 0) - b.distance_m * (b.kind === 'time' ? 1 : 0) ||
        a.duration_s * (a.kind === 'time' ? 0 : 1) - b.duration_s * (b.kind === 'time' ? 0 : 1),
    );
  };

  const stats = async (userId: string, query: { from?: string; to?: string }) => {
    let range: { from: Day; to: Day } | undefined;
    if (query.from !== undefined || query.to !== undefined) {
      const from = query.from === undefined ? null : parseIsoDate(query.from);
      const to = query.to === undefined ? null : parseIsoDate(query.to);
      if (from === null || to === null)
        throw new ApiError('validation_failed', 'from and to go together, as real dates (YYYY-MM-DD)');
      if (from > to) throw new ApiError('validation_failed', 'from must not be after to');
      range = { from, to };
    }
    const clock = await athleteClock(deps.pg, userId);
    const periods = statsPeriods(clock.day, clock.weekStart, range);
    const frame = [clock.timezone, clock.weekStart, clock.day, range?.from ?? '', range?.to ?? ''].join('|');
    const [figuresAndBests, streaks] = await Promise.all([
      cache.get(userId, frame, async () => {
        const [p, b] = await Promise.all([totals(userId, clock, periods), personalBests(userId, clock)]);
        return { periods: p, personal_bests: b };
      }),
      readStreaks(deps.pg, userId, clock),
    ]);
    return {
      user_id: userId,
      timezone: clock.timezone,
      week_start: WEEKDAYS[clock.weekStart]!,
      today: isoDate(clock.day),
      periods: figuresAndBests.periods as Static<typeof StatsResponse>['periods'],
      personal_bests: figuresAndBests.personal_bests,
      streaks,
    };
  };

  const Range = Type.Object({
    from: Type.Optional(
      Type.String({ format: 'date', description: 'with `to`: a `range` period too, local dates, inclusive' }),
    ),
    to: Type.Optional(Type.String({ format: 'date' })),
  });
  const description =
    "Totals of this week, this month, the year to date, the last 4 weeks (28 days to today) and the lifetime, overall and per sport, in the athlete's time zone and first day of the week (activities count on the local date they start); personal bests from the activities' best efforts; current and longest streaks.";

  app.get(
    '/users/me/stats',
    {
      config: { access: 'user' },
      schema: {
        tags: ['stats'],
        summary: "The caller's stats",
        description,
        querystring: Range,
        response: { 200: StatsResponse, 400: problemResponse('validation_failed') },
      },
    },
    async (req) => stats(principalOf(req).user_id, req.query),
  );

  const checkAthlete = (req: FastifyRequest, userId: string) =>
    requireVisibleAthlete(deps.pg, principalOf(req), userId);

  app.get(
    '/users/:userId/stats',
    {
      config: { access: 'user' },
      schema: {
        tags: ['stats'],
        summary: "An athlete's stats: the caller's own, or of an athlete who granted the caller access",
        description,
        params: Type.Object({ userId: Type.String({ format: 'uuid' }) }),
        querystring: Range,
        response: {
          200: StatsResponse,
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      await checkAthlete(req, req.params.userId);
      return stats(req.params.userId, req.query);
    },
  );
};
