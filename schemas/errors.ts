import { FitstreamError } from './fitstream-error.js';

/**
 * Closed list of schema and wire-format failures. One class with a table rather than a subclass per
 * code: callers branch on `code`/`retryable` only, and every code here is raised from two small
 * modules (wire.ts, registry.ts), so subclasses would add names without adding meaning.
 */
export const SCHEMA_ERRORS = {
  /** first byte of a Kafka value is not the Confluent magic byte 0 */
  bad_magic_byte: { retryable: false },
  /** shorter than the 5-byte header, or the Avro body ends early or has trailing bytes */
  truncated: { retryable: false },
  /** the registry does not know the schema id in the header */
  unknown_schema_id: { retryable: false },
  /** the writer schema is not a fitstream.v1 record this code knows */
  unknown_record: { retryable: false },
  /** the Avro body does not decode with its writer schema */
  avro_decode_failed: { retryable: false },
  /** a value does not match the schema it is being encoded with */
  invalid_value: { retryable: false },
  /** the registry refused a schema as incompatible with the subject's earlier versions */
  incompatible_schema: { retryable: false },
  /** the subject exists with a compatibility level other than the one required */
  compatibility_mismatch: { retryable: false },
  /** the registry could not be reached or answered 5xx */
  registry_unavailable: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

export type SchemaErrorCode = keyof typeof SCHEMA_ERRORS;

export class SchemaError extends FitstreamError<SchemaErrorCode> {
  readonly code: SchemaErrorCode;

  constructor(code: SchemaErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retryable: SCHEMA_ERRORS[code].retryable });
    this.code = code;
  }
}
