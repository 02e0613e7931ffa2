import { FitstreamError } from '../../schemas/fitstream-error.js';

/**
 * Every HTTP error the API returns, in one table. Each is sent as application/problem+json
 * (RFC 9457) with `type` = `${PROBLEM_BASE}${code}`, and documented in docs/api-errors.md
 * (a test fails when a code is missing there).
 */
export const API_ERRORS = {
  validation_failed: { status: 400, title: 'The request does not match the schema' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  idempotency_key_missing: {
    status: 400,
    title: 'An Idempotency-Key header or a client_activity_id is required',
  },
  password_too_weak: { status: 400, title: 'The password does not meet the policy' },
  token_missing: { status: 401, title: 'An access token is required' },
  token_invalid: { status: 401, title: 'The access token is not valid' },
  token_expired: { status: 401, title: 'The access token expired' },
  invalid_credentials: { status: 401, title: 'Wrong e-mail or password' },
  refresh_token_invalid: { status: 401, title: 'The refresh token is not valid' },
  ticket_invalid: { status: 401, title: 'The stream ticket is not valid' },
  forbidden: { status: 403, title: 'Not allowed for this caller' },
  current_password_incorrect: { status: 403, title: 'The current password is wrong' },
  not_found: { status: 404, title: 'No such resource' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'The path does not take this method' },
  conflict: { status: 409, title: 'The resource already exists or changed' },
  challenge_not_found: { status: 404, title: 'No such challenge' },
  not_joined: { status: 409, title: 'The athlete has not joined this challenge' },
  already_joined: { status: 409, title: 'The athlete has already joined this challenge' },
  challenge_not_started: { status: 409, title: 'The challenge has not started yet' },
  challenge_ended: { status: 409, title: 'The challenge window is over' },
  already_completed: { status: 409, title: 'The athlete has already completed this challenge' },
  forbidden_transition: { status: 409, title: 'Not allowed from the participant’s current state' },
  idempotency_key_reused: { status: 409, title: 'The idempotency key was used with another body' },
  export_not_ready: {
    status: 409,
    title: 'The export is not ready: it is still being written, or it failed',
  },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  upload_too_many_points: {
    status: 413,
    title: 'The upload has more data points, sets or laps than allowed',
  },
  uri_too_long: { status: 414, title: 'A path parameter is too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  upload_span_too_long: { status: 422, title: 'The upload spans more time than allowed' },
  upload_out_of_order: { status: 422, title: 'A time of the upload is before start_time or goes back' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  dependency_unavailable: { status: 503, title: 'A backing service is unavailable' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;
export const PROBLEM_BASE = 'https://fitstream.dev/problems/';

export class ApiError extends FitstreamError<ApiErrorCode> {
  readonly code: ApiErrorCode;
  readonly status: number;
  constructor(
    code: ApiErrorCode,
    readonly detail?: string,
    options: { cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    super(detail ?? API_ERRORS[code].title, {
      cause: options.cause,
      retryable: API_ERRORS[code].status >= 500,
    });
    this.code = code;
    this.status = API_ERRORS[code].status;
    this.extra = options.extra;
  }
  readonly extra: Record<string, unknown> | undefined;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ApiErrorCode;
  detail?: string;
  instance?: string;
  [k: string]: unknown;
}

export function problem(
  code: ApiErrorCode,
  detail?: string,
  instance?: string,
  extra?: Record<string, unknown>,
): Problem {
  const e = API_ERRORS[code];
  return {
    type: `${PROBLEM_BASE}${code}`,
    title: e.title,
    status: e.status,
    code,
    ...(detail ? { detail } : {}),
    ...(instance ? { instance } : {}),
    ...extra,
  };
}
