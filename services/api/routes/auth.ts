import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { Type } from 'typebox';
import { principalOf } from '../access.js';
import type { Role } from '../auth/access-tokens.js';
import { PASSWORD_MAX_LENGTH, verifyNothing, verifyPassword } from '../auth/passwords.js';
import { issueRefreshToken, revokeRefreshFamilies, rotateRefreshToken } from '../auth/refresh-tokens.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { type AuthRateLimits, authLimiter } from '../rate-limits.js';
import { problemResponse } from './shared.js';

const TokenPair = Type.Object({
  access_token: Type.String({ description: 'a JWT; send it as Authorization: Bearer <access_token>' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'seconds until the access token expires' }),
  refresh_token: Type.String({
    description: 'opaque, single use: POST /v1/auth/refresh gives the next pair (valid 30 days by default)',
  }),
});

async function rolesOf(db: pg.Pool, userId: string): Promise<Role[]> {
  const { rows } = await db.query<{ role: Role }>(
    'SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role',
    [userId],
  );
  return rows.map((r) => r.role);
}

export const authRoutes: FastifyPluginAsyncTypebox<{
  deps: ApiDeps;
  authRateLimits: AuthRateLimits;
}> = async (app, { deps, authRateLimits }) => {
  const { tokens, refreshTokenTtlS } = deps.auth;
  const limits = authLimiter(app, authRateLimits, 'login');

  const pair = async (userId: string, refresh: { refresh_token: string; family_id: string }) => ({
    access_token: await tokens.sign({
      user_id: userId,
      roles: await rolesOf(deps.pg, userId),
      session_id: refresh.family_id,
    }),
    token_type: 'Bearer' as const,
    expires_in: tokens.opts.ttlS,
    refresh_token: refresh.refresh_token,
  });

  app.post(
    '/auth/login',
    {
      config: { access: 'public', rateLimit: limits.rateLimit },
      preHandler: limits.preHandler,
      schema: {
        tags: ['auth'],
        summary: 'Sign in with e-mail and password: an access token (15 min) and a refresh token',
        body: Type.Object(
          {
            email: Type.String({ minLength: 1, maxLength: 254 }),
            password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: TokenPair,
          400: problemResponse('validation_failed', 'invalid_json'),
          401: problemResponse('invalid_credentials'),
          429: problemResponse('rate_limited'),
        },
      },
    },
    async (req) => {
      const { rows } = await deps.pg.query<{ id: string; password_hash: string | null }>(
        'SELECT id, password_hash FROM users WHERE lower(email) = lower($1)',
        [req.body.email],
      );
      const user = rows[0];
      // The same work and the same answer whether the e-mail is unknown, has no password, or the
      // password is wrong: the response must not tell which e-mails are registered.
      const ok = user?.password_hash
        ? await verifyPassword(req.body.password, user.password_hash)
        : await verifyNothing(req.body.password);
      if (!ok || !user) throw new ApiError('invalid_credentials');
      return pair(user.id, await issueRefreshToken(deps.pg, user.id, refreshTokenTtlS));
    },
  );

  app.post(
    '/auth/refresh',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary:
          'Trade a refresh token for a new pair; each refresh token works once, and presenting a used one again ends that sign-in everywhere',
        body: Type.Object(
          { refresh_token: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        response: {
          200: TokenPair,
          400: problemResponse('validation_failed', 'invalid_json'),
          401: problemResponse('refresh_token_invalid'),
        },
      },
    },
    async (req) => {
      const r = await rotateRefreshToken(deps.pg, req.body.refresh_token, refreshTokenTtlS);
      if (!r.ok) {
        if (r.reason === 'reused')
          req.log.warn(
            { event: 'refresh_token_reused' },
            'a used refresh token came back: its family is revoked',
          );
        throw new ApiError('refresh_token_invalid', `the refresh token is ${r.reason}`);
      }
      return pair(r.user_id, r.issued);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'user' },
      schema: {
        tags: ['auth'],
        summary:
          "End the caller's sign-in: its refresh tokens stop working at once; the access token expires on its own (at most 15 min)",
        response: { 204: Type.Null() },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      await revokeRefreshFamilies(deps.pg, p.user_id, { family: p.session_id });
      reply.code(204);
      return null;
    },
  );
};
