import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { avroTypes, encodeAvro } from '../../schemas/avro.js';
import { DEFAULT_LIMITS } from '../../schemas/payload.js';
import type { SchemaIds } from '../../schemas/registry.js';
import { DLQ_REASONS } from '../../schemas/vocabulary.js';
import { HEADER_BYTES, schemaIdOf } from '../../schemas/wire.js';
import { Batcher } from './batcher.js';
import { Ingest, sessionKey } from './ingest.js';
import { createGatewayMetrics } from './metrics.js';
import { sessionTopic, telemetryTopic } from './topics.js';

const ids: SchemaIds = {
  TelemetryBatch: 11,
  SessionControl: 12,
  DlqRecord: 13,
  ActivityCreated: 14,
  ActivityUpdated: 15,
  GoalAchieved: 16,
  StreakMilestone: 17,
  ActivityDeleted: 18,
  GoalAchievementRevoked: 19,
  ChallengeProgressed: 20,
};
const NOW = 1_795_600_000_000;
const who = { deviceId: 'dev-1', userId: '00000000-0000-4000-8000-000000000001' };

function ingest(maxPayloadBytes = 4096) {
  const batcher = new Batcher({
    send: async () => {},
    windowMs: 1,
    maxBytes: 1e6,
    highBytes: 1e8,
    lowBytes: 1e7,
  });
  return new Ingest({
    batcher,
    schemaIds: ids,
    topicSamples: 'samples',
    topicDlq: 'dlq',
    limits: { ...DEFAULT_LIMITS, maxPayloadBytes },
    metrics: createGatewayMetrics(new Registry()),
    now: () => NOW,
  });
}

const decode = (value: Buffer, type: keyof typeof avroTypes) =>
  avroTypes[type].fromBuffer(value.subarray(HEADER_BYTES)) as never;

describe('Ingest.toRecord', () => {
  test('a valid batch becomes a TelemetryBatch record keyed by device and session', () => {
    const payload = Buffer.from(
      JSON.stringify({
        sessionId: 's1',
        sport: 'running',
        samples: [{ ts: NOW - 1000, seq: 0, lat: 1, lon: 2, hr: 99 }],
      }),
    );
    const { record, result } = ingest().toRecord(who, telemetryTopic('dev-1', 'json'), payload);
    expect(result).toEqual({ accepted: true, samples: 1 });
    expect(record.topic).toBe('samples');
    expect(record.key).toBe(sessionKey('dev-1', 's1'));
    expect(schemaIdOf(record.value)).toBe(ids.TelemetryBatch);
    expect(decode(record.value, 'TelemetryBatch')).toMatchObject({
      ...who,
      sessionId: 's1',
      receivedAt: NOW,
    });
  });

  test('session control is keyed like its samples', () => {
    const payload = encodeAvro('DeviceSession', {
      sessionId: 's1',
      kind: 'start',
      sport: 'running',
      ts: NOW,
    });
    const { record } = ingest().toRecord(who, sessionTopic('dev-1', 'avro'), payload);
    expect(record.key).toBe(sessionKey('dev-1', 's1'));
    expect(schemaIdOf(record.value)).toBe(ids.SessionControl);
  });

  test('any bytes on any topic: never throws; either a samples record or a DLQ record with a known reason', () => {
    const topics = fc.constantFrom(
      telemetryTopic('dev-1', 'json'),
      telemetryTopic('dev-1', 'avro'),
      sessionTopic('dev-1', 'json'),
      sessionTopic('dev-1', 'avro'),
      'v1/devices/dev-1/other',
    );
    const i = ingest(512);
    fc.assert(
      fc.property(topics, fc.uint8Array({ maxLength: 700 }), (topic, bytes) => {
        const payload = Buffer.from(bytes);
        const { record, result } = i.toRecord(who, topic, payload);
        if (result.accepted) {
          expect(record.topic).toBe('samples');
        } else {
          expect(DLQ_REASONS).toContain(result.reason);
          expect(record.topic).toBe('dlq');
          const dlq = decode(record.value, 'DlqRecord') as {
            original: Buffer;
            reasonCode: string;
            deviceId: string;
          };
          expect(dlq.reasonCode).toBe(result.reason);
          expect(dlq.deviceId).toBe('dev-1');
          // the original is kept, cut to the payload limit when larger
          expect(Buffer.compare(dlq.original, payload.subarray(0, 512))).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('an oversized payload is dead-lettered with its head only', () => {
    const { record, result } = ingest(100).toRecord(
      who,
      telemetryTopic('dev-1', 'json'),
      Buffer.alloc(5000, 32),
    );
    expect(result).toEqual({ accepted: false, reason: 'payload_too_large' });
    expect((decode(record.value, 'DlqRecord') as { original: Buffer }).original).toHaveLength(100);
  });

  test('a MQTT 5 content type that contradicts the topic is dead-lettered', () => {
    const payload = Buffer.from('{}');
    const { result } = ingest().toRecord(who, telemetryTopic('dev-1', 'json'), payload, 'application/avro');
    expect(result).toEqual({ accepted: false, reason: 'content_type_mismatch' });
  });
});
