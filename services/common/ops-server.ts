import Fastify, {
  type FastifyBaseLogger,
  type FastifyContextConfig,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** A named readiness check: resolves when the dependency answers, rejects (or throws) otherwise. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface OpsOptions {
  registry: Registry;
  checks: readonly ReadinessCheck[];
  /** per-check timeout */
  timeoutMs?: number;
  /** route config of the host app for these routes (the API's access rule) */
  routeConfig?: FastifyContextConfig;
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * /healthz: the process is alive (no dependency checks, so an orchestrator doesn't restart us
 * because Kafka is down). /readyz: every dependency answers; 503 with per-check detail otherwise.
 * /metrics: Prometheus text format.
 */
export const opsRoutes: FastifyPluginAsync<OpsOptions> = async (app, opts) => {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const config = opts.routeConfig ?? {};
  app.get('/healthz', { config }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config }, async (_req, reply) => {
    const results = await Promise.all(
      opts.checks.map(async (c) => {
        try {
          await withTimeout(c.check(), timeoutMs, c.name);
          return { name: c.name, ok: true as const };
        } catch (err) {
          return { name: c.name, ok: false as const, error: (err as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not-ready', checks: results };
  });
  app.get('/metrics', { config }, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
};

/** A small HTTP server for services whose main protocol isn't HTTP (gateway, worker). */
export async function startOpsServer(
  opts: OpsOptions & { host: string; port: number; logger: Logger },
): Promise<FastifyInstance> {
  const app = Fastify({
    // Probes and scrapes every few seconds would drown the logs: only warnings and errors here.
    loggerInstance: opts.logger.child({ component: 'ops-http' }, { level: 'warn' }) as FastifyBaseLogger,
  });
  await app.register(opsRoutes, opts);
  await app.listen({ host: opts.host, port: opts.port });
  return app;
}
