import { z } from 'zod';

/**
 * Typed configuration from environment variables. Every setting has a default that matches the
 * local stack (infra/local), so a developer can start any service with no env at all. A bad value
 * stops the service at start with one line that names the variable and what was expected.
 */

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly received: string | undefined,
  ) {
    super(`invalid config: ${variable}=${JSON.stringify(received ?? '')} (expected ${expected})`);
    this.name = 'ConfigError';
  }
}

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** Comma-separated host:port list, e.g. "127.0.0.1:9092,kafka-2:9092". */
export const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .refine((xs) => xs.length > 0 && xs.every((x) => hostPort.test(x) && Number(x.split(':')[1]) <= 65535), {
    message: 'a comma-separated list of host:port',
  });

export const httpUrl = z
  .string()
  .refine((s) => /^https?:\/\/[^\s/]+/.test(s) && URL.canParse(s), { message: 'an http(s) URL' });

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().nonnegative();
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Shape: environment variable name -> zod schema (with .default()). */
export type EnvShape = Record<string, z.ZodType>;
export type EnvOf<S extends EnvShape> = { [K in keyof S]: z.output<S[K]> };

function describe(schema: z.ZodType, issueMessage: string): string {
  const custom = issueMessage && !issueMessage.startsWith('Invalid') ? issueMessage : '';
  if (custom) return custom;
  const def = (schema as { def?: { type?: string; innerType?: z.ZodType } }).def;
  const inner = def?.type === 'default' ? def.innerType : schema;
  const t = (inner as { def?: { type?: string; entries?: Record<string, string> } }).def;
  if (t?.type === 'enum' && t.entries) return `one of ${Object.values(t.entries).join(', ')}`;
  return issueMessage || (t?.type ?? 'a valid value');
}

/** Parse `env` against `shape`. Throws ConfigError on the first bad variable. */
export function parseEnv<S extends EnvShape>(shape: S, env: NodeJS.ProcessEnv = process.env): EnvOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const raw = env[name];
    const value = raw === '' ? undefined : raw;
    const r = schema.safeParse(value);
    if (!r.success) {
      throw new ConfigError(name, describe(schema, r.error.issues[0]?.message ?? ''), raw);
    }
    out[name] = r.data;
  }
  return out as EnvOf<S>;
}

/** Settings every service shares. Services spread these into their own shape. */
export const commonEnv = {
  LOG_LEVEL: logLevel.default('info'),
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
} satisfies EnvShape;

export const kafkaEnv = {
  KAFKA_BROKERS: hostPortList.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('fitstream'),
  SCHEMA_REGISTRY_URL: httpUrl.default('http://127.0.0.1:8081'),
  TOPIC_SAMPLES: z.string().min(1).default('telemetry.samples.v1'),
  TOPIC_DLQ: z.string().min(1).default('telemetry.dlq.v1'),
  TOPIC_ACTIVITIES: z.string().min(1).default('activities.v1'),
  TOPIC_GOALS: z.string().min(1).default('goals.v1'),
} satisfies EnvShape;

export const postgresEnv = {
  DATABASE_URL: z
    .string()
    .refine((s) => /^postgres(ql)?:\/\//.test(s), { message: 'a postgres:// URL' })
    .default('postgres://fitstream:fitstream@127.0.0.1:5432/fitstream'),
} satisfies EnvShape;

export const redisEnv = {
  REDIS_URL: z
    .string()
    .refine((s) => /^rediss?:\/\//.test(s), { message: 'a redis:// URL' })
    .default('redis://127.0.0.1:6379'),
} satisfies EnvShape;

export const clickhouseEnv = {
  CLICKHOUSE_URL: httpUrl.default('http://127.0.0.1:8123'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().min(1).default('fitstream'),
} satisfies EnvShape;

export const s3Env = {
  S3_ENDPOINT: httpUrl.default('http://127.0.0.1:9002'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).default('fitstream'),
  S3_SECRET_ACCESS_KEY: z.string().min(1).default('fitstream-secret'),
  S3_BUCKET: z.string().min(3).default('fitstream-archive'),
  S3_FORCE_PATH_STYLE: bool.default(true),
} satisfies EnvShape;

/**
 * Load config for a service, or print one clear line and exit(1). `check` applies the rules that
 * relate several settings and throws ConfigError naming the variable to change. Used only by
 * main.ts files; modules take plain config objects so tests can build them without a process.
 */
export function loadConfigOrExit<S extends EnvShape>(
  service: string,
  shape: S,
  check: (c: EnvOf<S>) => EnvOf<S> = (c) => c,
): EnvOf<S> {
  try {
    return check(parseEnv(shape));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fitstream-${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
