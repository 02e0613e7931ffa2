import { FitstreamError } from '../../schemas/fitstream-error.js';

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

/**
 * ClickHouse error codes after which the same insert may succeed later: overload, timeouts,
 * network and replication trouble (TOO_MANY_PARTS 252, MEMORY_LIMIT_EXCEEDED 241, TIMEOUT_EXCEEDED
 * 159, SOCKET_TIMEOUT 209, NETWORK_ERROR 210, TOO_MANY_SIMULTANEOUS_QUERIES 202, NO_FREE_CONNECTION
 * 203, TABLE_IS_READ_ONLY 242, NOT_ENOUGH_SPACE 243, NO_ZOOKEEPER 225, ABORTED 236, TOO_FEW_LIVE_REPLICAS
 * 285, UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE 286, UNKNOWN_STATUS_OF_INSERT 319, QUERY_WAS_CANCELLED
 * 394, SYSTEM_ERROR 425, KEEPER_EXCEPTION 999, CANNOT_READ/WRITE_FROM/TO_FILE_DESCRIPTOR 74/75) —
 * and codes that say the server or its schema is not what the worker expects (UNKNOWN_TABLE 60,
 * UNKNOWN_DATABASE 81, NO_SUCH_COLUMN_IN_TABLE 16, THERE_IS_NO_COLUMN 8, READONLY 164, user and
 * access errors 192–195, 497, 516): an operator fixes those, and every record would be rejected
 * alike, so dead-lettering them one by one would only move the outage into the DLQ.
 */
const CLICKHOUSE_RETRYABLE_CODES = new Set([
  8, 16, 60, 74, 75, 81, 159, 164, 192, 193, 194, 195, 202, 203, 209, 210, 225, 236, 241, 242, 243, 252, 285,
  286, 319, 394, 425, 497, 516, 999,
]);

/** The server's error code in a ClickHouse error ("Code: 395, e.displayText() = ..." on 18.16), if any. */
export function clickhouseErrorCode(err: unknown): number | undefined {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
    const m = typeof e.message === 'string' ? /\bCode: (\d+)\b/.exec(e.message) : null;
    if (m) return Number(m[1]);
    e = e.cause === e ? null : (e.cause as typeof e);
  }
  return undefined;
}

/**
 * Whether a failed ClickHouse request may succeed when sent again. Permanent only when the server
 * answered with an error code that says the request itself is refused (a value it cannot parse or
 * store, a type mismatch, a failed check): resending the same rows cannot help, so the worker
 * isolates the records at fault. Everything else — no answer, an answer without a code, a
 * transient or environment code — is retried.
 */
export function isClickHouseRetryable(err: unknown): boolean {
  if (isTransient(err)) return true;
  const code = clickhouseErrorCode(err);
  return code === undefined || CLICKHOUSE_RETRYABLE_CODES.has(code);
}
