import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { avroTypes, type KafkaRecordName } from '../../schemas/avro.js';
import { SchemaError } from '../../schemas/errors.js';
import { schemaIdsOnce } from '../../schemas/registry.js';
import type { SessionControl, TelemetryBatch } from '../../schemas/types.js';
import { SESSION_CONTROL_KINDS } from '../../schemas/vocabulary.js';
import { ConfluentDecoder, encodeConfluent } from '../../schemas/wire.js';
import { RecordInvalidError, RecordUndecodableError } from './errors.js';
import type { Decoded } from './records.js';

/**
 * Confluent wire format through the schema registry (schemas/wire.ts): decoding asks the registry
 * once per schema id; encoding uses the ids that registerSchemas returned at start. A record that
 * cannot be decoded throws RecordUndecodableError (dead-lettered); an unreachable registry throws
 * the retryable SchemaError('registry_unavailable') so the caller waits instead.
 */
export interface RecordCodec {
  decode(value: Buffer | null): Promise<Decoded>;
  encode<N extends KafkaRecordName>(
    name: N,
    value: Parameters<(typeof avroTypes)[N]['toBuffer']>[0],
  ): Promise<Buffer>;
}

const kinds: ReadonlySet<string> = new Set(SESSION_CONTROL_KINDS);

export function createRecordCodec(registryUrl: string): RecordCodec {
  const registry = new SchemaRegistry({ host: registryUrl });
  const decoder = new ConfluentDecoder(registry);
  const idsOnce = schemaIdsOnce(registry);
  return {
    async decode(value) {
      if (!value) throw new RecordUndecodableError('record has no value');
      try {
        const d = decoder.decodeCached(value) ?? (await decoder.decode(value));
        if (d.name === 'TelemetryBatch' || d.name === 'SessionControl') return classify(d.value);
        throw new RecordUndecodableError(`unexpected record ${d.name} on the samples topic`);
      } catch (err) {
        if (err instanceof SchemaError && !err.retryable) {
          throw new RecordUndecodableError(`${err.code}: ${err.message}`, { cause: err });
        }
        throw err;
      }
    },
    async encode(name, value) {
      const id = (await idsOnce())[name];
      return encodeConfluent(id, avroTypes[name] as never, value as never);
    },
  };
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Tells a TelemetryBatch from a SessionControl and checks what the worker relies on. */
export function classify(obj: unknown): Decoded {
  const o = obj as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new RecordInvalidError('record is not an object');
  if (!nonEmpty(o.deviceId) || !nonEmpty(o.userId) || !nonEmpty(o.sessionId)) {
    throw new RecordInvalidError('deviceId, userId and sessionId must be non-empty');
  }
  if (Array.isArray(o.samples)) {
    const b = o as unknown as TelemetryBatch;
    if (!Array.isArray(b.sets)) (b as { sets: unknown }).sets = [];
    // records written before the field existed decode (with their writer schema) without it
    if (b.manual === undefined) (b as { manual: unknown }).manual = null;
    for (const s of b.samples) {
      if (!Number.isSafeInteger(s.ts)) throw new RecordInvalidError(`sample ts ${s.ts} is not an integer`);
      if (s.seq !== null && !(Number.isInteger(s.seq) && s.seq >= 0 && s.seq < 0xffffffff)) {
        throw new RecordInvalidError(`sample seq ${s.seq} out of range`);
      }
    }
    return { kind: 'batch', batch: b };
  }
  if (typeof o.kind === 'string') {
    if (!kinds.has(o.kind)) throw new RecordInvalidError(`unknown session control kind ${o.kind}`);
    if (!Number.isSafeInteger(o.ts)) throw new RecordInvalidError('control ts is not an integer');
    return { kind: 'control', control: o as unknown as SessionControl };
  }
  throw new RecordInvalidError('neither a TelemetryBatch nor a SessionControl');
}
