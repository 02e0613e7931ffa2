// Closed value sets carried as Avro `string` fields (annotated `"tsType"` in the .avsc files).
//
// Why strings and not Avro enums: under BACKWARD compatibility consumers upgrade first, but a
// producer that emits a new enum symbol still breaks every consumer whose reader schema lacks it
// (Avro enum defaults arrived late and are unevenly supported). With a string, adding a sport is a
// change of this list and the edge validator only: no new schema version, old consumers keep
// decoding and treat an unknown value as "other". The edge (schemas/payload.ts) enforces the list.

export const SPORTS = ['running', 'cycling', 'walking', 'hiking', 'strength'] as const;
export type Sport = (typeof SPORTS)[number];

/**
 * `sport`: the athlete changed the activity's sport (PATCH /v1/activities/{id}, sent by the API only: the
 * gateway's payload schema does not take it); the worker computes the session as the sport of its last
 * `sport` control from then on.
 */
export const SESSION_CONTROL_KINDS = ['start', 'pause', 'resume', 'end', 'lap', 'sport'] as const;
export type SessionControlKind = (typeof SESSION_CONTROL_KINDS)[number];

/** The kinds a device may send (docs/payloads.md); `sport` comes from the API only. */
export const DEVICE_CONTROL_KINDS = ['start', 'pause', 'resume', 'end', 'lap'] as const;

/**
 * Why a message went to telemetry.dlq.v1. Closed list: code branches on these, never on message
 * text. Each one is documented in docs/payloads.md (a test fails when one is missing there).
 */
export const DLQ_REASONS = [
  'payload_too_large',
  'malformed_json',
  'malformed_avro',
  'schema_violation',
  'too_many_samples',
  'invalid_coordinates',
  'hr_out_of_range',
  'invalid_sample',
  'timestamp_in_future',
  'timestamp_too_old',
  'unknown_topic',
  'content_type_mismatch',
  'unauthorized',
  'decode_failed',
  // raised by the worker, not the gateway (services/worker/publisher-kafka.ts)
  'sink_rejected',
  'finalise_failed',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

const sportSet: ReadonlySet<string> = new Set(SPORTS);
const kindSet: ReadonlySet<string> = new Set(SESSION_CONTROL_KINDS);
const reasonSet: ReadonlySet<string> = new Set(DLQ_REASONS);

export function isSport(v: unknown): v is Sport {
  return typeof v === 'string' && sportSet.has(v);
}

export function isSessionControlKind(v: unknown): v is SessionControlKind {
  return typeof v === 'string' && kindSet.has(v);
}

const deviceKindSet: ReadonlySet<string> = new Set(DEVICE_CONTROL_KINDS);

export function isDeviceControlKind(v: unknown): v is (typeof DEVICE_CONTROL_KINDS)[number] {
  return typeof v === 'string' && deviceKindSet.has(v);
}

export function isDlqReason(v: unknown): v is DlqReason {
  return typeof v === 'string' && reasonSet.has(v);
}
