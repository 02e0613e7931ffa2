import { type ChildProcess, spawn } from 'node:child_process';
import { beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { tcpProxy } from '../../test/support/tcp-proxy.js';
import {
  cleanedCount,
  dataset,
  type Isolated,
  isolate,
  produce,
  rid,
  rows,
  shuffled,
  snapshotTables,
  waitFor,
} from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { type RunningWorker, startWorkerRuntime } from './app.js';
import { computeActivity } from './compute.js';

// "No loss, no duplicates": every scenario must leave exactly the tables of a clean in-order run.
const logger = createLogger('worker-test', 'error');
const tag = rid(4);
const SESSIONS = 8;
const DURATION_S = 900;
const data = dataset(
  tag,
  SESSIONS,
  DURATION_S,
  (seed, d) => generateSession({ sport: 'running', seed, durationS: d }).samples,
);

async function complete(iso: Isolated, timeoutMs = 90_000) {
  return waitFor(async () => {
    const c = await cleanedCount(iso.ch, iso.database);
    return c.rows === data.samples && c.cleaned === data.samples && c.activities === SESSIONS ? c : null;
  }, timeoutMs);
}

let reference: Awaited<ReturnType<typeof snapshotTables>>;
let referenceInputs: { memory: number; clickhouse: number };

describe('worker: no loss, no duplicates', () => {
  beforeAll(async () => {
    const iso = await isolate();
    const w = await startWorkerRuntime(iso.config, computeActivity, logger);
    try {
      await produce(iso, data.records);
      await complete(iso);
      reference = await snapshotTables(iso.ch, iso.database);
      referenceInputs = { ...w.sessions.inputs };
    } finally {
      await w.close();
      await iso.cleanup();
    }
  }, 180_000);

  test('reference run: one row per identity, one activity per session', () => {
    expect(reference.count).toBe(data.samples);
    expect(reference.unique).toBe(data.samples);
    expect(reference.activities).toHaveLength(SESSIONS);
  });

  test('finalising from in-memory images and from the ClickHouse read-back gives identical tables', async () => {
    // the reference run saw every session from its first record: all from memory
    expect(referenceInputs).toEqual({ memory: SESSIONS, clickhouse: 0 });
    const iso = await isolate({ env: { WORKER_FINALISE_MEMORY_MB: '0' } });
    const w = await startWorkerRuntime(iso.config, computeActivity, logger);
    try {
      await produce(iso, data.records);
      await complete(iso);
      expect(w.sessions.inputs).toEqual({ memory: 0, clickhouse: SESSIONS });
      expect(await snapshotTables(iso.ch, iso.database)).toEqual(reference);
    } finally {
      await w.close();
      await iso.cleanup();
    }
  }, 180_000);

  test('every message twice and out of order gives identical tables', async () => {
    const iso = await isolate();
    const w = await startWorkerRuntime(iso.config, computeActivity, logger);
    try {
      const twice = shuffled([...data.records, ...data.records], 42);
      // several sends so the worker flushes (and finalises early) in between
      for (let i = 0; i < twice.length; i += 97) await produce(iso, twice.slice(i, i + 97));
      await complete(iso);
      await new Promise((r) => setTimeout(r, 1500)); // let any in-flight re-finalisation land
      const snap = await snapshotTables(iso.ch, iso.database);
      expect(snap.count).toBe(snap.unique);
      expect(snap).toEqual(reference);
    } finally {
      await w.close();
      await iso.cleanup();
    }
  }, 180_000);

  test('SIGKILL mid-batch and restart gives identical tables', async () => {
    const iso = await isolate({ env: { WORKER_BATCH_ROWS: '2000' } });
    const env = {
      ...process.env,
      TOPIC_SAMPLES: iso.topic,
      TOPIC_ACTIVITIES: iso.activities,
      TOPIC_DLQ: iso.dlq,
      CLICKHOUSE_DATABASE: iso.database,
      WORKER_GROUP_ID: iso.group,
      WORKER_ARCHIVE_PREFIX: iso.prefix,
      WORKER_OPS_PORT: '0',
      WORKER_FLUSH_INTERVAL_MS: '300',
      WORKER_BATCH_ROWS: '2000',
      LOG_LEVEL: 'error',
    };
    const spawnWorker = (): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', 'services/worker/main.ts'], {
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    let child = spawnWorker();
    try {
      // Kill while the worker is mid-stream: only part of the data is in Kafka when the first rows show
      // up, so the kill lands before the end however fast the machine is (a quiet machine drained the
      // whole set before the kill when everything was produced up front); the rest is produced after.
      const cut = Math.ceil(data.records.length * 0.6);
      await produce(iso, data.records.slice(0, cut));
      const seen = await waitFor(
        async () => {
          const [r] = await rows<{ n: number }>(iso.ch, `SELECT count() AS n FROM ${iso.database}.samples`);
          return Math.max(0, Number(r!.n));
        },
        60_000,
        20,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(seen).toBeLessThan(data.samples);
      await produce(iso, data.records.slice(cut));
      child = spawnWorker();
      await complete(iso);
      await new Promise((r) => setTimeout(r, 1500));
      const snap = await snapshotTables(iso.ch, iso.database);
      expect(snap).toEqual(reference);
    } finally {
      child.kill('SIGKILL');
      await iso.cleanup();
    }
  }, 180_000);

  test('ClickHouse unreachable for a while: the worker waits, nothing lost, lag drains', async () => {
    const proxy = await tcpProxy(8123);
    const iso = await isolate({ env: { CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}` } });
    const w = await startWorkerRuntime(iso.config, computeActivity, logger);
    try {
      await produce(iso, data.records.slice(0, 20));
      await waitFor(async () => (await cleanedCount(iso.ch, iso.database)).rows > 0);
      await proxy.cut();
      await produce(iso, data.records.slice(20));
      await new Promise((r) => setTimeout(r, 8000));
      const retriesWhileDown = await w.worker.metrics.sinkRetries.get();
      expect(retriesWhileDown.values.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
      await proxy.restore();
      await complete(iso);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await snapshotTables(iso.ch, iso.database)).toEqual(reference);
      await waitFor(async () => w.source.offsetLag === 0, 20_000);
    } finally {
      await proxy.restore().catch(() => {});
      await w.close();
      await proxy.close();
      await iso.cleanup();
    }
  }, 180_000);

  test('two workers in one group with a forced rebalance give identical tables', async () => {
    const iso = await isolate({ partitions: 6, env: { WORKER_BATCH_ROWS: '1500' } });
    const a = await startWorkerRuntime(iso.config, computeActivity, logger);
    let b: RunningWorker | undefined;
    try {
      await produce(iso, data.records.slice(0, Math.floor(data.records.length / 3)));
      b = await startWorkerRuntime(iso.config, computeActivity, logger); // join: rebalance
      await produce(
        iso,
        data.records.slice(Math.floor(data.records.length / 3), Math.floor((2 * data.records.length) / 3)),
      );
      await new Promise((r) => setTimeout(r, 1000));
      await b.close(); // leave: rebalance again
      b = undefined;
      await produce(iso, data.records.slice(Math.floor((2 * data.records.length) / 3)));
      await complete(iso);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await snapshotTables(iso.ch, iso.database)).toEqual(reference);
    } finally {
      await b?.close();
      await a.close();
      await iso.cleanup();
    }
  }, 180_000);
});
