import AjvCompiler from '@fastify/ajv-compiler';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import { opsRoutes, type ReadinessCheck } from '../common/ops-server.js';
import { isPgUnavailable } from '../common/postgres-errors.js';
import { accessControl } from './access.js';
import { auditTrail } from './audit.js';
import { StreamTickets } from './auth/stream-tickets.js';
import type { ApiDeps } from './deps.js';
import { API_ERRORS, ApiError, type ApiErrorCode, problem } from './errors.js';
import { type AuthRateLimits, failOpenRedisStore, requestKey } from './rate-limits.js';
import { accountRoutes } from './routes/account.js';
import { accountExportRoutes } from './routes/account-export.js';
import { activityRoutes } from './routes/activities.js';
import { authRoutes } from './routes/auth.js';
import { challengeRoutes } from './routes/challenges.js';
import { coachGrantRoutes } from './routes/coach-grants.js';
import { deviceRoutes } from './routes/devices.js';
import { goalRoutes } from './routes/goals.js';
import { groupRoutes } from './routes/groups.js';
import { importRoutes } from './routes/imports.js';
import { leaderboardRoutes } from './routes/leaderboards.js';
import { liveRoutes } from './routes/live.js';
import { pointsRulesRoutes } from './routes/points-rules.js';
import { progressRoutes } from './routes/progress.js';
import { problemResponse } from './routes/shared.js';
import { statsRoutes } from './routes/stats.js';
import { streakRoutes } from './routes/streaks.js';
import { supportRoutes } from './routes/support.js';
import { userRoutes } from './routes/users.js';
import { DEFAULT_WEB_ROOT, type WebAppOptions, webAppRoutes } from './web-app.js';

export interface AppOptions {
  logger: Logger;
  registry: Registry;
  checks: readonly ReadinessCheck[];
  deps: ApiDeps;
  /** per caller (authenticated routes) or per address (anonymous ones) */
  rateLimitPerMinute: number;
  /** sign-in and sign-up; default: 20 per address per minute, 10 per e-mail per 15 min */
  authRateLimits?: AuthRateLimits;
  /**
   * the Redis that counts rate limits (default deps.redis); main.ts gives one without an offline queue, so
   * a check fails at once when Redis is away instead of waiting for it
   */
  rateLimitRedis?: Redis;
  /** addresses or CIDRs of the proxies whose X-Forwarded-For is believed; none by default */
  trustedProxies?: readonly string[];
  bodyLimitBytes: number;
  /** the web app under /app (web/): where its build is, and the base map's tile URL; default: beside the code, no tiles */
  web?: Partial<WebAppOptions>;
}

/** Seconds a client is asked to wait before retrying when a backing service is away. */
const RETRY_AFTER_S = 5;

function codeForFastifyError(err: FastifyError): ApiErrorCode {
  if (err.validation) return 'validation_failed';
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'invalid_json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'unsupported_media_type';
  }
  if (err.statusCode === 429) return 'rate_limited';
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    const byStatus = (Object.keys(API_ERRORS) as ApiErrorCode[]).find(
      (c) => API_ERRORS[c].status === err.statusCode,
    );
    return byStatus ?? 'validation_failed';
  }
  return 'internal';
}

const validators = AjvCompiler();
export const MAX_PARAM_LENGTH = 2048;

/** The API as a fastify instance, built from injected dependencies so tests use app.inject(). */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // Above every path parameter's maxLength, so that a too long id is the schema's 400 (documented on the
    // route), and only an absurd one the router's 414.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Query strings and path parameters arrive as text and are coerced to their types; a JSON body is
    // taken as sent, so `"name": true` is refused instead of becoming "true" (schemathesis ST201).
    schemaController: {
      compilersFactory: {
        buildValidator: (external) => {
          const base = { removeAdditional: false, allErrors: false } as const;
          const coercing = validators(external, { customOptions: { ...base, coerceTypes: 'array' } });
          const exact = validators(external, { customOptions: { ...base, coerceTypes: false } });
          return (route) => (route.httpPart === 'body' ? exact : coercing)(route);
        },
      },
    },
    trustProxy: opts.trustedProxies?.length ? [...opts.trustedProxies] : false,
    // Errors the router raises before any route or error handler runs: problem+json like every other.
    frameworkErrors: (err, req, reply) => {
      const code: ApiErrorCode =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : 'validation_failed';
      (reply as FastifyReply)
        .code(API_ERRORS[code].status)
        .type('application/problem+json')
        .send(problem(code, err.message, req.url.slice(0, 200)));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((thrown: FastifyError | ApiError, req, reply) => {
    // An unrouted method with a body (QUERY) fails its content-type check before the not-found handler.
    if (req.routeOptions.url === undefined && methodNotAllowed(req, reply)) return;
    // PostgreSQL away is the client's "try again later", never a 500.
    const err =
      !(thrown instanceof ApiError) && isPgUnavailable(thrown)
        ? new ApiError('dependency_unavailable', 'PostgreSQL did not answer', { cause: thrown })
        : thrown;
    const isApi = err instanceof ApiError;
    const code = isApi ? err.code : codeForFastifyError(err as FastifyError);
    const status = API_ERRORS[code].status;
    if (code === 'dependency_unavailable') {
      req.log.warn(
        { err: err.cause instanceof Error ? err.cause.message : err.message },
        'dependency unavailable',
      );
      reply.header('retry-after', String(RETRY_AFTER_S));
    } else if (status >= 500) req.log.error({ err }, 'request failed');
    const detail = status >= 500 && !isApi ? undefined : err.message;
    // RFC 6750: tell a client that it is its bearer token that failed.
    if (code === 'token_missing') reply.header('www-authenticate', 'Bearer realm="fitstream"');
    else if (code === 'token_invalid' || code === 'token_expired')
      reply.header('www-authenticate', `Bearer realm="fitstream", error="invalid_token"`);
    reply
      .code(status)
      .type('application/problem+json')
      .send(problem(code, detail, req.url, isApi ? err.extra : undefined));
  });
  // A path that exists with other methods answers 405 with Allow (RFC 9110), not 404.
  let routePaths: { pattern: RegExp; method: string }[] | undefined;
  const allowedMethods = (url: string): string[] => {
    routePaths ??= app.routeTable().map((r) => ({
      method: r.method,
      pattern: new RegExp(
        `^${r.url
          .replace(/[.]/g, '\\.')
          .replace(/:[A-Za-z]+/g, '[^/]+')
          .replace('*', '.*')}$`,
      ),
    }));
    const path = url.split('?')[0]!;
    const methods = new Set(routePaths.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
  const methodNotAllowed = (req: FastifyRequest, reply: FastifyReply): boolean => {
    const allow = allowedMethods(req.url);
    if (allow.length === 0 || allow.includes(req.method)) return false;
    reply
      .code(405)
      .header('allow', allow.join(', '))
      .type('application/problem+json')
      .send(
        problem('method_not_allowed', `${req.method} ${req.url.split('?')[0]}: ${allow.join(', ')}`, req.url),
      );
    return true;
  };
  app.setNotFoundHandler((req, reply) => {
    if (methodNotAllowed(req, reply)) return;
    reply
      .code(404)
      .type('application/problem+json')
      .send(problem('route_not_found', `${req.method} ${req.url}`, req.url));
  });
  // Every route that validates its input documents the 400 it answers when the input does not match.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as
      | {
          params?: unknown;
          querystring?: unknown;
          body?: unknown;
          hide?: boolean;
          response?: Record<string, unknown>;
        }
      | undefined;
    if (!schema || schema.hide || !(schema.params || schema.querystring || schema.body)) return;
    schema.response = {
      400: problemResponse('validation_failed', ...(schema.body ? (['invalid_json'] as const) : [])),
      ...(schema.body ? { 413: problemResponse('payload_too_large') } : {}),
      ...(schema.params ? { 414: problemResponse('uri_too_long') } : {}),
      ...schema.response,
    };
  });

  // First, so that every route registered after it has declared its access rule.
  const tickets = new StreamTickets(opts.deps.redis);
  await app.register(accessControl, { tokens: opts.deps.auth.tokens, tickets });
  await app.register(auditTrail, { db: opts.deps.pg });
  await app.register(swagger, {
    openapi: {
      // 3.1: the schemas are JSON Schema 2020-12 as TypeBox writes them (numeric exclusiveMinimum, type null)
      openapi: '3.1.0',
      info: {
        title: 'Fitstream API',
        version: '1.0.0',
        description:
          'Accounts, devices, activities and live sessions. Sign in with POST /v1/auth/login and send the access token as Authorization: Bearer <token>.',
      },
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute,
    timeWindow: '1 minute',
    // After the access hook (route hooks run after the app's), so an authenticated caller is known.
    keyGenerator: requestKey,
    store: failOpenRedisStore(opts.rateLimitRedis ?? opts.deps.redis, opts.registry, opts.logger),
    skipOnError: true,
    allowList: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url),
    errorResponseBuilder: (_req, ctx) =>
      new ApiError('rate_limited', `limit of ${ctx.max} requests per ${ctx.after} reached`),
  });
  // Answers every documented route can give, whatever it does: too many requests, a backing service away.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    route.schema.response = {
      ...(route.schema.response as object | undefined),
      429: problemResponse('rate_limited'),
      503: problemResponse('dependency_unavailable'),
    };
  });

  await app.register(opsRoutes, {
    registry: opts.registry,
    checks: opts.checks,
    // Probes and scrapers carry no token; /metrics has counters only, no user data (docs/security.md).
    routeConfig: { access: 'public' },
  });
  const authRateLimits = opts.authRateLimits ?? { perIpPerMinute: 20, perAccountPer15Min: 10 };
  await app.register(userRoutes, { deps: opts.deps, authRateLimits, prefix: '/v1' });
  await app.register(authRoutes, { deps: opts.deps, authRateLimits, prefix: '/v1' });
  await app.register(deviceRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(coachGrantRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(accountRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(accountExportRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(groupRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(supportRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(activityRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(importRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(statsRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(progressRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(goalRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(streakRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(challengeRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(pointsRulesRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(leaderboardRoutes, { deps: opts.deps, prefix: '/v1' });
  await app.register(liveRoutes, { deps: opts.deps, tickets });
  await app.register(webAppRoutes, {
    root: opts.web?.root ?? DEFAULT_WEB_ROOT,
    tileUrl: opts.web?.tileUrl ?? null,
  });
  return app;
}
