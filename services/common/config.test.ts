import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { ConfigError, clickhouseEnv, kafkaEnv, parseEnv, port, positiveInt } from './config.js';

describe('parseEnv', () => {
  test('defaults match the local stack', () => {
    const c = parseEnv(kafkaEnv, {});
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(c.SCHEMA_REGISTRY_URL).toBe('http://127.0.0.1:8081');
  });

  test('parses a broker list', () => {
    const c = parseEnv(kafkaEnv, { KAFKA_BROKERS: 'a:9092, b.example:19092' });
    expect(c.KAFKA_BROKERS).toEqual(['a:9092', 'b.example:19092']);
  });

  test('a bad broker list names the variable and what was expected', () => {
    expect(() => parseEnv(kafkaEnv, { KAFKA_BROKERS: 'nonsense' })).toThrowError(
      'invalid config: KAFKA_BROKERS="nonsense" (expected a comma-separated list of host:port)',
    );
  });

  test('a bad URL names the variable', () => {
    try {
      parseEnv(clickhouseEnv, { CLICKHOUSE_URL: 'not a url' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe('CLICKHOUSE_URL');
    }
  });

  test('numbers and enums', () => {
    const shape = { P: port.default(1), N: positiveInt.default(5), E: z.enum(['a', 'b']).default('a') };
    expect(parseEnv(shape, { P: '80', N: '3', E: 'b' })).toEqual({ P: 80, N: 3, E: 'b' });
    expect(() => parseEnv(shape, { P: '70000' })).toThrowError(/P="70000"/);
    expect(() => parseEnv(shape, { N: '0' })).toThrowError(/N="0"/);
    expect(() => parseEnv(shape, { E: 'c' })).toThrowError('invalid config: E="c" (expected one of a, b)');
  });
});
