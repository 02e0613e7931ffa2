import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { usePower } from '../audit.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponse } from './shared.js';

/**
 * What a support case needs to see of an account: who it is, its settings, its devices and when they were
 * last seen, its roles, and how many grants and groups it has. Not its activities, tracks, live positions or
 * health figures (weight, heart rates, birth date): a support case about a device or a sign-in does not
 * need them, and an athlete who wants them looked at can grant access like to a coach. Every read is
 * audited (audit.ts).
 */
const AccountSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  timezone: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  roles: Type.Array(Type.String()),
  can_sign_in: Type.Boolean({ description: 'whether the account has a password' }),
  devices: Type.Array(
    Type.Object({
      device_id: Type.String(),
      name: Type.String(),
      created_at: Type.String({ format: 'date-time' }),
      last_seen_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  ),
  coach_grants: Type.Object({ given: Type.Integer(), received: Type.Integer() }),
  groups: Type.Integer(),
});

export const supportRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  const db = deps.pg;

  const summary = async (where: string, value: string): Promise<Static<typeof AccountSummary> | null> => {
    const { rows } = await db.query<{
      id: string;
      email: string;
      name: string;
      timezone: string;
      created_at: Date;
      roles: string[];
      can_sign_in: boolean;
      given: string;
      received: string;
      groups: string;
    }>(
      `SELECT u.id, u.email, u.name, u.timezone, u.created_at, u.password_hash IS NOT NULL AS can_sign_in,
         ARRAY(SELECT role FROM user_roles r WHERE r.user_id = u.id ORDER BY role) AS roles,
         (SELECT count(*) FROM coach_grants g WHERE g.athlete_id = u.id AND g.revoked_at IS NULL) AS given,
         (SELECT count(*) FROM coach_grants g WHERE g.coach_id = u.id AND g.revoked_at IS NULL) AS received,
         (SELECT count(*) FROM group_members m WHERE m.user_id = u.id) AS groups
       FROM users u WHERE ${where}`,
      [value],
    );
    const u = rows[0];
    if (!u) return null;
    const devices = await db.query<{
      id: string;
      name: string;
      created_at: Date;
      last_seen_at: Date | null;
      revoked_at: Date | null;
    }>(
      'SELECT id, name, created_at, last_seen_at, revoked_at FROM devices WHERE user_id = $1 ORDER BY created_at DESC, id',
      [u.id],
    );
    return {
      id: u.id,
      email: u.email,
      name: u.name,
      timezone: u.timezone,
      created_at: u.created_at.toISOString(),
      roles: u.roles,
      can_sign_in: u.can_sign_in,
      devices: devices.rows.map((d) => ({
        device_id: d.id,
        name: d.name,
        created_at: d.created_at.toISOString(),
        last_seen_at: d.last_seen_at?.toISOString() ?? null,
        revoked_at: d.revoked_at?.toISOString() ?? null,
      })),
      coach_grants: { given: Number(u.given), received: Number(u.received) },
      groups: Number(u.groups),
    };
  };

  app.get(
    '/support/users/:userId',
    {
      config: { access: 'user' },
      schema: {
        tags: ['support'],
        summary:
          "Support or admin: an account's summary and devices for a support case (no activities, tracks or health figures); audited",
        params: Type.Object({ userId: Type.String({ format: 'uuid' }) }),
        response: {
          200: AccountSummary,
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const { userId } = req.params;
      await usePower(db, req, ['support', 'admin'], {
        action: 'support.user.read',
        target_type: 'user',
        target_id: userId,
      });
      const s = await summary('u.id = $1', userId);
      if (!s) throw new ApiError('not_found', `no account ${userId}`);
      return s;
    },
  );

  app.get(
    '/support/users',
    {
      config: { access: 'user' },
      schema: {
        tags: ['support'],
        summary:
          'Support or admin: find an account by e-mail (the summary of GET /v1/support/users/{id}); audited',
        querystring: Type.Object({ email: Type.String({ format: 'email', maxLength: 254 }) }),
        response: {
          200: AccountSummary,
          400: problemResponse('validation_failed'),
          403: problemResponse('forbidden'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req) => {
      const email = req.query.email.toLowerCase();
      await usePower(db, req, ['support', 'admin'], {
        action: 'support.user.find',
        target_type: 'user',
        target_id: null,
        detail: { email },
      });
      const s = await summary('lower(u.email) = $1', email);
      if (!s) throw new ApiError('not_found', 'no account with this e-mail');
      return s;
    },
  );
};
