// Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary body.
//
// Producers frame records locally with the schema ids that registerSchemas returned at start-up:
// no registry round trip per message. Consumers decode through a cache keyed by schema id, which
// asks the registry once per id and then resolves the writer's schema into this build's schema of
// the same record, so records written by older producers arrive in today's shape (defaults filled).
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { type AvroRecordName, type AvroResolver, type AvroType, avroTypes } from './avro.js';
import { AVRO_NAMESPACE } from './avsc.gen.js';
import { SchemaError } from './errors.js';
import type { AvroRecords } from './types.gen.js';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

// One growing scratch buffer: encoding is synchronous, so it is never shared by two calls.
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Frames `value` as `schemaId` + Avro binary of `type`. Byte-identical to the registry client's
 * `encode(schemaId, value)` for the schema registered under that id. One allocation: the result.
 */
export function encodeConfluent<T>(schemaId: number, type: AvroType<T>, value: T): Buffer {
  for (;;) {
    scratch[0] = MAGIC_BYTE;
    scratch.writeInt32BE(schemaId, 1);
    let end: number;
    try {
      end = type.encode(value, scratch, HEADER_BYTES);
    } catch (err) {
      throw new SchemaError(
        'invalid_value',
        `value does not match ${type.name ?? 'schema'}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    // avsc returns minus the number of bytes missing
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
  }
}

/** The schema id in a Confluent-framed value, or a SchemaError when the header is not there. */
export function schemaIdOf(buf: Buffer): number {
  if (buf.length < HEADER_BYTES)
    throw new SchemaError('truncated', `value of ${buf.length} bytes has no Confluent header`);
  if (buf[0] !== MAGIC_BYTE)
    throw new SchemaError('bad_magic_byte', `magic byte is ${buf[0]}, expected ${MAGIC_BYTE}`);
  return buf.readInt32BE(1);
}

/** A decoded record, discriminated by its record name (without namespace). */
export type DecodedRecord = {
  [N in AvroRecordName]: { name: N; schemaId: number; value: AvroRecords[N] };
}[AvroRecordName];

interface Reader {
  name: AvroRecordName;
  type: avro.Type;
  /** undefined when the writer schema equals this build's schema */
  resolver: AvroResolver | undefined;
}

function recordName(fullName: string | undefined): AvroRecordName | undefined {
  if (!fullName?.startsWith(`${AVRO_NAMESPACE}.`)) return undefined;
  const short = fullName.slice(AVRO_NAMESPACE.length + 1);
  return short in avroTypes ? (short as AvroRecordName) : undefined;
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 404;
}

/** Decodes Confluent-framed Avro values; one registry lookup per schema id for its lifetime. */
export class ConfluentDecoder {
  readonly #registry: SchemaRegistry;
  readonly #readers = new Map<number, Reader>();
  readonly #pending = new Map<number, Promise<Reader>>();

  constructor(registry: SchemaRegistry) {
    this.#registry = registry;
  }

  /** Decodes without a registry call when the id is already cached; undefined otherwise. */
  decodeCached(buf: Buffer): DecodedRecord | undefined {
    const id = schemaIdOf(buf);
    const reader = this.#readers.get(id);
    return reader ? this.#decodeBody(id, reader, buf) : undefined;
  }

  async decode(buf: Buffer): Promise<DecodedRecord> {
    const id = schemaIdOf(buf);
    const reader = this.#readers.get(id) ?? (await this.#load(id));
    return this.#decodeBody(id, reader, buf);
  }

  #decodeBody(schemaId: number, reader: Reader, buf: Buffer): DecodedRecord {
    const body = buf.subarray(HEADER_BYTES);
    let decoded: { value: unknown; offset: number };
    try {
      decoded = reader.type.decode(body, 0, reader.resolver);
    } catch (err) {
      throw new SchemaError('avro_decode_failed', `schema id ${schemaId}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (decoded.offset !== body.length) {
      throw new SchemaError(
        'truncated',
        decoded.offset < 0
          ? `schema id ${schemaId}: Avro body ends early`
          : `schema id ${schemaId}: ${body.length - decoded.offset} trailing bytes after the record`,
      );
    }
    return { name: reader.name, schemaId, value: decoded.value } as DecodedRecord;
  }

  #load(id: number): Promise<Reader> {
    let p = this.#pending.get(id);
    if (!p) {
      p = this.#fetch(id).finally(() => this.#pending.delete(id));
      this.#pending.set(id, p);
    }
    return p;
  }

  async #fetch(id: number): Promise<Reader> {
    let writer: avro.Type;
    try {
      writer = (await this.#registry.getSchema(id)) as unknown as avro.Type;
    } catch (err) {
      if (isNotFound(err))
        throw new SchemaError('unknown_schema_id', `schema id ${id} is not in the registry`, { cause: err });
      throw new SchemaError('registry_unavailable', `schema id ${id}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const name = recordName(writer.name);
    if (!name || typeof writer.createResolver !== 'function') {
      throw new SchemaError(
        'unknown_record',
        `schema id ${id} is ${writer.name ?? 'not a named Avro record'}`,
      );
    }
    const local = avroTypes[name];
    let reader: Reader;
    if (local.equals(writer)) {
      reader = { name, type: local, resolver: undefined };
    } else {
      try {
        reader = { name, type: local, resolver: local.createResolver(writer) };
      } catch (err) {
        throw new SchemaError(
          'unknown_record',
          `schema id ${id} (${writer.name}) cannot be read as this build's ${name}`,
          {
            cause: err,
          },
        );
      }
    }
    this.#readers.set(id, reader);
    return reader;
  }
}

const decoders = new WeakMap<SchemaRegistry, ConfluentDecoder>();

/** Decodes one Confluent-framed value with a decoder cached per registry client. */
export function decodeConfluent(registry: SchemaRegistry, buf: Buffer): Promise<DecodedRecord> {
  let d = decoders.get(registry);
  if (!d) {
    d = new ConfluentDecoder(registry);
    decoders.set(registry, d);
  }
  return d.decode(buf);
}
