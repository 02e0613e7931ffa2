import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { ACCESS_REVOKED_CHANNEL, type AccessRevoked, principalOf } from '../access.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponse } from './shared.js';

const GrantId = Type.String({ format: 'uuid' });

const CoachGrant = Type.Object({
  id: GrantId,
  status: Type.Union([Type.Literal('pending'), Type.Literal('accepted')], {
    description: 'pending until the coach accepts; only an accepted grant shows the athlete to the coach',
  }),
  athlete: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String(), email: Type.String() }),
  coach: Type.Object({
    id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'null until accepted' }),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()], { description: 'null until accepted' }),
  }),
  created_at: Type.String({ format: 'date-time' }),
  accepted_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
type CoachGrant = Static<typeof CoachGrant>;

interface GrantRow {
  id: string;
  athlete_id: string;
  athlete_name: string;
  athlete_email: string;
  coach_id: string | null;
  coach_email: string;
  coach_name: string | null;
  granted_at: Date;
  accepted_at: Date | null;
}

const SELECT = `SELECT g.id, g.athlete_id, a.name AS athlete_name, a.email AS athlete_email, g.coach_id,
  g.coach_email, c.name AS coach_name, g.granted_at, g.accepted_at
  FROM coach_grants g JOIN users a ON a.id = g.athlete_id LEFT JOIN users c ON c.id = g.coach_id`;

const toGrant = (r: GrantRow): CoachGrant => ({
  id: r.id,
  status: r.accepted_at ? 'accepted' : 'pending',
  athlete: { id: r.athlete_id, name: r.athlete_name, email: r.athlete_email },
  coach: { id: r.coach_id, email: r.coach_email, name: r.coach_name },
  created_at: r.granted_at.toISOString(),
  accepted_at: r.accepted_at?.toISOString() ?? null,
});

/**
 * Coach grants: an athlete lets a coach (named by e-mail) see their activities, stats, streams and live
 * sessions; the coach accepts; either side ends it. What a grant opens is decided in access.ts
 * `visibleAthlete`; ending one tells every open live stream (ACCESS_REVOKED_CHANNEL).
 */
export const coachGrantRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const emailOf = async (userId: string): Promise<string> => {
    const { rows } = await deps.pg.query<{ email: string }>(
      'SELECT lower(email) AS email FROM users WHERE id = $1',
      [userId],
    );
    if (!rows[0]) throw new ApiError('not_found', 'the account no longer exists');
    return rows[0].email;
  };

  /** An open grant the caller is a side of (as athlete, or as the coach it is addressed to); else 404. */
  const grantOfCaller = async (grantId: string, userId: string) => {
    const email = await emailOf(userId);
    const { rows } = await deps.pg.query<GrantRow>(
      `${SELECT} WHERE g.id = $1 AND g.revoked_at IS NULL AND (g.athlete_id = $2 OR g.coach_email = $3)`,
      [grantId, userId, email],
    );
    return { grant: rows[0], email };
  };

  app.post(
    '/coach-grants',
    {
      config: { access: 'user' },
      schema: {
        tags: ['coach grants'],
        summary:
          'Grant a coach (by e-mail) access to the caller’s activities, stats, streams and live sessions, once they accept. Idempotent: an open grant to the same e-mail is returned as it is (200). Answers the same whether the e-mail has an account or not',
        body: Type.Object(
          { coach_email: Type.String({ format: 'email', maxLength: 254, examples: ['coach@example.com'] }) },
          { additionalProperties: false },
        ),
        response: {
          200: CoachGrant,
          201: CoachGrant,
          400: problemResponse('validation_failed', 'invalid_json'),
        },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const coachEmail = req.body.coach_email.toLowerCase();
      if (coachEmail === (await emailOf(user_id)))
        throw new ApiError('validation_failed', 'an athlete cannot be their own coach');
      const inserted = await deps.pg.query<{ id: string }>(
        `INSERT INTO coach_grants (athlete_id, coach_email) VALUES ($1, $2)
         ON CONFLICT (athlete_id, coach_email) WHERE revoked_at IS NULL DO NOTHING RETURNING id`,
        [user_id, coachEmail],
      );
      const { rows } = await deps.pg.query<GrantRow>(
        `${SELECT} WHERE g.athlete_id = $1 AND g.coach_email = $2 AND g.revoked_at IS NULL`,
        [user_id, coachEmail],
      );
      reply.code(inserted.rowCount ? 201 : 200);
      return toGrant(rows[0]!);
    },
  );

  app.get(
    '/coach-grants',
    {
      config: { access: 'user' },
      schema: {
        tags: ['coach grants'],
        summary:
          'Open grants of the caller: given (as athlete) and received (as coach, pending ones included), newest first',
        response: { 200: Type.Object({ given: Type.Array(CoachGrant), received: Type.Array(CoachGrant) }) },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const email = await emailOf(user_id);
      const { rows } = await deps.pg.query<GrantRow>(
        `${SELECT} WHERE g.revoked_at IS NULL AND (g.athlete_id = $1 OR g.coach_email = $2)
         ORDER BY g.granted_at DESC, g.id`,
        [user_id, email],
      );
      return {
        given: rows.filter((r) => r.athlete_id === user_id).map(toGrant),
        received: rows.filter((r) => r.coach_email === email).map(toGrant),
      };
    },
  );

  app.post(
    '/coach-grants/:grantId/accept',
    {
      config: { access: 'user' },
      schema: {
        tags: ['coach grants'],
        summary:
          'The coach accepts a grant addressed to their e-mail (idempotent). The athlete who gave it may not accept it (403)',
        params: Type.Object({ grantId: GrantId }),
        response: { 200: CoachGrant, 403: problemResponse('forbidden'), 404: problemResponse('not_found') },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const { grant, email } = await grantOfCaller(req.params.grantId, user_id);
      if (!grant) throw new ApiError('not_found', `no coach grant ${req.params.grantId}`);
      if (grant.coach_email !== email) throw new ApiError('forbidden', 'only the coach accepts a grant');
      await deps.pg.query(
        `UPDATE coach_grants SET coach_id = $2, accepted_at = now()
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`,
        [grant.id, user_id],
      );
      const { rows } = await deps.pg.query<GrantRow>(`${SELECT} WHERE g.id = $1`, [grant.id]);
      return toGrant(rows[0]!);
    },
  );

  app.delete(
    '/coach-grants/:grantId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['coach grants'],
        summary:
          'End a grant, as the athlete or as the coach: the coach loses sight of the athlete at once, and live streams they hold close within seconds',
        params: Type.Object({ grantId: GrantId }),
        response: { 204: Type.Null(), 404: problemResponse('not_found') },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const email = await emailOf(user_id);
      // A grant already ended answers 204 again to either side (idempotent), 404 to anyone else.
      const { rows } = await deps.pg.query<{ athlete_id: string; coach_id: string | null; ended: boolean }>(
        `WITH ended AS (
           UPDATE coach_grants SET revoked_at = now()
           WHERE id = $1 AND revoked_at IS NULL AND (athlete_id = $2 OR coach_email = $3)
           RETURNING athlete_id, coach_id)
         SELECT athlete_id, coach_id, true AS ended FROM ended
         UNION ALL
         SELECT athlete_id, coach_id, false FROM coach_grants
         WHERE id = $1 AND revoked_at IS NOT NULL AND (athlete_id = $2 OR coach_email = $3)`,
        [req.params.grantId, user_id, email],
      );
      const row = rows[0];
      if (!row) throw new ApiError('not_found', `no coach grant ${req.params.grantId}`);
      if (row.ended && row.coach_id) {
        const message: AccessRevoked = { athlete_id: row.athlete_id, viewer_id: row.coach_id };
        await deps.redis.publish(ACCESS_REVOKED_CHANNEL, JSON.stringify(message));
      }
      reply.code(204);
      return null;
    },
  );
};
