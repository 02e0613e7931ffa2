import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf } from '../access.js';
import { deleteAccount } from '../account-deletion.js';
import { PASSWORD_MAX_LENGTH, verifyPassword } from '../auth/passwords.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponse } from './shared.js';

/** Deleting the caller's account (services/api/account-deletion.ts does the work; docs/security.md). */
export const accountRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.delete(
    '/users/me',
    {
      config: { access: 'user' },
      schema: {
        tags: ['users'],
        summary:
          "Delete the caller's account and its data from PostgreSQL, ClickHouse and Redis; the archive replay skips it from then on. Needs the password (a stolen access token alone cannot delete an account). A failure half-way answers 503: the account is still there, delete again",
        body: Type.Object(
          { password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }) },
          { additionalProperties: false },
        ),
        response: {
          204: Type.Null(),
          400: problemResponse('validation_failed', 'invalid_json'),
          403: problemResponse('current_password_incorrect'),
          404: problemResponse('not_found'),
        },
      },
    },
    async (req, reply) => {
      const { user_id } = principalOf(req);
      const { rows } = await deps.pg.query<{ password_hash: string | null }>(
        'SELECT password_hash FROM users WHERE id = $1',
        [user_id],
      );
      if (!rows[0]) throw new ApiError('not_found', 'the account no longer exists');
      if (!rows[0].password_hash || !(await verifyPassword(req.body.password, rows[0].password_hash)))
        throw new ApiError('current_password_incorrect', 'the password is wrong');
      await deleteAccount(deps, user_id);
      reply.code(204);
      return null;
    },
  );
};
