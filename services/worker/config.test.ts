import { describe, expect, test } from 'vitest';
import { parseEnv } from '../common/config.js';
import { checkWorkerConfig, workerEnv } from './config.js';

describe('worker config', () => {
  test('defaults match the local stack and the brief', () => {
    const c = checkWorkerConfig(parseEnv(workerEnv, {}));
    expect(c.WORKER_GROUP_ID).toBe('fitstream-worker');
    expect(c.WORKER_OPS_PORT).toBe(9402);
    expect(c.TOPIC_SAMPLES).toBe('telemetry.samples.v1');
    expect(c.WORKER_SESSION_TIMEOUT_S).toBe(600);
    expect(c.WORKER_RECOVERY_WINDOW_H).toBe(168);
  });

  test('cross-field rules', () => {
    expect(() =>
      checkWorkerConfig(
        parseEnv(workerEnv, { WORKER_SESSION_TIMEOUT_S: '1', WORKER_SWEEP_INTERVAL_MS: '5000' }),
      ),
    ).toThrow(/WORKER_SWEEP_INTERVAL_MS/);
    expect(() => checkWorkerConfig(parseEnv(workerEnv, { CLICKHOUSE_DATABASE: 'a-b' }))).toThrow(
      /CLICKHOUSE_DATABASE/,
    );
    expect(() => parseEnv(workerEnv, { WORKER_ARCHIVE_PREFIX: 'a b' })).toThrow(/WORKER_ARCHIVE_PREFIX/);
    // the recovery window must outlast the inactivity timeout (else a crashed worker's open
    // sessions could fall out of it before they are due)
    expect(() =>
      checkWorkerConfig(
        parseEnv(workerEnv, { WORKER_RECOVERY_WINDOW_H: '1', WORKER_SESSION_TIMEOUT_S: '3600' }),
      ),
    ).toThrow(/WORKER_RECOVERY_WINDOW_H/);
    expect(
      checkWorkerConfig(
        parseEnv(workerEnv, { WORKER_RECOVERY_WINDOW_H: '2', WORKER_SESSION_TIMEOUT_S: '3600' }),
      ).WORKER_RECOVERY_WINDOW_H,
    ).toBe(2);
  });
});
