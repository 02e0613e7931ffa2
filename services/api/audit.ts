import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import { principalOf } from './access.js';
import type { Role } from './auth/access-tokens.js';
import { ApiError } from './errors.js';

/** What a use of a support or admin power acts on, as the audit records it. */
export interface PowerUse {
  /** dotted verb, e.g. `challenge.create`, `support.user.read` */
  action: string;
  target_type: string;
  /** null when the target does not exist yet (a create) */
  target_id: string | null;
  detail?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the audit row of the power this request uses, if any; its status is filled in on response */
    auditId: string | null;
  }
}

/**
 * The one gate of the support and admin powers: the caller must hold one of `roles` NOW (read from
 * user_roles, not from the access token, so an operator's revocation counts at once and not 15 minutes
 * later), else 403. The use is written to audit_log before the handler acts, so no power is used
 * without its record; `auditTrail` adds the answer's status once it is sent.
 */
export async function usePower(
  db: pg.Pool,
  req: FastifyRequest,
  roles: readonly Role[],
  use: PowerUse,
): Promise<Role> {
  const { user_id } = principalOf(req);
  const { rows } = await db.query<{ role: Role; email: string }>(
    `SELECT r.role, u.email FROM user_roles r JOIN users u ON u.id = r.user_id
     WHERE r.user_id = $1 AND r.role = ANY($2::text[])`,
    [user_id, roles],
  );
  // The first of `roles` the caller holds is the one recorded.
  const held = roles.find((r) => rows.some((x) => x.role === r));
  if (!held) throw new ApiError('forbidden', `this needs the ${roles.join(' or ')} role`);
  const audit = await db.query<{ id: string }>(
    `INSERT INTO audit_log (actor_id, actor_email, role, action, target_type, target_id, detail, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [user_id, rows[0]!.email, held, use.action, use.target_type, use.target_id, use.detail ?? {}, req.id],
  );
  req.auditId = audit.rows[0]!.id;
  return held;
}

/** Fills in the status of each audited request once its answer is sent. */
export const auditTrail = fp<{ db: pg.Pool }>(
  async (app: FastifyInstance, { db }) => {
    app.decorateRequest('auditId', null);
    app.addHook('onResponse', async (req, reply) => {
      if (req.auditId === null) return;
      await db
        .query('UPDATE audit_log SET status = $2 WHERE id = $1', [req.auditId, reply.statusCode])
        .catch((err: unknown) => req.log.error({ err, audit_id: req.auditId }, 'audit status not recorded'));
    });
  },
  { name: 'fitstream-audit' },
);
