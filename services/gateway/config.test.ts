import { describe, expect, test } from 'vitest';
import { ConfigError } from '../common/config.js';
import { parseGatewayConfig } from './config.js';

describe('gateway config', () => {
  test('defaults match the local stack and the payload limits of schemas/payload.ts', () => {
    const c = parseGatewayConfig({});
    expect(c.GATEWAY_MODE).toBe('embedded');
    expect([c.MQTT_PORT, c.MQTT_WS_PORT, c.OPS_PORT]).toEqual([1883, 8083, 9401]);
    expect(c.BRIDGE_URL).toBe('mqtt://127.0.0.1:1884');
    expect(c.TOPIC_SAMPLES).toBe('telemetry.samples.v1');
    expect(c.MAX_PAYLOAD_BYTES).toBe(256 * 1024);
  });

  test.each([
    [{ BATCH_MAX_BYTES: '1000', MAX_PAYLOAD_BYTES: '4096' }, 'BATCH_MAX_BYTES'],
    [{ INFLIGHT_LOW_BYTES: '70000000' }, 'INFLIGHT_LOW_BYTES'],
    [{ INFLIGHT_HIGH_BYTES: '1500000', INFLIGHT_LOW_BYTES: '1000' }, 'INFLIGHT_HIGH_BYTES'],
    [{ MQTT_WS_PORT: '1883' }, 'MQTT_WS_PORT'],
    [{ GATEWAY_MODE: 'cluster' }, 'GATEWAY_MODE'],
    [{ BRIDGE_URL: 'http://broker' }, 'BRIDGE_URL'],
    [{ BRIDGE_SHARE_GROUP: 'a/b' }, 'BRIDGE_SHARE_GROUP'],
    [{ BATCH_WINDOW_MS: '0' }, 'BATCH_WINDOW_MS'],
  ])('%o is refused naming %s', (env, variable) => {
    try {
      parseGatewayConfig(env);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe(variable);
    }
  });

  test('ports may be 0 (any free port) for tests', () => {
    const c = parseGatewayConfig({ MQTT_PORT: '0', MQTT_WS_PORT: '0' });
    expect([c.MQTT_PORT, c.MQTT_WS_PORT]).toEqual([0, 0]);
  });
});
