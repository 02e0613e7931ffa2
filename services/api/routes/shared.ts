import { Type } from 'typebox';
import { API_ERRORS, type ApiErrorCode } from '../errors.js';

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
