// Streak challenges: every athlete sees every challenge; admins create, update and close them; an
// athlete joins and leaves; support force-completes or recalculates a participant. Every change of a
// participant goes through the state machine of pipelines/engagement/challenges.ts, whose refusals
// answer with their own codes; progress itself is kept by the engagement service from the athlete's
// activities (docs/engagement.md).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { Type } from 'typebox';
import {
  CHALLENGE_RULE_KINDS,
  type ChallengeAction,
  PARTICIPANT_STATES,
  type ParticipantState,
  transition,
} from '../../../pipelines/engagement/challenges.js';
import { isoDate, isTimeZone, localDay, parseIsoDate } from '../../../pipelines/engagement/local-days.js';
import { principalOf } from '../access.js';
import { athleteClock, pgCall } from '../athlete-clock.js';
import { usePower } from '../audit.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { claimIdempotencyKey, recordIdempotentResult } from '../idempotency.js';
import { problemResponse } from './shared.js';

const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'local date, YYYY-MM-DD' });
const Id = Type.String({ format: 'uuid' });
const State = Type.Enum(PARTICIPANT_STATES);

const Challenge = Type.Object({
  id: Id,
  name: Type.String(),
  description: Type.String(),
  rule: Type.Object({
    kind: Type.Enum(CHALLENGE_RULE_KINDS),
    per_period: Type.Number({
      description: 'activities a week (activities_per_week), metres a day (distance_per_day)',
    }),
    target: Type.Number({ description: 'weeks, days, metres or seconds' }),
    sport: Type.Union([Type.String(), Type.Null()]),
    min_distance_m: Type.Number(),
    min_moving_s: Type.Number(),
  }),
  milestones: Type.Array(Type.Number()),
  start_date: IsoDate,
  end_date: IsoDate,
  timezone: Type.Union([Type.String(), Type.Null()], { description: "null: each athlete's own zone" }),
  closed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  my_state: State,
});

const Progress = Type.Object({
  challenge_id: Id,
  user_id: Id,
  state: State,
  value: Type.Number(),
  target: Type.Number(),
  milestones_reached: Type.Array(Type.Number()),
  forced: Type.Boolean(),
  joined_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const ChallengeBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    rule: Type.Object(
      {
        kind: Type.Enum(CHALLENGE_RULE_KINDS),
        per_period: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
        target: Type.Number({ exclusiveMinimum: 0, maximum: 1e12 }),
        sport: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Null()])),
        min_distance_m: Type.Optional(Type.Number({ minimum: 0, maximum: 1e7 })),
        min_moving_s: Type.Optional(Type.Number({ minimum: 0, maximum: 1e7 })),
      },
      { additionalProperties: false },
    ),
    milestones: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }), { maxItems: 50 })),
    start_date: IsoDate,
    end_date: IsoDate,
    timezone: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
  },
  { additionalProperties: false },
);

interface ChallengeRow {
  id: string;
  name: string;
  description: string;
  rule_kind: (typeof CHALLENGE_RULE_KINDS)[number];
  per_period: number;
  target: number;
  sport: string | null;
  min_distance_m: number;
  min_moving_s: number;
  milestones: number[];
  start: number;
  end: number;
  timezone: string | null;
  closed_at: Date | null;
}

interface ParticipantRow {
  state: ParticipantState;
  value: number;
  milestones: number[];
  forced: boolean;
  joined_at: Date | null;
  completed_at: Date | null;
}

const EPOCH = "DATE '1970-01-01'";
const columns = (c = '') =>
  `${c}id, ${c}name, ${c}description, ${c}rule_kind, ${c}per_period, ${c}target, ${c}sport, ${c}min_distance_m,
   ${c}min_moving_s, ${c}milestones, ${c}start_date - ${EPOCH} AS start, ${c}end_date - ${EPOCH} AS end, ${c}timezone,
   ${c}closed_at`;

function challengeView(c: ChallengeRow, myState: ParticipantState) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    rule: {
      kind: c.rule_kind,
      per_period: c.per_period,
      target: c.target,
      sport: c.sport,
      min_distance_m: c.min_distance_m,
      min_moving_s: c.min_moving_s,
    },
    milestones: c.milestones,
    start_date: isoDate(c.start),
    end_date: isoDate(c.end),
    timezone: c.timezone,
    closed_at: c.closed_at?.toISOString() ?? null,
    my_state: myState,
  };
}

function progressView(c: ChallengeRow, userId: string, p: ParticipantRow | undefined) {
  return {
    challenge_id: c.id,
    user_id: userId,
    state: p?.state ?? 'unjoined',
    value: p?.value ?? 0,
    target: c.target,
    milestones_reached: p?.milestones ?? [],
    forced: p?.forced ?? false,
    joined_at: p?.joined_at?.toISOString() ?? null,
    completed_at: p?.completed_at?.toISOString() ?? null,
  };
}

const refused409 = problemResponse(
  'not_joined',
  'already_joined',
  'challenge_not_started',
  'challenge_ended',
  'already_completed',
  'forbidden_transition',
);

function validWindow(start: string, end: string, timezone: string | null | undefined) {
  const s = parseIsoDate(start);
  const e = parseIsoDate(end);
  if (s === null || e === null)
    throw new ApiError('validation_failed', 'start_date and end_date must be dates');
  if (e < s) throw new ApiError('validation_failed', 'end_date is before start_date');
  if (timezone && !isTimeZone(timezone))
    throw new ApiError('validation_failed', `timezone ${timezone} is not an IANA zone`);
  return { s, e };
}

export const challengeRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  async function load(db: pg.Pool | pg.PoolClient, id: string, lock = false): Promise<ChallengeRow> {
    const r = await pgCall(() =>
      db.query<ChallengeRow>(`SELECT ${columns()} FROM challenges WHERE id = $1${lock ? ' FOR SHARE' : ''}`, [
        id,
      ]),
    );
    if (!r.rows[0]) throw new ApiError('challenge_not_found', `challenge ${id} not found`);
    return r.rows[0];
  }

  async function participant(db: pg.Pool | pg.PoolClient, id: string, userId: string, lock = false) {
    const r = await db.query<ParticipantRow>(
      `SELECT state, value, milestones, forced, joined_at, completed_at FROM challenge_participants
       WHERE challenge_id = $1 AND user_id = $2${lock ? ' FOR UPDATE' : ''}`,
      [id, userId],
    );
    return r.rows[0];
  }

  /**
   * One participant change through the state machine, in one transaction with the recompute request
   * that lets the engagement service record progress and announce the change.
   */
  async function change(challengeId: string, userId: string, action: ChallengeAction) {
    const c = await pgCall(() => deps.pg.connect());
    try {
      await c.query('BEGIN');
      const ch = await load(c, challengeId, true);
      const before = await participant(c, challengeId, userId, true);
      const tz = ch.timezone ?? (await athleteClock(c, userId)).timezone;
      const today = localDay(Date.now(), tz);
      const t = transition(
        before?.state ?? 'unjoined',
        action,
        { start: ch.start, end: ch.end, closed: ch.closed_at !== null },
        today,
      );
      if (!t.ok) throw new ApiError(t.code, t.message);
      await c.query(
        `INSERT INTO challenge_participants (challenge_id, user_id, state, forced, joined_at, left_at, completed_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $3 = 'joined' THEN now() END, NULL, CASE WHEN $3 = 'completed' THEN now() END)
         ON CONFLICT (challenge_id, user_id) DO UPDATE SET
           state = excluded.state,
           forced = challenge_participants.forced OR excluded.forced,
           joined_at = CASE WHEN $5 = 'join' THEN now() ELSE challenge_participants.joined_at END,
           left_at = CASE WHEN $5 = 'leave' THEN now() ELSE challenge_participants.left_at END,
           completed_at = coalesce(excluded.completed_at, challenge_participants.completed_at),
           updated_at = now()`,
        [challengeId, userId, t.state, action === 'force_complete', action],
      );
      await c.query(
        `INSERT INTO engagement_recompute (user_id) VALUES ($1) ON CONFLICT (user_id) DO UPDATE SET requested_at = now()`,
        [userId],
      );
      await c.query('COMMIT');
      return progressView(ch, userId, await participant(deps.pg, challengeId, userId));
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  const ParamsId = Type.Object({ id: Id });
  const NotFound = problemResponse('challenge_not_found');

  app.get(
    '/challenges',
    {
      config: { access: 'user' },
      schema: {
        tags: ['challenges'],
        summary: 'Every challenge, newest window first, with the caller’s state in it',
        response: { 200: Type.Object({ items: Type.Array(Challenge) }) },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const r = await pgCall(() =>
        deps.pg.query<ChallengeRow & { my_state: ParticipantState | null }>(
          `SELECT ${columns('c.')}, p.state AS my_state
           FROM challenges c LEFT JOIN challenge_participants p ON p.challenge_id = c.id AND p.user_id = $1
           ORDER BY c.start_date DESC, c.id LIMIT 200`,
          [user_id],
        ),
      );
      return { items: r.rows.map((c) => challengeView(c, c.my_state ?? 'unjoined')) };
    },
  );

  app.get(
    '/challenges/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['challenges'],
        summary: 'One challenge',
        params: ParamsId,
        response: { 200: Challenge, 404: NotFound },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const ch = await load(deps.pg, req.params.id);
      const p = await pgCall(() => participant(deps.pg, ch.id, user_id));
      return challengeView(ch, p?.state ?? 'unjoined');
    },
  );

  app.get(
    '/challenges/:id/progress',
    {
      config: { access: 'user' },
      schema: {
        tags: ['challenges'],
        summary: "The caller's state and progress in a challenge",
        params: ParamsId,
        response: { 200: Progress, 404: NotFound },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const ch = await load(deps.pg, req.params.id);
      return progressView(ch, user_id, await pgCall(() => participant(deps.pg, ch.id, user_id)));
    },
  );

  for (const [path, action, summary] of [
    ['join', 'join', 'Join a challenge (before or during its window)'],
    [
      'leave',
      'leave',
      'Leave a challenge; the progress is kept (it comes from the activities) and shows again on rejoin',
    ],
  ] as const) {
    app.post(
      `/challenges/:id/${path}`,
      {
        config: { access: 'user' },
        schema: {
          tags: ['challenges'],
          summary,
          params: ParamsId,
          response: { 200: Progress, 404: NotFound, 409: refused409 },
        },
      },
      async (req) => change(req.params.id, principalOf(req).user_id, action),
    );
  }

  for (const [path, action, summary] of [
    [
      'complete',
      'force_complete',
      'Support: mark a joined athlete as completed (refused for one who is not joined)',
    ],
    ['recalculate', 'recalculate', "Support: rebuild a joined athlete's progress from their activities"],
  ] as const) {
    app.post(
      `/challenges/:id/participants/:userId/${path}`,
      {
        config: { access: 'user' },
        schema: {
          tags: ['challenges'],
          summary,
          params: Type.Object({ id: Id, userId: Id }),
          response: { 200: Progress, 403: problemResponse('forbidden'), 404: NotFound, 409: refused409 },
        },
      },
      async (req) => {
        await pgCall(() =>
          usePower(deps.pg, req, ['support', 'admin'], {
            action: `challenge.participant.${path}`,
            target_type: 'challenge_participant',
            target_id: `${req.params.id}/${req.params.userId}`,
          }),
        );
        return change(req.params.id, req.params.userId, action);
      },
    );
  }

  app.post(
    '/challenges',
    {
      config: { access: 'user' },
      schema: {
        tags: ['challenges'],
        summary:
          'Admin: create a challenge. A retry with the same Idempotency-Key returns the same challenge',
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        body: ChallengeBody,
        response: {
          201: Challenge,
          400: problemResponse('validation_failed', 'invalid_json'),
          403: problemResponse('forbidden'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const b = req.body;
      await pgCall(() =>
        usePower(deps.pg, req, ['admin'], {
          action: 'challenge.create',
          target_type: 'challenge',
          target_id: null,
          detail: { name: b.name },
        }),
      );
      validWindow(b.start_date, b.end_date, b.timezone);
      const key = req.headers['idempotency-key'];
      const scope = `POST /v1/challenges ${p.user_id}`;
      const c = await pgCall(() => deps.pg.connect());
      let id: string;
      try {
        await c.query('BEGIN');
        const earlier = key ? await claimIdempotencyKey(c, scope, key, b) : null;
        if (earlier) id = earlier;
        else {
          const r = await c.query<{ id: string }>(
            `INSERT INTO challenges (created_by, name, description, rule_kind, per_period, target, sport, min_distance_m,
             min_moving_s, milestones, start_date, end_date, timezone)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::date, $12::date, $13) RETURNING id`,
            [
              p.user_id,
              b.name,
              b.description ?? '',
              b.rule.kind,
              b.rule.per_period ?? 0,
              b.rule.target,
              b.rule.sport ?? null,
              b.rule.min_distance_m ?? 0,
              b.rule.min_moving_s ?? 0,
              [...(b.milestones ?? [])].sort((x, y) => x - y),
              b.start_date,
              b.end_date,
              b.timezone ?? null,
            ],
          );
          id = r.rows[0]!.id;
          if (key) await recordIdempotentResult(c, scope, key, 201, id);
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
      reply.code(201);
      return challengeView(await load(deps.pg, id), 'unjoined');
    },
  );

  app.patch(
    '/challenges/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['challenges'],
        summary:
          "Admin: change a challenge's name, description, milestones or end date; participants are recomputed",
        params: ParamsId,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            milestones: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }), { maxItems: 50 })),
            end_date: Type.Optional(IsoDate),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: {
          200: Challenge,
          400: problemResponse('validation_failed'),
          403: problemResponse('forbidden'),
          404: NotFound,
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const b = req.body;
      await pgCall(() =>
        usePower(deps.pg, req, ['admin'], {
          action: 'challenge.update',
          target_type: 'challenge',
          target_id: req.params.id,
          detail: { fields: Object.keys(b) },
        }),
      );
      const ch = await load(deps.pg, req.params.id);
      if (b.end_date) validWindow(isoDate(ch.start), b.end_date, ch.timezone);
      await pgCall(async () => {
        await deps.pg.query(
          `WITH u AS (
             UPDATE challenges SET name = coalesce($2, name), description = coalesce($3, description),
               milestones = coalesce($4, milestones), end_date = coalesce($5::date, end_date), updated_at = now()
             WHERE id = $1)
           INSERT INTO engagement_recompute (user_id)
           SELECT user_id FROM challenge_participants WHERE challenge_id = $1 AND state <> 'unjoined'
           ON CONFLICT (user_id) DO UPDATE SET requested_at = now()`,
          [
            ch.id,
            b.name ?? null,
            b.description ?? null,
            b.milestones ? [...b.milestones].sort((x, y) => x - y) : null,
            b.end_date ?? null,
          ],
        );
      });
      const mine = await pgCall(() => participant(deps.pg, ch.id, p.user_id));
      return challengeView(await load(deps.pg, ch.id), mine?.state ?? 'unjoined');
    },
  );

  app.post(
    '/challenges/:id/close',
    {
      config: { access: 'user' },
      schema: {
        tags: ['challenges'],
        summary:
          'Admin: close a challenge early; joined athletes who have not completed it end not_completed',
        params: ParamsId,
        response: { 200: Challenge, 403: problemResponse('forbidden'), 404: NotFound },
      },
    },
    async (req) => {
      const p = principalOf(req);
      await pgCall(() =>
        usePower(deps.pg, req, ['admin'], {
          action: 'challenge.close',
          target_type: 'challenge',
          target_id: req.params.id,
        }),
      );
      const ch = await load(deps.pg, req.params.id);
      await pgCall(() =>
        deps.pg.query(
          'UPDATE challenges SET closed_at = coalesce(closed_at, now()), updated_at = now() WHERE id = $1',
          [ch.id],
        ),
      );
      const mine = await pgCall(() => participant(deps.pg, ch.id, p.user_id));
      return challengeView(await load(deps.pg, ch.id), mine?.state ?? 'unjoined');
    },
  );
};
