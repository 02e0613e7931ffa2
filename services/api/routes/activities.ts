import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ident, int, str } from '../../common/clickhouse-sql.js';
import { principalOf, visibleAthlete } from '../access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { isoTime, problemResponse, snakeKeys } from './shared.js';

const Id = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' });
const Sport = Type.Union(['running', 'cycling', 'walking', 'hiking', 'strength'].map((s) => Type.Literal(s)));

/** The list view: key figures of each activity (the full summary is on GET /v1/activities/{id}). */
const ActivityListItem = Type.Object({
  activity_id: Type.String(),
  user_id: Type.String(),
  sport: Type.String(),
  version: Type.Integer(),
  start_time: Type.String({ format: 'date-time', description: 'ISO 8601 (UTC)' }),
  start_ts: Type.Integer({ description: 'the same, epoch ms (what `before` pages with)' }),
  end_time: Type.String({ format: 'date-time' }),
  end_ts: Type.Integer(),
  elapsed_s: Type.Number(),
  moving_s: Type.Number(),
  distance_m: Type.Number(),
  elev_gain_m: Type.Number(),
  avg_speed_mps: Type.Number(),
  hr_avg: Type.Union([Type.Number(), Type.Null()]),
  calories: Type.Number(),
  polyline: Type.String(),
});

interface ListRow {
  activity_id: string;
  user_id: string;
  sport: string;
  version: string | number;
  start_ts: string | number;
  end_ts: string | number;
  elapsed_s: number;
  moving_s: number;
  distance_m: number;
  elev_gain_m: number;
  avg_speed_mps: number;
  hr_avg: number | null;
  calories: number;
  polyline: string;
}

export const activityRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = ident(deps.clickhouseDatabase);

  const select = async <T>(query: string): Promise<T[]> => {
    try {
      const rs = await deps.clickhouse.query({ query, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw new ApiError('dependency_unavailable', 'ClickHouse did not answer', { cause: err });
    }
  };

  /** 404 for an athlete the caller may not see: the same answer as for one that does not exist. */
  const checkAthlete = async (req: FastifyRequest, userId: string) => {
    if (!(await visibleAthlete(deps.pg, principalOf(req), userId)))
      throw new ApiError('not_found', `no athlete ${userId}`);
  };

  app.get(
    '/activities',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary: "An athlete's activities (the caller's by default), newest first (latest version of each)",
        querystring: Type.Object({
          user_id: Type.Optional(
            Type.String({ format: 'uuid', description: 'the athlete; default: the caller' }),
          ),
          sport: Type.Optional(Sport),
          before: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: Number.MAX_SAFE_INTEGER,
              description: 'start time in epoch ms: page with the last start_ts',
            }),
          ),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
        }),
        response: {
          200: Type.Object({ items: Type.Array(ActivityListItem) }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const userId = q.user_id ?? principalOf(req).user_id;
      await checkAthlete(req, userId);
      const where = [`user_id = ${str(userId)}`];
      if (q.sport) where.push(`sport = ${str(q.sport)}`);
      if (q.before !== undefined) where.push(`start_ts < ${int(q.before)}`);
      const rows = await select<ListRow>(
        `SELECT activity_id, user_id, sport, version, start_ts, end_ts, elapsed_s, moving_s, distance_m,
                elev_gain_m, avg_speed_mps, hr_avg, calories, polyline
         FROM ${db}.activities FINAL WHERE ${where.join(' AND ')}
         ORDER BY start_ts DESC LIMIT ${int(q.limit)}`,
      );
      return {
        items: rows.map((r) => ({
          ...r,
          version: Number(r.version),
          start_time: isoTime(Number(r.start_ts)),
          start_ts: Number(r.start_ts),
          end_time: isoTime(Number(r.end_ts)),
          end_ts: Number(r.end_ts),
        })),
      };
    },
  );

  app.get(
    '/activities/:activityId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['activities'],
        summary:
          'One activity: the full summary (laps, splits, best efforts, zones, polyline) of its latest version',
        params: Type.Object({ activityId: Id }),
        response: {
          200: Type.Object({
            version: Type.Integer(),
            summary: Type.Record(Type.String(), Type.Unknown(), {
              description: 'the summary the worker computed (docs/analytics.md), with snake_case keys',
            }),
          }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const rows = await select<{ user_id: string; version: string | number; summary: string }>(
        `SELECT user_id, version, summary FROM ${db}.activities FINAL
         WHERE activity_id = ${str(req.params.activityId)} LIMIT 1`,
      );
      const row = rows[0];
      if (!row || !(await visibleAthlete(deps.pg, principalOf(req), row.user_id)))
        throw new ApiError('not_found', `activity ${req.params.activityId} not found`);
      return {
        version: Number(row.version),
        summary: snakeKeys(JSON.parse(row.summary)) as Record<string, unknown>,
      };
    },
  );

  app.get(
    '/users/:userId/stats',
    {
      config: { access: 'user' },
      schema: {
        tags: ['stats'],
        summary: 'Totals per sport over a date range (UTC days), from the daily roll-up',
        params: Type.Object({ userId: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object({
          from: Type.String({ format: 'date', description: 'first day, inclusive (YYYY-MM-DD)' }),
          to: Type.String({ format: 'date', description: 'last day, inclusive (YYYY-MM-DD)' }),
        }),
        response: {
          200: Type.Object({
            sports: Type.Array(
              Type.Object({
                sport: Type.String(),
                activities: Type.Integer(),
                distance_m: Type.Number(),
                moving_s: Type.Number(),
                elev_gain_m: Type.Number(),
                calories: Type.Number(),
              }),
            ),
          }),
          400: problemResponse('validation_failed'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      await checkAthlete(req, req.params.userId);
      const { from, to } = req.query;
      if (from > to) throw new ApiError('validation_failed', 'from must not be after to');
      const rows = await select<{
        sport: string;
        activities: string | number;
        distance_m: number;
        moving_s: number;
        elev_gain_m: number;
        calories: number;
      }>(
        `SELECT sport, sum(activities) AS activities, sum(total_distance_m) AS distance_m,
                sum(total_moving_s) AS moving_s, sum(total_elev_gain_m) AS elev_gain_m, sum(total_calories) AS calories
         FROM ${db}.daily_user_stats
         WHERE user_id = ${str(req.params.userId)} AND day >= toDate(${str(from)}) AND day <= toDate(${str(to)})
         GROUP BY sport ORDER BY sport`,
      );
      return {
        sports: rows.map((r) => ({
          sport: r.sport,
          activities: Number(r.activities),
          distance_m: r.distance_m,
          moving_s: r.moving_s,
          elev_gain_m: r.elev_gain_m,
          calories: r.calories,
        })),
      };
    },
  );
};
