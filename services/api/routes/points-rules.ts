// Points rules: every athlete reads them (what a km of their sport is worth); admins publish a new
// version, which is then computed over all of history before the leaderboards switch to it
// (points-store.ts, docs/points.md).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { type PointsRules, rulesProblem } from '../../../pipelines/points/rules.js';
import { SPORTS } from '../../../schemas/vocabulary.js';
import { principalOf } from '../access.js';
import { pgCall } from '../athlete-clock.js';
import { usePower } from '../audit.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { PointsStore } from '../points-store.js';
import { problemResponse } from './shared.js';

const NonNegative = (description: string) => Type.Number({ minimum: 0, maximum: 1_000_000, description });

const SportRule = Type.Object(
  {
    sport: Type.Enum(SPORTS, { description: 'a sport without a rule scores 0' }),
    per_km: NonNegative('points per km of distance'),
    per_minute: NonNegative('points per minute of moving time'),
    per_activity: NonNegative('points for the activity itself, once it meets the minimums'),
    min_distance_m: NonNegative('a shorter activity scores 0, m'),
    min_moving_s: NonNegative('a shorter activity scores 0, s'),
    max_points: Type.Optional(NonNegative('the most one activity scores; absent = no cap')),
  },
  { additionalProperties: false },
);

const RulesBody = Type.Object(
  {
    sports: Type.Array(SportRule, { maxItems: SPORTS.length }),
    note: Type.Optional(Type.String({ maxLength: 500, description: 'why this version' })),
  },
  { additionalProperties: false },
);

const RulesVersion = Type.Object({
  version: Type.Integer(),
  sports: Type.Array(SportRule),
  note: Type.String(),
  published_by: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  published_at: Type.String({ format: 'date-time' }),
});

const Current = Type.Object({
  version: Type.Integer({ description: 'the version every leaderboard ranks by' }),
  activities: Type.Integer({ description: 'activities its recompute scored' }),
  duration_ms: Type.Integer({ description: 'how long its recompute took' }),
  completed_at: Type.String({ format: 'date-time' }),
});

const RulesList = Type.Object({
  current: Type.Union([Current, Type.Null()], { description: 'null until the first recompute is complete' }),
  latest_version: Type.Integer({
    description: 'the newest published version; above current while it is computed',
  }),
  versions: Type.Array(RulesVersion, { description: 'newest first' }),
});

export const pointsRulesRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const points = new PointsStore(deps.pg, deps.clickhouse, deps.clickhouseDatabase, deps.redis);
  const view = (v: {
    version: number;
    rules: PointsRules;
    note: string;
    published_by: string | null;
    published_at: string;
  }) => ({
    version: v.version,
    sports: v.rules.sports,
    note: v.note,
    published_by: v.published_by,
    published_at: v.published_at,
  });

  app.get(
    '/points-rules',
    {
      config: { access: 'user' },
      schema: {
        tags: ['points'],
        summary: 'Every published version of the points rules, and the one the leaderboards use now',
        response: { 200: RulesList },
      },
    },
    async () => {
      const [versions, current] = await Promise.all([points.versions(), points.current()]);
      return { current, latest_version: versions[0]?.version ?? 0, versions: versions.map(view) };
    },
  );

  app.post(
    '/points-rules',
    {
      config: { access: 'user' },
      schema: {
        tags: ['points'],
        summary:
          'Admin: publish a new version of the points rules. All history is recomputed under it; the leaderboards switch once that is complete (GET /v1/points-rules: current). A retry with the same Idempotency-Key returns the same version',
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        body: RulesBody,
        response: {
          201: RulesVersion,
          400: problemResponse('validation_failed', 'invalid_json'),
          403: problemResponse('forbidden'),
          409: problemResponse('conflict'),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { note, ...rules } = req.body;
      await pgCall(() =>
        usePower(deps.pg, req, ['admin'], {
          action: 'points_rules.publish',
          target_type: 'points_rules',
          target_id: null,
          detail: { sports: rules.sports.map((s) => s.sport) },
        }),
      );
      const problem = rulesProblem(rules as PointsRules);
      if (problem) throw new ApiError('validation_failed', problem);
      const key = req.headers['idempotency-key'];
      const published = await points.publish(
        rules as PointsRules,
        note ?? '',
        p.user_id,
        key ? { scope: `POST /v1/points-rules ${p.user_id}`, key, body: req.body } : undefined,
      );
      // The recompute runs in the background under the store's lock (the points consumer's catch-up
      // finishes it if this process dies first); the answer says what was published, GET when it is served.
      void points.catchUp().catch((err) => req.log.error({ err }, 'points recompute failed'));
      reply.code(201);
      return view(published);
    },
  );
};
