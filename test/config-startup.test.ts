import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';

// A bad config value stops each service at start with exactly one clear line naming it.
const cases = [
  { service: 'api', env: { DATABASE_URL: 'nonsense' }, variable: 'DATABASE_URL' },
  { service: 'api', env: { API_PORT: 'http' }, variable: 'API_PORT' },
  { service: 'api', env: { API_TRUSTED_PROXIES: 'proxy.example' }, variable: 'API_TRUSTED_PROXIES' },
  // production needs signing keys of its own, not the development key of the data folder
  { service: 'api', env: { NODE_ENV: 'production', API_JWT_KEYS_FILE: '' }, variable: 'API_JWT_KEYS_FILE' },
  { service: 'gateway', env: { KAFKA_BROKERS: 'nonsense' }, variable: 'KAFKA_BROKERS' },
  // a rule between two settings is reported the same way
  { service: 'gateway', env: { INFLIGHT_LOW_BYTES: '99999999999' }, variable: 'INFLIGHT_LOW_BYTES' },
  { service: 'worker', env: { KAFKA_BROKERS: 'nonsense' }, variable: 'KAFKA_BROKERS' },
  { service: 'worker', env: { CLICKHOUSE_URL: 'ftp:/x' }, variable: 'CLICKHOUSE_URL' },
  { service: 'worker', env: { CLICKHOUSE_DATABASE: 'x; DROP' }, variable: 'CLICKHOUSE_DATABASE' },
  { service: 'engagement', env: { DATABASE_URL: 'nonsense' }, variable: 'DATABASE_URL' },
  {
    service: 'engagement',
    env: { ENGAGEMENT_DEFAULT_TIMEZONE: 'Mars/Olympus' },
    variable: 'ENGAGEMENT_DEFAULT_TIMEZONE',
  },
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
    // Starting tsx on a loaded 2-core machine can take seconds: the spawn's own timeout bounds it.
  }, 40_000);
});

test('the API without its signing keys exits 1 with one line naming the file', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'services/api/main.ts'], {
    env: { ...process.env, API_JWT_KEYS_FILE: '/nonexistent/jwt-keys.json' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^fitstream-api: signing keys \/nonexistent\/jwt-keys.json: .*infra\/local\/up/);
}, 40_000);
