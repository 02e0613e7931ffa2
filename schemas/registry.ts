// Registers the Kafka record schemas in the schema registry at start-up.
//
// Subject naming: record-name strategy, subject = full record name (`fitstream.v1.TelemetryBatch`).
// telemetry.samples.v1 carries two record types (TelemetryBatch and SessionControl, one path keyed
// by session so that a session's controls stay ordered with its samples), which the topic-name
// strategy cannot express; record-name is also the registry client's default, so a subject's name
// never depends on which topic a record happens to travel on.
import { COMPATIBILITY, type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { fullName, KAFKA_RECORDS, type KafkaRecordName, schemaText } from './avro.js';
import { SchemaError } from './errors.js';

/** Registry schema id of each Kafka record, e.g. `ids.TelemetryBatch`. */
export type SchemaIds = { readonly [N in KafkaRecordName]: number };

export interface RegisterOptions {
  /** required compatibility of every subject; default BACKWARD */
  compatibility?: COMPATIBILITY;
  /** subject of a record from its full name; default: the full name (record-name strategy) */
  subjectOf?: (fullName: string) => string;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function classify(subject: string, err: unknown): SchemaError {
  const e = err as { name?: string; status?: number };
  if (e?.name === 'ConfluentSchemaRegistryCompatibilityError') {
    return new SchemaError('compatibility_mismatch', `${subject}: ${describe(err)}`, { cause: err });
  }
  if (e?.status === 409 || e?.status === 422) {
    return new SchemaError(
      'incompatible_schema',
      `schema is incompatible with ${subject}: ${describe(err)}`,
      {
        cause: err,
      },
    );
  }
  return new SchemaError('registry_unavailable', `registering ${subject}: ${describe(err)}`, { cause: err });
}

/**
 * Registers one schema text under `subject` (idempotent) and returns its id. A subject created here
 * gets `compatibility`; an existing subject with another level is a `compatibility_mismatch`; a
 * schema the registry refuses under the subject's level is an `incompatible_schema`.
 */
export async function registerSchema(
  registry: SchemaRegistry,
  subject: string,
  schema: string,
  compatibility: COMPATIBILITY = COMPATIBILITY.BACKWARD,
): Promise<number> {
  try {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject, compatibility });
    return id;
  } catch (err) {
    throw classify(subject, err);
  }
}

/**
 * Registers every Kafka record schema (idempotent: the same schema gets the same id again) with
 * BACKWARD compatibility set on the subjects it creates. Fails with a SchemaError when an existing
 * subject has another level or the registry refuses a schema as incompatible.
 */
export async function registerSchemas(
  registry: SchemaRegistry,
  opts: RegisterOptions = {},
): Promise<SchemaIds> {
  const compatibility = opts.compatibility ?? COMPATIBILITY.BACKWARD;
  const ids: Partial<Record<KafkaRecordName, number>> = {};
  for (const name of Object.keys(KAFKA_RECORDS) as KafkaRecordName[]) {
    const subject = opts.subjectOf ? opts.subjectOf(fullName(name)) : fullName(name);
    ids[name] = await registerSchema(registry, subject, schemaText(name), compatibility);
  }
  return ids as SchemaIds;
}

/**
 * `registerSchemas` run at most once for every caller of the returned function, when first needed; an
 * attempt that failed (registry away) is forgotten, so the next call tries again instead of keeping the error.
 */
export function schemaIdsOnce(registry: SchemaRegistry, opts?: RegisterOptions): () => Promise<SchemaIds> {
  let ids: Promise<SchemaIds> | undefined;
  return () => {
    if (!ids) {
      ids = registerSchemas(registry, opts);
      ids.catch(() => {
        ids = undefined;
      });
    }
    return ids;
  };
}
