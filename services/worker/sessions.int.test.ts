import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { batchOf, type Isolated, isolate, produce, rid, rows, waitFor } from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { startWorkerRuntime } from './app.js';
import { computeActivity } from './compute.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';

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
    const w = await startWorkerRuntime(iso.config, computeActivity, logger);
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
    const first = await startWorkerRuntime(iso.config, computeActivity, logger);
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
    const second = await startWorkerRuntime(iso.config, computeActivity, logger);
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

// The recovery query reads the sessions a flush carried within the window (session_index is
// partitioned by the month of seen_ms) and the announcements of those sessions only.
describe('unfinalisedSessions (recovery after a restart or rebalance)', () => {
  let iso: Isolated;
  beforeAll(async () => {
    iso = await isolate();
  });
  afterAll(async () => {
    await iso?.cleanup();
  });

  test('returns the unannounced sessions of the given partitions seen within the window, once each', async () => {
    const day = 24 * 3600 * 1000;
    const now = Date.now();
    const row = (id: string, partition: number, seenMs: number, userId = 'u1') => ({
      user_id: userId,
      device_id: 'd1',
      session_id: id,
      sport: 'running',
      kafka_partition: partition,
      seen_ms: seenMs,
    });
    await iso.ch.insert({
      table: `${iso.database}.session_index`,
      format: 'JSONEachRow',
      values: [
        row('open', 0, now - 3600_000),
        row('announced', 0, now - 3600_000),
        row('announced-old-version-only', 1, now - 60_000),
        row('too-old', 0, now - 30 * day),
        row('other-partition', 5, now - 60_000),
        // one session in two monthly partitions (seen 40 days ago, and again now): one result,
        // the latest row
        row('two-months', 1, now - 40 * day, 'u-old'),
        row('two-months', 1, now - 1000, 'u2'),
      ],
    });
    await iso.ch.insert({
      table: `${iso.database}.activity_announcements`,
      format: 'JSONEachRow',
      values: [
        { user_id: 'u1', device_id: 'd1', session_id: 'announced', version: 3 },
        { user_id: 'u1', device_id: 'd1', session_id: 'announced-old-version-only', version: 1 },
      ],
    });
    const store = new ClickHouseSessionStore(iso.ch, iso.database);
    const got = await store.unfinalisedSessions([0, 1, 2], now - 7 * day);
    expect(got.map((s) => [s.sessionId, s.userId, s.partition]).sort()).toEqual([
      ['open', 'u1', 0],
      ['two-months', 'u2', 1],
    ]);
    // a wider window reaches the older session; an empty partition list asks nothing
    const wide = await store.unfinalisedSessions([0], now - 60 * day);
    expect(wide.map((s) => s.sessionId).sort()).toEqual(['open', 'too-old'].sort());
    expect(await store.unfinalisedSessions([], 0)).toEqual([]);
  });
});
