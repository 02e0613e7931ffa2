// Against the real schema registry of the local stack (SCHEMA_REGISTRY_URL, default
// http://127.0.0.1:8081). Every subject carries a random prefix, so runs never collide with each
// other or with the real subjects a running demo registered.
import { randomUUID } from 'node:crypto';
import { COMPATIBILITY, SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { avroTypes, KAFKA_RECORDS, schemaText } from './avro.js';
import { SchemaError } from './errors.js';
import { registerSchema, registerSchemas, type SchemaIds, schemaIdsOnce } from './registry.js';
import type { TelemetryBatch } from './types.gen.js';
import { ConfluentDecoder, decodeConfluent, encodeConfluent } from './wire.js';

const url = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081';
const prefix = `test-${randomUUID()}`;
const subjectOf = (name: string) => `${prefix}.${name}`;
const client = () => new SchemaRegistry({ host: url });

async function subjectCompatibility(subject: string): Promise<string> {
  const res = await fetch(`${url}/config/${encodeURIComponent(subject)}`);
  const body = (await res.json()) as { compatibilityLevel?: string };
  return body.compatibilityLevel ?? `HTTP ${res.status}`;
}

const batch: TelemetryBatch = {
  deviceId: 'dev-1',
  userId: 'user-1',
  sessionId: 'run-1',
  sport: 'running',
  samples: [
    {
      ts: 1_790_000_000_000,
      seq: 1,
      lat: 48.85,
      lon: 2.35,
      alt: 35.5,
      acc: 4,
      speed: 3.25,
      dist: 0,
      hr: 140,
      cadence: 170,
      power: null,
      lap: false,
    },
    {
      ts: 1_790_000_001_000,
      seq: 2,
      lat: 48.8501,
      lon: 2.3502,
      alt: null,
      acc: null,
      speed: null,
      dist: 3.2,
      hr: null,
      cadence: null,
      power: null,
      lap: true,
    },
  ],
  sets: [{ exercise: 'squat', reps: 5, weightKg: 100, startTs: 1_790_000_000_000, endTs: null }],
  source: 'mqtt',
  receivedAt: 1_790_000_002_000,
  manual: null,
};

let ids: SchemaIds;

beforeAll(async () => {
  ids = await registerSchemas(client(), { subjectOf });
});

describe('registerSchemas', () => {
  it('registers every Kafka record with BACKWARD compatibility', async () => {
    expect(Object.keys(ids).sort()).toEqual(Object.keys(KAFKA_RECORDS).sort());
    for (const id of Object.values(ids)) expect(id).toBeGreaterThan(0);
    for (const name of Object.keys(KAFKA_RECORDS)) {
      expect(await subjectCompatibility(subjectOf(`fitstream.v1.${name}`))).toBe('BACKWARD');
    }
  });

  it('is idempotent: same ids again, from a fresh client too', async () => {
    expect(await registerSchemas(client(), { subjectOf })).toEqual(ids);
  });

  it('refuses a subject whose compatibility level is not BACKWARD', async () => {
    const subject = subjectOf('fitstream.v1.GoalAchieved');
    const put = await fetch(`${url}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'NONE' }),
    });
    expect(put.ok).toBe(true);
    const err = await registerSchemas(client(), { subjectOf }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as SchemaError).code).toBe('compatibility_mismatch');
  });
});

describe('BACKWARD compatibility is enforced by the registry', () => {
  const current = JSON.parse(schemaText('TelemetryBatch')) as { fields: Record<string, unknown>[] };
  const withFields = (fields: Record<string, unknown>[]) => JSON.stringify({ ...current, fields });

  it('refuses a new required field without a default', async () => {
    const subject = subjectOf('compat.required');
    await registerSchema(client(), subject, schemaText('TelemetryBatch'), COMPATIBILITY.BACKWARD);
    const next = withFields([...current.fields, { name: 'tenant', type: 'string' }]);
    const err = await registerSchema(client(), subject, next).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as SchemaError).code).toBe('incompatible_schema');
  });

  it('refuses a changed field type', async () => {
    const subject = subjectOf('compat.type');
    await registerSchema(client(), subject, schemaText('TelemetryBatch'));
    const next = withFields(
      current.fields.map((f) => (f.name === 'receivedAt' ? { ...f, type: 'string' } : f)),
    );
    const err = await registerSchema(client(), subject, next).catch((e: unknown) => e);
    expect((err as SchemaError).code).toBe('incompatible_schema');
  });

  it('accepts a new field with a default (the evolution that is allowed)', async () => {
    const subject = subjectOf('compat.default');
    const v1 = await registerSchema(client(), subject, schemaText('TelemetryBatch'));
    const v2 = await registerSchema(
      client(),
      subject,
      withFields([...current.fields, { name: 'tenant', type: 'string', default: 'default' }]),
    );
    expect(v2).not.toBe(v1);
  });
});

describe('Confluent wire format', () => {
  it('encodeConfluent is byte-identical to the registry client encode', async () => {
    const registry = client();
    expect(encodeConfluent(ids.TelemetryBatch, avroTypes.TelemetryBatch, batch)).toEqual(
      await registry.encode(ids.TelemetryBatch, batch),
    );
    const control = {
      deviceId: 'dev-1',
      userId: 'user-1',
      sessionId: 'run-1',
      kind: 'end' as const,
      sport: 'running' as const,
      ts: 1,
      receivedAt: 2,
    };
    expect(encodeConfluent(ids.SessionControl, avroTypes.SessionControl, control)).toEqual(
      await registry.encode(ids.SessionControl, control),
    );
  });

  it('byte identity holds for arbitrary batches', async () => {
    const registry = client();
    const sampleArb = fc.record({
      ts: fc.nat({ max: 2 ** 45 }),
      seq: fc.option(fc.nat(), { nil: null }),
      lat: fc.option(fc.double({ min: -90, max: 90, noNaN: true }), { nil: null }),
      lon: fc.option(fc.double({ min: -180, max: 180, noNaN: true }), { nil: null }),
      alt: fc.option(fc.float({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      acc: fc.constant(null),
      speed: fc.option(fc.float({ min: 0, max: 100, noNaN: true }), { nil: null }),
      dist: fc.option(fc.double({ min: 0, max: 1e7, noNaN: true }), { nil: null }),
      hr: fc.option(fc.integer({ min: 20, max: 250 }), { nil: null }),
      cadence: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
      power: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: null }),
      lap: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(sampleArb, { maxLength: 50 }), fc.string(), async (samples, sessionId) => {
        const b = { ...batch, sessionId, samples };
        const ours = encodeConfluent(ids.TelemetryBatch, avroTypes.TelemetryBatch, b);
        expect(ours.equals(await registry.encode(ids.TelemetryBatch, b))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('a record framed by wire.ts decodes through the registry client and through decodeConfluent', async () => {
    const buf = encodeConfluent(ids.TelemetryBatch, avroTypes.TelemetryBatch, batch);
    // toEqual ignores the prototypes avsc gives decoded records
    expect(await client().decode(buf)).toEqual(batch);
    const decoded = await decodeConfluent(client(), buf);
    expect(decoded.name).toBe('TelemetryBatch');
    expect(decoded.schemaId).toBe(ids.TelemetryBatch);
    expect(decoded.value).toEqual(batch);
  });

  it('decodes a record written with an older schema into the current shape', async () => {
    // the "older" TelemetryBatch had no `sets`: written with it, read as today's (sets = [])
    const current = JSON.parse(schemaText('TelemetryBatch')) as { fields: { name: string }[] };
    const older = { ...current, fields: current.fields.filter((f) => f.name !== 'sets') };
    const subject = subjectOf('evolution');
    const olderId = await registerSchema(client(), subject, JSON.stringify(older));
    await registerSchema(client(), subject, schemaText('TelemetryBatch')); // allowed: sets has a default
    const registry = client();
    const { sets: _omit, ...oldRecord } = batch;
    const buf = await registry.encode(olderId, oldRecord);
    const decoded = await new ConfluentDecoder(client()).decode(buf);
    expect(decoded.name).toBe('TelemetryBatch');
    expect(decoded.value).toEqual({ ...batch, sets: [] });
  });

  it('fails with typed errors on foreign bytes and unknown ids', async () => {
    const decoder = new ConfluentDecoder(client());
    await expect(decoder.decode(Buffer.from('{"json":true}'))).rejects.toMatchObject({
      code: 'bad_magic_byte',
    });
    await expect(decoder.decode(Buffer.from([0, 0, 0]))).rejects.toMatchObject({ code: 'truncated' });
    await expect(decoder.decode(Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 0]))).rejects.toMatchObject({
      code: 'unknown_schema_id',
    });
    const good = encodeConfluent(ids.TelemetryBatch, avroTypes.TelemetryBatch, batch);
    await expect(decoder.decode(good.subarray(0, good.length - 3))).rejects.toMatchObject({
      code: 'truncated',
    });
  });
});

describe('schemaIdsOnce', () => {
  it('registers once for every caller, and tries again after a failed attempt', async () => {
    // subjects of its own: a test above leaves one of the shared prefix at compatibility NONE
    const own = `test-${randomUUID()}`;
    const subjectOf = (name: string) => `${own}.${name}`;
    // nothing listens on port 9: both attempts fail, and the second is a new attempt, not the first error kept
    const away = schemaIdsOnce(new SchemaRegistry({ host: 'http://127.0.0.1:9' }), { subjectOf });
    const first = away();
    await expect(first).rejects.toBeDefined();
    const second = away();
    expect(second).not.toBe(first);
    await expect(second).rejects.toBeDefined();

    const idsOnce = schemaIdsOnce(client(), { subjectOf });
    const a = idsOnce();
    expect(idsOnce()).toBe(a);
    expect(await a).toEqual(await registerSchemas(client(), { subjectOf }));
  });
});
