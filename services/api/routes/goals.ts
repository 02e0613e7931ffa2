// Goals: definitions in `goals`, progress per period in `goal_periods` (kept by the engagement service
// from activities.v1, docs/engagement.md). The status of a period depends on the clock, so it is derived
// here at read time, in the athlete's zone and first day of the week.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { GOAL_STATUSES, GOAL_TYPES, goalStatus } from '../../../pipelines/engagement/goals.js';
import { type Day, isoDate, parseIsoDate } from '../../../pipelines/engagement/local-days.js';
import {
  PERIOD_KINDS,
  type PeriodRule,
  periodOf,
  periodsBetween,
} from '../../../pipelines/engagement/periods.js';
import { principalOf } from '../access.js';
import { type AthleteClock, athleteClock, pgCall } from '../athlete-clock.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { claimIdempotencyKey, recordIdempotentResult } from '../idempotency.js';
import { problemResponse } from './shared.js';

const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'local date, YYYY-MM-DD' });
const Id = Type.String({ format: 'uuid' });
const Sport = Type.String({ minLength: 1, maxLength: 32 });
const GoalType = Type.Enum(GOAL_TYPES);
const Period = Type.Enum(PERIOD_KINDS);
const Status = Type.Enum(GOAL_STATUSES);

const PeriodView = Type.Object({
  period_start: IsoDate,
  period_end: IsoDate,
  value: Type.Number(),
  status: Status,
});

const Goal = Type.Object({
  id: Id,
  goal_type: GoalType,
  sport: Type.Union([Sport, Type.Null()]),
  period: Period,
  start_date: IsoDate,
  end_date: Type.Union([IsoDate, Type.Null()]),
  target_value: Type.Number({
    description: 'metres (distance, elevation), seconds (duration), activities (count), kcal',
  }),
  current_period_start: Type.Union([IsoDate, Type.Null()]),
  current_period_end: Type.Union([IsoDate, Type.Null()]),
  current_value: Type.Number(),
  expected_value: Type.Number({
    description: 'the pace line: target x the elapsed part of the current period',
  }),
  percent: Type.Number(),
  status: Status,
  history: Type.Array(PeriodView, { description: 'past periods, newest first, with their final status' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

interface GoalRow {
  id: string;
  kind: (typeof GOAL_TYPES)[number];
  sport: string | null;
  period: (typeof PERIOD_KINDS)[number];
  target: number;
  starts_on: number;
  ends_on: number | null;
  created_at: Date;
  updated_at: Date;
}

const EPOCH = "DATE '1970-01-01'";
const GOAL_COLUMNS = `id, kind, sport, period, target, starts_on - ${EPOCH} AS starts_on, ends_on - ${EPOCH} AS ends_on,
  created_at, updated_at`;
/** past periods shown in `history` at most */
const HISTORY = 52;

async function view(deps: ApiDeps, g: GoalRow, clock: AthleteClock) {
  const rule: PeriodRule = {
    kind: g.period,
    weekStart: clock.weekStart,
    custom: g.ends_on === null ? undefined : { start: g.starts_on, end: g.ends_on },
  };
  const stored = await pgCall(() =>
    deps.pg.query<{ start: number; value: number; activities: number }>(
      `SELECT period_start - ${EPOCH} AS start, value, activities FROM goal_periods WHERE goal_id = $1`,
      [g.id],
    ),
  );
  const byStart = new Map<Day, { value: number; activities: number }>(stored.rows.map((r) => [r.start, r]));
  const read = (p: { start: Day; end: Day }) => {
    const progress = byStart.get(p.start) ?? { value: 0, activities: 0 };
    return { ...goalStatus(g.target, p, progress, clock.day, clock.second), value: progress.value };
  };
  const lastDay = Math.min(clock.day, g.ends_on ?? clock.day);
  const current = clock.day >= g.starts_on ? periodOf(rule, lastDay) : null;
  const currentRead = current ? read(current) : null;
  const past = periodsBetween(rule, g.starts_on, (current?.start ?? g.starts_on) - 1)
    .filter((p) => p.end < (current?.start ?? g.starts_on))
    .slice(-HISTORY)
    .reverse();
  return {
    id: g.id,
    goal_type: g.kind,
    sport: g.sport,
    period: g.period,
    start_date: isoDate(g.starts_on),
    end_date: g.ends_on === null ? null : isoDate(g.ends_on),
    target_value: g.target,
    current_period_start: current ? isoDate(current.start) : null,
    current_period_end: current ? isoDate(current.end) : null,
    current_value: currentRead?.value ?? 0,
    expected_value: currentRead?.expected ?? 0,
    percent: currentRead?.percent ?? 0,
    status: currentRead?.status ?? 'new',
    history: past.map((p) => {
      const r = read(p);
      return { period_start: isoDate(p.start), period_end: isoDate(p.end), value: r.value, status: r.status };
    }),
    created_at: g.created_at.toISOString(),
    updated_at: g.updated_at.toISOString(),
  };
}

function dayOrFail(s: string, field: string): Day {
  const d = parseIsoDate(s);
  if (d === null) throw new ApiError('validation_failed', `${field} is not a date: ${s}`);
  return d;
}

export const goalRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  async function owned(userId: string, id: string): Promise<GoalRow> {
    const r = await pgCall(() =>
      deps.pg.query<GoalRow>(
        `SELECT ${GOAL_COLUMNS} FROM goals WHERE id = $1 AND user_id = $2 AND archived_at IS NULL`,
        [id, userId],
      ),
    );
    // someone else's goal answers like one that does not exist
    if (!r.rows[0]) throw new ApiError('not_found', `goal ${id} not found`);
    return r.rows[0];
  }

  /** Writes a goal change and asks the engagement service to recompute the athlete, in one transaction. */
  async function write<T>(userId: string, f: (c: import('pg').PoolClient) => Promise<T>): Promise<T> {
    const c = await pgCall(() => deps.pg.connect());
    try {
      await c.query('BEGIN');
      const out = await f(c);
      await c.query(
        `INSERT INTO engagement_recompute (user_id) VALUES ($1)
         ON CONFLICT (user_id) DO UPDATE SET requested_at = now()`,
        [userId],
      );
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  app.post(
    '/goals',
    {
      config: { access: 'user' },
      schema: {
        tags: ['goals'],
        summary:
          'Create a goal of the caller; progress comes from their activities, in their time zone. A retry with the same Idempotency-Key returns the same goal',
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        body: Type.Object(
          {
            goal_type: GoalType,
            sport: Type.Optional(Type.Union([Sport, Type.Null()])),
            period: Period,
            target_value: Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }),
            start_date: Type.Optional(IsoDate),
            end_date: Type.Optional(IsoDate),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Goal,
          400: problemResponse('validation_failed', 'invalid_json'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const clock = await athleteClock(deps.pg, user_id);
      const b = req.body;
      const start = b.start_date ? dayOrFail(b.start_date, 'start_date') : clock.day;
      const end = b.end_date ? dayOrFail(b.end_date, 'end_date') : null;
      if (b.period === 'custom' && (b.start_date === undefined || end === null))
        throw new ApiError('validation_failed', 'a custom period needs start_date and end_date');
      if (end !== null && end < start)
        throw new ApiError('validation_failed', 'end_date is before start_date');
      const key = req.headers['idempotency-key'];
      const scope = `POST /v1/goals ${user_id}`;
      const row = await write(user_id, async (c) => {
        const earlier = key ? await claimIdempotencyKey(c, scope, key, b) : null;
        if (earlier) {
          const g = await c.query<GoalRow>(`SELECT ${GOAL_COLUMNS} FROM goals WHERE id = $1`, [earlier]);
          if (!g.rows[0])
            throw new ApiError('conflict', 'the goal created with this Idempotency-Key was deleted');
          return g.rows[0];
        }
        const r = await c.query<GoalRow>(
          `INSERT INTO goals (user_id, kind, sport, period, target, starts_on, ends_on)
           VALUES ($1, $2, $3, $4, $5, ${EPOCH} + $6::int, ${EPOCH} + $7::int) RETURNING ${GOAL_COLUMNS}`,
          [user_id, b.goal_type, b.sport ?? null, b.period, b.target_value, start, end],
        );
        if (key) await recordIdempotentResult(c, scope, key, 201, r.rows[0]!.id);
        return r.rows[0]!;
      });
      reply.code(201);
      return view(deps, row, clock);
    },
  );

  app.get(
    '/goals',
    {
      config: { access: 'user' },
      schema: {
        tags: ['goals'],
        summary: "The caller's goals with their current period and history",
        response: { 200: Type.Object({ items: Type.Array(Goal) }) },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const clock = await athleteClock(deps.pg, user_id);
      const r = await pgCall(() =>
        deps.pg.query<GoalRow>(
          `SELECT ${GOAL_COLUMNS} FROM goals WHERE user_id = $1 AND archived_at IS NULL ORDER BY created_at, id`,
          [user_id],
        ),
      );
      return { items: await Promise.all(r.rows.map((g) => view(deps, g, clock))) };
    },
  );

  app.get(
    '/goals/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['goals'],
        summary: 'One goal of the caller',
        params: Type.Object({ id: Id }),
        response: { 200: Goal, 404: problemResponse('not_found') },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      return view(deps, await owned(user_id, req.params.id), await athleteClock(deps.pg, user_id));
    },
  );

  app.patch(
    '/goals/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['goals'],
        summary: 'Change the target, sport or end date of a goal; its periods are recomputed',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            target_value: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 })),
            sport: Type.Optional(Type.Union([Sport, Type.Null()])),
            end_date: Type.Optional(Type.Union([IsoDate, Type.Null()])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: {
          200: Goal,
          400: problemResponse('validation_failed', 'invalid_json'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const g = await owned(user_id, req.params.id);
      const b = req.body;
      const end =
        b.end_date === undefined ? g.ends_on : b.end_date === null ? null : dayOrFail(b.end_date, 'end_date');
      if (end !== null && end < g.starts_on)
        throw new ApiError('validation_failed', 'end_date is before start_date');
      if (g.period === 'custom' && end === null)
        throw new ApiError('validation_failed', 'a custom period needs end_date');
      const row = await write(user_id, async (c) => {
        const r = await c.query<GoalRow>(
          `UPDATE goals SET target = $3, sport = $4, ends_on = ${EPOCH} + $5::int, updated_at = now()
           WHERE id = $1 AND user_id = $2 RETURNING ${GOAL_COLUMNS}`,
          [g.id, user_id, b.target_value ?? g.target, b.sport === undefined ? g.sport : b.sport, end],
        );
        return r.rows[0]!;
      });
      return view(deps, row, await athleteClock(deps.pg, user_id));
    },
  );

  app.delete(
    '/goals/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['goals'],
        summary: 'Delete a goal of the caller and its progress',
        params: Type.Object({ id: Id }),
        response: { 204: Type.Null(), 404: problemResponse('not_found') },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const r = await pgCall(() =>
        deps.pg.query('DELETE FROM goals WHERE id = $1 AND user_id = $2', [req.params.id, user_id]),
      );
      if (r.rowCount === 0) throw new ApiError('not_found', `goal ${req.params.id} not found`);
      reply.code(204);
      return null;
    },
  );
};
