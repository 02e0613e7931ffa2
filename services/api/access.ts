import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import type { AccessTokens, Principal } from './auth/access-tokens.js';
import type { StreamTickets } from './auth/stream-tickets.js';
import { ApiError } from './errors.js';
import { problemResponse } from './routes/shared.js';

/**
 * The access rule of every route, as data: each route says who may call it in its options,
 * `config: { access: 'public' | 'user' }`. A route that says nothing stops the API at start-up, so a new
 * route cannot be open by accident, and `routeTable()` lists every route with its rule (what the isolation
 * matrix test is generated from).
 *
 * - `public`: no token (sign-up, sign-in, refresh, probes, metrics, the OpenAPI document).
 * - `user`: a valid access token; `req.principal` is the caller. What the caller may see of other
 *   athletes' data is decided by `visibleAthlete`, in the handlers.
 * - `stream`: like `user`, or a single-use stream ticket in `?ticket=` instead of the header (server-sent
 *   event streams, which a browser's EventSource opens without headers; auth/stream-tickets.ts).
 */
export const ACCESS = ['public', 'user', 'stream'] as const;
export type Access = (typeof ACCESS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** the verified caller; null on public routes */
    principal: Principal | null;
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

/**
 * Routes that plugins of others register and that cannot declare a rule themselves: @fastify/swagger-ui's
 * pages and the OpenAPI document under /docs. Public: the API's contract is no secret.
 */
const PUBLIC_PREFIXES = ['/docs'];

/** The authenticated caller of a `user` route (the hook guarantees one there). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new ApiError('token_missing', 'this route needs an access token');
  return req.principal;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whether an id from a path is a UUID at all: one that is not names nothing (404 before any query). */
export const isUuid = (id: string): boolean => UUID.test(id);

/**
 * Whether `principal` may see athlete `athleteId`'s data (activities, stats, streams, live sessions).
 * The one place that decides it: the athlete themself, and a coach holding an accepted, unrevoked grant
 * of that athlete (routes/coach-grants.ts). Support and admin are not in it: an athlete's tracks are no
 * support case (docs/security.md). Asked of PostgreSQL on every call, so a revocation counts at once, not
 * after the caller's access token expires. Callers answer 404 when it is false, so a stranger cannot tell
 * whether the athlete exists.
 */
export async function visibleAthlete(db: pg.Pool, principal: Principal, athleteId: string): Promise<boolean> {
  if (principal.user_id === athleteId) return true;
  if (!UUID.test(athleteId)) return false;
  const { rowCount } = await db.query(
    `SELECT 1 FROM coach_grants
     WHERE coach_id = $1 AND athlete_id = $2 AND accepted_at IS NOT NULL AND revoked_at IS NULL`,
    [principal.user_id, athleteId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Whether `principal` may see athlete `athleteId`'s LIVE sessions (the live routes, the coach's board):
 * whoever visibleAthlete admits, and the owners and admins of a group in which the athlete turned on
 * `share_live_with_staff` (off unless the member turns it on: PATCH /v1/groups/{id}/membership). That opens
 * live sessions only, never activities, stats or streams. Asked of PostgreSQL on every call, like
 * visibleAthlete, so leaving a group, being removed, turning sharing off or losing the staff role counts at
 * once; open streams hear it on ACCESS_REVOKED_CHANNEL.
 */
export async function visibleLive(db: pg.Pool, principal: Principal, athleteId: string): Promise<boolean> {
  if (principal.user_id === athleteId) return true;
  if (!UUID.test(athleteId)) return false;
  const { rowCount } = await db.query(
    `SELECT 1 FROM coach_grants
     WHERE coach_id = $1 AND athlete_id = $2 AND accepted_at IS NOT NULL AND revoked_at IS NULL
     UNION ALL
     SELECT 1 FROM group_members a JOIN group_members s ON s.group_id = a.group_id
     WHERE a.user_id = $2 AND a.share_live_with_staff AND s.user_id = $1 AND s.role IN ('owner', 'admin')
     LIMIT 1`,
    [principal.user_id, athleteId],
  );
  return (rowCount ?? 0) > 0;
}

/** An athlete whose live sessions the caller may see, and why (visibleLive's rule, as a list). */
export interface LiveAthlete {
  user_id: string;
  name: string;
  /** an accepted coach grant: activities, stats and streams too, not only live sessions */
  granted: boolean;
  /** groups the caller runs (owner or admin) in which the athlete shares live sessions with the staff */
  group_ids: string[];
}

/** The athletes other than the caller whose live sessions `principal` may see, by name. */
export async function liveAthletesVisibleTo(db: pg.Pool, principal: Principal): Promise<LiveAthlete[]> {
  const { rows } = await db.query<LiveAthlete>(
    `WITH v AS (
       SELECT athlete_id AS id, true AS granted, NULL::uuid AS group_id FROM coach_grants
       WHERE coach_id = $1 AND accepted_at IS NOT NULL AND revoked_at IS NULL
       UNION ALL
       SELECT a.user_id, false, a.group_id FROM group_members s
       JOIN group_members a ON a.group_id = s.group_id AND a.share_live_with_staff AND a.user_id <> s.user_id
       WHERE s.user_id = $1 AND s.role IN ('owner', 'admin'))
     SELECT v.id AS user_id, u.name, bool_or(v.granted) AS granted,
            COALESCE(array_agg(DISTINCT v.group_id::text) FILTER (WHERE v.group_id IS NOT NULL), '{}') AS group_ids
     FROM v JOIN users u ON u.id = v.id
     WHERE v.id <> $1
     GROUP BY v.id, u.name ORDER BY u.name, v.id`,
    [principal.user_id],
  );
  return rows;
}

export type ActivityVisibility = 'private' | 'followers' | 'public';

/**
 * Whether `principal` may see one activity of athlete `athleteId` with `visibility` (activity_details;
 * `followers` when it has none): `private` the athlete only, `followers` whoever visibleAthlete admits,
 * `public` any signed-in caller.
 */
export async function visibleActivity(
  db: pg.Pool,
  principal: Principal,
  athleteId: string,
  visibility: ActivityVisibility,
): Promise<boolean> {
  if (principal.user_id === athleteId || visibility === 'public') return true;
  if (visibility === 'private') return false;
  return visibleAthlete(db, principal, athleteId);
}

/** visibleAthlete or 404, the same answer as for an athlete that does not exist. */
export async function requireVisibleAthlete(
  db: pg.Pool,
  principal: Principal,
  athleteId: string,
): Promise<void> {
  if (!(await visibleAthlete(db, principal, athleteId)))
    throw new ApiError('not_found', `no athlete ${athleteId}`);
}

/**
 * Redis pub/sub channel on which every API replica hears that some viewer may have lost sight of an athlete
 * (a revoked coach grant, a deleted account, live sharing with a group's staff turned off, a member leaving
 * or removed, a staff member removed or made a plain member); open live streams listen on it and re-ask
 * visibleLive. Message: JSON `AccessRevoked`.
 */
export const ACCESS_REVOKED_CHANNEL = 'fitstream:access:revoked';
export interface AccessRevoked {
  athlete_id: string;
  /** who lost sight; null = every viewer asks again (the account is gone, a group member stopped sharing) */
  viewer_id: string | null;
}

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/;

export const accessControl = fp<{ tokens: AccessTokens; tickets: StreamTickets }>(
  async (app: FastifyInstance, { tokens, tickets }) => {
    const table: RouteAccess[] = [];
    app.decorate('routeTable', () => table.map((r) => ({ ...r })));
    app.decorateRequest('principal', null);

    app.addHook('onRoute', (route) => {
      const declared = route.config?.access;
      const access =
        declared ?? (PUBLIC_PREFIXES.some((p) => route.url.startsWith(p)) ? 'public' : undefined);
      if (!access || !(ACCESS as readonly string[]).includes(access))
        throw new Error(
          `route ${String(route.method)} ${route.url} declares no access rule: add config: { access: 'public' | 'user' }`,
        );
      route.config = { ...route.config, access };
      // The OpenAPI document shows which routes need the token, and the 401 they answer without one.
      if (access !== 'public' && route.schema && !route.schema.hide) {
        route.schema.security ??= [{ bearer: [] }];
        route.schema.response = {
          ...(route.schema.response as object | undefined),
          401:
            access === 'stream'
              ? problemResponse('token_missing', 'token_invalid', 'token_expired', 'ticket_invalid')
              : problemResponse('token_missing', 'token_invalid', 'token_expired'),
        };
      }
      for (const method of [route.method].flat())
        if (method !== 'HEAD') table.push({ method, url: route.url, access });
    });

    app.addHook('onRequest', async (req) => {
      // No route matched: the not-found handler answers, and says nothing about what exists.
      if (req.routeOptions.url === undefined) return;
      const access = req.routeOptions.config.access;
      if (access === 'public') return;
      const header = req.headers.authorization;
      const ticket = (req.query as { ticket?: unknown } | undefined)?.ticket;
      if (access === 'stream' && !header && typeof ticket === 'string') {
        req.principal = await tickets.redeem(ticket);
        return;
      }
      if (!header)
        throw new ApiError(
          'token_missing',
          access === 'stream'
            ? 'send an access token (Authorization: Bearer <token>) or a stream ticket (?ticket=, POST /v1/live/tickets)'
            : 'send an access token: Authorization: Bearer <token>',
        );
      const m = BEARER.exec(header);
      if (!m) throw new ApiError('token_invalid', 'the Authorization header is not "Bearer <token>"');
      req.principal = await tokens.verify(m[1]!);
    });
  },
  { name: 'fitstream-access' },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** every route with its access rule, in registration order (HEAD twins of GET routes left out) */
    routeTable(): RouteAccess[];
  }
}
