import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { createLogger } from '../common/logger.js';
import { startWorker } from './app.js';
import { computeActivity } from './compute.js';
import { batchOf, type Isolated, isolate, produce, rid, rows, waitFor } from './testkit.js';

// Sessions without an end message are finalised after the inactivity timeout, also when the
// worker that saw them restarted in between (recovered from ClickHouse on partition assignment).
describe('inactivity timeout', () => {
  let iso: Isolated;
  const logger = createLogger('worker-test', 'error');

  beforeAll(async () => {
    iso = await isolate({ env: { WORKER_SESSION_TIMEOUT_S: '3', WORKER_SWEEP_INTERVAL_MS: '500' } });
  });
  afterAll(async () => {
    await iso?.cleanup();
  });

  const activities = async (sessionId: string) =>
    rows<Record<string, unknown>>(
      iso.ch,
      `SELECT * FROM ${iso.database}.activities_v WHERE session_id = '${sessionId}'`,
    );

  test('a quiet session is finalised after the timeout, not before', async () => {
    const w = await startWorker(iso.config, computeActivity, logger);
    try {
      const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
      const { samples } = generateSession({ sport: 'walking', seed: 3, durationS: 120 });
      const t0 = Date.now();
      await produce(iso, [{ name: 'TelemetryBatch', value: batchOf(ids, samples, 'walking') }]);
      await waitFor(async () => {
        const [r] = await rows<{ n: number }>(
          iso.ch,
          `SELECT count() AS n FROM ${iso.database}.samples_v WHERE session_id = '${ids.sessionId}'`,
        );
        return Number(r!.n) === samples.length;
      });
      expect(await activities(ids.sessionId)).toHaveLength(0);
      const [a] = await waitFor(async () => {
        const r = await activities(ids.sessionId);
        return r.length ? r : null;
      }, 20_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
      expect(Number(a!.sample_count)).toBe(samples.length);
    } finally {
      await w.close();
    }
  });

  test('after a restart the new worker still finalises the sessions it inherits', async () => {
    const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const { samples } = generateSession({ sport: 'running', seed: 4, durationS: 90 });
    const first = await startWorker(iso.config, computeActivity, logger);
    try {
      await produce(iso, [{ name: 'TelemetryBatch', value: batchOf(ids, samples) }]);
      await waitFor(async () => {
        const [r] = await rows<{ n: number }>(
          iso.ch,
          `SELECT count() AS n FROM ${iso.database}.samples_v WHERE session_id = '${ids.sessionId}'`,
        );
        return Number(r!.n) === samples.length;
      });
    } finally {
      await first.close(); // before the timeout: this worker never finalises it
    }
    expect(await activities(ids.sessionId)).toHaveLength(0);
    const second = await startWorker(iso.config, computeActivity, logger);
    try {
      const [a] = await waitFor(async () => {
        const r = await activities(ids.sessionId);
        return r.length ? r : null;
      }, 40_000);
      expect(Number(a!.sample_count)).toBe(samples.length);
    } finally {
      await second.close();
    }
  }, 90_000);
});
