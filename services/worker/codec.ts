import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { type AvroRecordName, fullName, schemaText } from '../../schemas/avro.js';
import type { SessionControl, TelemetryBatch } from '../../schemas/types.js';
import { SESSION_CONTROL_KINDS } from '../../schemas/vocabulary.js';
import { RecordInvalidError, RecordUndecodableError } from './errors.js';
import type { Decoded } from './records.js';

/**
 * Confluent wire format (magic 0, 4-byte schema id, Avro body) through the schema registry. The
 * writer schema is fetched by id once and cached, so decoding is a map lookup plus avsc.
 */
export interface RecordCodec {
  decode(value: Buffer | null): Promise<Decoded>;
  encode(name: AvroRecordName, value: unknown): Promise<Buffer>;
}

const kinds: ReadonlySet<string> = new Set(SESSION_CONTROL_KINDS);

export function createRecordCodec(registryUrl: string): RecordCodec {
  const registry = new SchemaRegistry({ host: registryUrl });
  const ids = new Map<AvroRecordName, Promise<number>>();
  const idOf = (name: AvroRecordName): Promise<number> => {
    let p = ids.get(name);
    if (!p) {
      p = registry
        .register({ type: SchemaType.AVRO, schema: schemaText(name) }, { subject: fullName(name) })
        .then((r) => r.id);
      p.catch(() => ids.delete(name));
      ids.set(name, p);
    }
    return p;
  };
  return {
    async decode(value) {
      if (!value || value.length < 5 || value[0] !== 0) {
        throw new RecordUndecodableError('not Confluent wire format (no magic byte)');
      }
      let obj: unknown;
      try {
        obj = await registry.decode(value);
      } catch (err) {
        throw new RecordUndecodableError(`avro decode failed: ${(err as Error).message}`, { cause: err });
      }
      return classify(obj);
    },
    async encode(name, value) {
      return registry.encode(await idOf(name), value);
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
