import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  commandTopic,
  isValidDeviceId,
  parseDeviceTopic,
  sessionTopic,
  telemetryTopic,
  topicDeviceId,
} from './topics.js';

const deviceId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);
const format = fc.constantFrom('json' as const, 'avro' as const);

describe('topics', () => {
  test('builders and the parser round-trip', () => {
    fc.assert(
      fc.property(deviceId, format, (id, f) => {
        expect(parseDeviceTopic(telemetryTopic(id, f))).toEqual({
          kind: 'telemetry',
          deviceId: id,
          format: f,
        });
        expect(parseDeviceTopic(sessionTopic(id, f))).toEqual({ kind: 'session', deviceId: id, format: f });
        expect(topicDeviceId(commandTopic(id))).toBe(id);
        expect(parseDeviceTopic(commandTopic(id))).toBeNull();
      }),
    );
  });

  test('a topic names exactly one device: no prefix tricks', () => {
    fc.assert(
      fc.property(deviceId, deviceId, format, (a, b, f) => {
        const parsed = parseDeviceTopic(telemetryTopic(a, f));
        expect(parsed?.deviceId === b).toBe(a === b);
      }),
    );
  });

  test.each([
    'v1/devices/',
    'v1/devices/abc',
    'v1/devices//telemetry/json',
    'v1/devices/a+b/telemetry/json',
    'v1/devices/a#/telemetry/json',
    'v1/devices/abc/telemetry/xml',
    'v1/devices/abc/telemetry/json/extra',
    'v2/devices/abc/telemetry/json',
    '$SYS/broker',
  ])('%s is outside the scheme', (t) => {
    expect(parseDeviceTopic(t)).toBeNull();
  });

  test('device ids', () => {
    expect(isValidDeviceId('3f0c2a5e-0b7e-4c1e-9d0a-1b2c3d4e5f60')).toBe(true);
    expect(isValidDeviceId('')).toBe(false);
    expect(isValidDeviceId('a/b')).toBe(false);
    expect(isValidDeviceId('x'.repeat(129))).toBe(false);
  });
});
