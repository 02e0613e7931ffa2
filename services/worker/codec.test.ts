import { describe, expect, test } from 'vitest';
import { emptySample } from '../../schemas/sample.js';
import { classify } from './codec.js';
import { RecordInvalidError } from './errors.js';

const ids = { deviceId: 'd', userId: 'u', sessionId: 's', sport: 'running' };
const sample = emptySample(1, 0);

describe('classify', () => {
  test('telemetry batches and controls', () => {
    expect(classify({ ...ids, samples: [sample], sets: [], source: 'x', receivedAt: 0 }).kind).toBe('batch');
    expect(classify({ ...ids, kind: 'end', ts: 5, receivedAt: 0 }).kind).toBe('control');
  });

  test('what the stages rely on is enforced', () => {
    for (const bad of [
      null,
      { ...ids, sessionId: '', samples: [] },
      { ...ids, samples: [{ ...sample, ts: 1.5 }] },
      { ...ids, samples: [{ ...sample, seq: -1 }] },
      { ...ids, kind: 'explode', ts: 1 },
      { ...ids },
    ]) {
      expect(() => classify(bad)).toThrow(RecordInvalidError);
    }
  });
});
