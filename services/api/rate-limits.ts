import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import { ApiError } from './errors.js';

/**
 * Rate limits live in Redis (@fastify/rate-limit's Redis store, one counter per key and window), so
 * every API replica counts against the same limit. Keys:
 * - an authenticated route: the caller (`u:<user id>`), wherever they call from;
 * - an anonymous route: the client address (`ip:<address>`; X-Forwarded-For counts only from the proxies
 *   in API_TRUSTED_PROXIES);
 * - sign-in and sign-up: a stricter limit per address on the route, and one per account (the e-mail)
 *   checked once the body is read (`authLimiter`).
 *
 * Redis away: limiting fails open (the request goes on), counted in
 * `fitstream_api_rate_limit_store_errors_total` and logged at most every 10 s. A limiter that fails
 * closed would turn a cache outage into an API outage; Redis holds nothing the API needs to be correct.
 */

export interface AuthRateLimits {
  /** sign-in / sign-up attempts per client address per minute */
  perIpPerMinute: number;
  /** sign-in / sign-up attempts per e-mail per 15 minutes */
  perAccountPer15Min: number;
}

export const KEY_PREFIX = 'fitstream:ratelimit:';

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];
interface Store {
  incr(key: string, cb: Callback, timeWindow: number, max: number): void;
  read?(key: string, cb: Callback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): Store;
}
type RedisStoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  key: string,
) => Store;
// The plugin's own Redis store (its Lua script), which it does not export as a module of its API.
const RedisStore = createRequire(import.meta.url)(
  '@fastify/rate-limit/store/RedisStore.js',
) as RedisStoreCtor;

/** A store class for @fastify/rate-limit's `store` option: its Redis store, with errors counted and logged. */
export function failOpenRedisStore(
  redis: Redis,
  registry: Registry,
  logger: Logger,
): FastifyRateLimitStoreCtor {
  const errors = new Counter({
    name: 'fitstream_api_rate_limit_store_errors_total',
    help: 'Rate-limit checks that Redis did not answer; the request was let through',
    registers: [registry],
  });
  let lastLog = 0;
  const observe =
    (cb: Callback): Callback =>
    (err, res) => {
      if (err) {
        errors.inc();
        const now = Date.now();
        if (now - lastLog > 10_000) {
          lastLog = now;
          logger.warn({ err: err.message }, 'rate limiting is off: Redis did not answer (failing open)');
        }
      }
      cb(err, res);
    };
  class FailOpenStore implements Store {
    constructor(private readonly inner: Store) {}
    incr(key: string, cb: Callback, timeWindow: number, max: number) {
      this.inner.incr(key, observe(cb), timeWindow, max);
    }
    read(key: string, cb: Callback, timeWindow: number, max: number) {
      this.inner.read?.(key, observe(cb), timeWindow, max);
    }
    child(routeOptions: unknown) {
      return new FailOpenStore(this.inner.child(routeOptions));
    }
  }
  return class extends FailOpenStore {
    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      super(
        new RedisStore(
          params.continueExceeding ?? false,
          params.exponentialBackoff ?? false,
          redis,
          KEY_PREFIX,
        ),
      );
    }
  } as unknown as FastifyRateLimitStoreCtor;
}

/** The key of a request for the general limit: the caller on authenticated routes, else the address. */
export const requestKey = (req: FastifyRequest): string =>
  req.principal ? `u:${req.principal.user_id}` : `ip:${req.ip}`;

/**
 * The limits of sign-in or sign-up: `rateLimit` (route config) counts attempts per address before
 * anything else runs; `preHandler` counts them per e-mail once the body is parsed, so one account
 * cannot be guessed at from many addresses either.
 */
export function authLimiter(app: FastifyInstance, limits: AuthRateLimits, name: 'login' | 'register') {
  const perAccount = app.createRateLimit({
    max: limits.perAccountPer15Min,
    timeWindow: 15 * 60_000,
    keyGenerator: (req) =>
      `${name}:acct:${String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
  });
  return {
    rateLimit: {
      max: limits.perIpPerMinute,
      timeWindow: 60_000,
      keyGenerator: (req: FastifyRequest) => `${name}:ip:${req.ip}`,
    },
    preHandler: async (req: FastifyRequest, reply: FastifyReply) => {
      const r = await perAccount(req);
      if (!r.isAllowed && r.isExceeded) {
        reply.header('retry-after', String(r.ttlInSeconds));
        throw new ApiError(
          'rate_limited',
          `too many attempts for this account; retry in ${r.ttlInSeconds} s`,
        );
      }
    },
  };
}
