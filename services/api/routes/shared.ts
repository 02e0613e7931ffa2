import type { ClickHouseClient } from '@clickhouse/client';
import { Type } from 'typebox';
import { API_ERRORS, ApiError, type ApiErrorCode } from '../errors.js';

/** application/problem+json body (RFC 9457), as built by errors.ts `problem()`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

/**
 * A route's error response of one status, documented in OpenAPI with the stable codes it can carry
 * (and the content type the error handler sends).
 */
export function problemResponse(...codes: ApiErrorCode[]) {
  const first = codes[0]!;
  return {
    description: `application/problem+json with code ${codes.map((c) => `\`${c}\``).join(' or ')}: ${API_ERRORS[first].title}`,
    content: { 'application/problem+json': { schema: ProblemSchema } },
  };
}

/** An IANA time zone name in its canonical spelling, or null when it is none (offsets are refused). */
export function canonicalTimeZone(name: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** `distanceM` → `distance_m`, `paceSPerKm` → `pace_s_per_km`: the API's field names from the worker's. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A value with every object key in snake_case, deeply: what the worker stores (activity summaries, live
 * snapshots) is camelCase, the API answers snake_case (as the Strava API does) — converted here, at the
 * boundary, so the stores keep their contract.
 */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[snakeCase(k)] = snakeKeys(v);
  return out;
}

/** ISO 8601 in UTC (offset `Z`) of epoch milliseconds. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** The rows of a ClickHouse SELECT (JSONEachRow); ClickHouse away answers 503 dependency_unavailable, never 500. */
export async function selectRows<T>(clickhouse: ClickHouseClient, query: string): Promise<T[]> {
  try {
    const rs = await clickhouse.query({ query, format: 'JSONEachRow' });
    return await rs.json<T>();
  } catch (err) {
    throw new ApiError('dependency_unavailable', 'ClickHouse did not answer', { cause: err });
  }
}

/** One server-sent event as schemathesis and OpenAPI 3.2 read a text/event-stream: its fields, data as text. */
export const SSE_EVENT = {
  type: 'object',
  properties: {
    event: { type: 'string' },
    data: { type: 'string' },
    id: { type: 'string' },
    retry: { type: 'integer' },
  },
  required: ['data'],
};

/** The status of a background job of the API (an import, an account export): queued → running → done or failed. */
export const JobStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('done'),
  Type.Literal('failed'),
]);
