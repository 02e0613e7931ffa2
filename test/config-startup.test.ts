import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';

// A bad config value stops each service at start with exactly one clear line naming it.
const cases = [
  { service: 'api', env: { DATABASE_URL: 'nonsense' }, variable: 'DATABASE_URL' },
  { service: 'api', env: { API_PORT: 'http' }, variable: 'API_PORT' },
  { service: 'gateway', env: { KAFKA_BROKERS: 'nonsense' }, variable: 'KAFKA_BROKERS' },
  // a rule between two settings is reported the same way
  { service: 'gateway', env: { INFLIGHT_LOW_BYTES: '99999999999' }, variable: 'INFLIGHT_LOW_BYTES' },
  { service: 'worker', env: { KAFKA_BROKERS: 'nonsense' }, variable: 'KAFKA_BROKERS' },
  { service: 'worker', env: { CLICKHOUSE_URL: 'ftp:/x' }, variable: 'CLICKHOUSE_URL' },
  { service: 'worker', env: { CLICKHOUSE_DATABASE: 'x; DROP' }, variable: 'CLICKHOUSE_DATABASE' },
];

describe.each(cases)('$service with a bad $variable', ({ service, env, variable }) => {
  const entry = `services/${service}/main.ts`;
  test('exits 1 with one line naming the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', entry], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^fitstream-${service}: invalid config: ${variable}=".*" \\(expected .+\\)$`),
    );
  });
});
