import { describe, expect, test } from 'vitest';
import { SchemaError } from '../../schemas/errors.js';
import type { DlqRecord } from '../../schemas/types.js';
import { failureOf } from './activity-failures.js';

const ids = { userId: 'c0ffee00-0000-4000-8000-000000000001', deviceId: 'upload', sessionId: 'upload-abc' };
const letter = (over: Partial<DlqRecord>): DlqRecord => ({
  original: Buffer.from(JSON.stringify({ ...ids, sport: 'running', firstTs: 1, lastTs: 2, samples: 2 })),
  source: `finalise:${ids.deviceId}/${ids.sessionId}`,
  reasonCode: 'finalise_failed',
  message: 'Code: 395 (session upload/upload-abc)',
  deviceId: ids.deviceId,
  at: 1_796_000_000_000,
  ...over,
});
const never = async () => {
  throw new Error('not asked');
};

describe('failureOf', () => {
  test('a session the worker could not finalise: the session its `original` names', async () => {
    expect(await failureOf(letter({}), never)).toEqual({
      ...ids,
      reason: 'finalise_failed',
      message: 'Code: 395 (session upload/upload-abc)',
      at: 1_796_000_000_000,
    });
  });

  test('a record the worker refused: the session of the decoded record', async () => {
    const record = Buffer.from([0, 0, 0, 0, 7]);
    const got = await failureOf(
      letter({ source: 'kafka:telemetry.samples.v1/0@12', reasonCode: 'sink_rejected', original: record }),
      async (buf) => {
        expect(buf).toBe(record);
        return { ...ids, kind: 'end', ts: 5 };
      },
    );
    expect(got).toMatchObject({ ...ids, reason: 'sink_rejected' });
  });

  test('names no session: the gateway, bytes that do not decode, an unknown reason, bad JSON', async () => {
    expect(await failureOf(letter({ source: 'mqtt:v1/devices/x/telemetry/json' }), never)).toBeNull();
    const undecodable = async () => {
      throw new SchemaError('bad_magic_byte', 'not a Confluent record');
    };
    expect(await failureOf(letter({ source: 'kafka:t/0@1' }), undecodable)).toBeNull();
    expect(await failureOf(letter({ reasonCode: 'boom' as never }), never)).toBeNull();
    expect(await failureOf(letter({ original: Buffer.from('{') }), never)).toBeNull();
    expect(await failureOf(letter({ original: Buffer.from('{"userId":1}') }), never)).toBeNull();
  });

  test('the registry away is thrown, so the batch is read again', async () => {
    const away = async () => {
      throw new SchemaError('registry_unavailable', 'connect ECONNREFUSED');
    };
    await expect(failureOf(letter({ source: 'kafka:t/0@1' }), away)).rejects.toThrow(SchemaError);
  });
});
