import { expect, test } from 'vitest';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { createWorkerMetrics } from '../../services/worker/worker-metrics.js';
import { finaliseInputsIn, finaliseMemoryFor } from './run.js';

test("finalise inputs are read from a worker's own /metrics text (its default labels included)", async () => {
  const registry = createMetricsRegistry('worker');
  const m = createWorkerMetrics(registry);
  expect(finaliseInputsIn(await registry.metrics())).toEqual({});
  m.finaliseInputs.inc({ source: 'memory' }, 9_990);
  m.finaliseInputs.inc({ source: 'clickhouse' }, 10);
  expect(finaliseInputsIn(await registry.metrics())).toEqual({ memory: 9_990, clickhouse: 10 });
});

test('session-image memory is sized from the load, per worker, at least 256 MiB', () => {
  expect(finaliseMemoryFor(100, 60, 1)).toBe(256);
  // 10k workouts x 600 s x 55 B x 1.25 = 412.5 MB = 393.4 MiB, + 64
  expect(finaliseMemoryFor(10_000, 600, 1)).toBe(458);
  expect(finaliseMemoryFor(10_000, 600, 2)).toBe(261);
});
