// avsc Types for every schema in schemas/*.avsc, built once at import, and the encode/decode helpers
// the services use. The schemas come from the generated schemas/avsc.gen.ts, so nothing reads the
// file system at run time.
import avro from 'avsc';
import { AVRO_NAMESPACE, AVRO_SCHEMAS } from './avsc.gen.js';
import type { AvroRecords } from './types.gen.js';

export type AvroRecordName = keyof AvroRecords;

/** The records that travel on Kafka and are registered in the schema registry, with their topic. */
export const KAFKA_RECORDS = {
  TelemetryBatch: 'telemetry.samples.v1',
  SessionControl: 'telemetry.samples.v1',
  DlqRecord: 'telemetry.dlq.v1',
  ActivityCreated: 'activities.v1',
  ActivityUpdated: 'activities.v1',
  ActivityDeleted: 'activities.v1',
  GoalAchieved: 'goals.v1',
  GoalAchievementRevoked: 'goals.v1',
  StreakMilestone: 'goals.v1',
  ChallengeProgressed: 'goals.v1',
} as const satisfies Partial<Record<AvroRecordName, string>>;
export type KafkaRecordName = keyof typeof KAFKA_RECORDS;

/** The payloads devices publish over MQTT in Avro (topic suffix /avro). */
export const DEVICE_RECORDS = ['DeviceTelemetry', 'DeviceSession'] as const;

export type AvroResolver = ReturnType<avro.Type['createResolver']>;

/** An avsc Type whose values are `T` (avsc's own typings say `any`). */
export interface AvroType<T> extends avro.Type {
  toBuffer(value: T): Buffer;
  fromBuffer(buffer: Buffer, resolver?: AvroResolver, noCheck?: boolean): T;
  isValid(value: unknown, opts?: Partial<avro.IsValidOptions>): value is T;
}

const registry: Record<string, avro.Type> = {};
const built = {} as { [N in AvroRecordName]: AvroType<AvroRecords[N]> };
for (const schema of AVRO_SCHEMAS) {
  built[schema.name] = avro.Type.forSchema(schema as unknown as avro.Schema, {
    registry,
  }) as AvroType<never>;
}

/** One avsc Type per record, by record name without namespace (e.g. `avroTypes.TelemetryBatch`). */
export const avroTypes: { readonly [N in AvroRecordName]: AvroType<AvroRecords[N]> } = built;

/** `fitstream.v1.TelemetryBatch` for `TelemetryBatch`: the record-name subject in the registry. */
export function fullName(name: AvroRecordName): string {
  return `${AVRO_NAMESPACE}.${name}`;
}

/**
 * The self-contained schema text of a record (referenced types inlined, docs and defaults kept):
 * what is registered in the schema registry and what a device author compiles.
 */
export function schemaText(name: AvroRecordName): string {
  return JSON.stringify(avroTypes[name].schema({ exportAttrs: true }));
}

/** Avro binary of one record, no framing. Throws when the value does not match the schema. */
export function encodeAvro<N extends AvroRecordName>(name: N, value: AvroRecords[N]): Buffer {
  return avroTypes[name].toBuffer(value);
}

/** Decodes the Avro binary of one record; throws on truncated input or trailing bytes. */
export function decodeAvro<N extends AvroRecordName>(name: N, buf: Buffer): AvroRecords[N] {
  return avroTypes[name].fromBuffer(buf);
}
