import { FitstreamError } from '../common/errors.js';

/** Closed list of the worker's error codes. Code branches on these, never on message text. */
export const WORKER_ERROR_CODES = [
  'RECORD_UNDECODABLE',
  'RECORD_INVALID',
  'SINK_UNAVAILABLE',
  'SINK_REJECTED',
  'FINALISE_FAILED',
  'ARCHIVE_CORRUPT',
  'REPLAY_FAILED',
] as const;
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

export abstract class WorkerError extends FitstreamError<WorkerErrorCode> {}

/** A Kafka record that could not be decoded (no magic byte, unknown schema id, bad Avro). Dead-lettered. */
export class RecordUndecodableError extends WorkerError {
  readonly code = 'RECORD_UNDECODABLE' as const;
}

/** A decoded record that breaks a rule the stages rely on (no session id, unknown kind). Dead-lettered. */
export class RecordInvalidError extends WorkerError {
  readonly code = 'RECORD_INVALID' as const;
}

/** A sink did not answer (network, server down, timeout). Retried until it answers. */
export class SinkUnavailableError extends WorkerError {
  readonly code = 'SINK_UNAVAILABLE' as const;
  constructor(
    readonly sink: string,
    cause: unknown,
  ) {
    super(`${sink}: unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause, retryable: true });
  }
}

/** A sink answered with an error that a retry will not fix (bad SQL, schema mismatch). */
export class SinkRejectedError extends WorkerError {
  readonly code = 'SINK_REJECTED' as const;
  constructor(
    readonly sink: string,
    cause: unknown,
  ) {
    super(`${sink}: rejected: ${(cause as Error)?.message ?? String(cause)}`, { cause, retryable: false });
  }
}

export class FinaliseFailedError extends WorkerError {
  readonly code = 'FINALISE_FAILED' as const;
}

export class ArchiveCorruptError extends WorkerError {
  readonly code = 'ARCHIVE_CORRUPT' as const;
}

export class ReplayFailedError extends WorkerError {
  readonly code = 'REPLAY_FAILED' as const;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether an error from a client library means "the server was not reachable" (retry) or not. */
export function isTransient(err: unknown): boolean {
  if (err instanceof WorkerError) return err.retryable;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  // @clickhouse/client and ioredis surface socket failures as plain errors with these texts
  if (
    /socket hang up|Timeout error|ECONNREFUSED|ECONNRESET|Connection is closed|connect ETIMEDOUT/i.test(msg)
  ) {
    return true;
  }
  // ClickHouse overload answers that pass by themselves: TOO_MANY_PARTS (252), MEMORY_LIMIT (241), TOO_MANY_SIMULTANEOUS_QUERIES (202)
  if (/Code: (252|241|202|209|210|159)\b/.test(msg)) return true;
  return e.cause !== undefined && e.cause !== err ? isTransient(e.cause) : false;
}
