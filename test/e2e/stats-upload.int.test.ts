// Stats after an upload (issue 15), on the real stack: POST /v1/activities -> worker -> activities.v1 ->
// the API's stats invalidator. Read the stats (and cache them), upload, wait until the activity's event was
// processed, and the stats show the new activity: never the cached figure from before.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { StatsInvalidator } from '../../services/api/stats-cache.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { type ApiStack, type SignedIn, startApiStack } from '../support/api-stack.js';
import { type Isolated, isolate, rid, waitFor } from '../support/worker.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

let iso: Isolated;
let s: ApiStack;
let worker: RunningWorker | undefined;
let invalidator: StatsInvalidator | undefined;
let athlete: SignedIn;

beforeAll(async () => {
  iso = await isolate({ env: { DATABASE_URL } });
  s = await startApiStack({ samplesTopic: iso.topic, database: iso.database });
  athlete = await s.user();
  invalidator = new StatsInvalidator(iso.kafka, s.redis, {
    topic: iso.activities,
    groupId: `stats-${iso.id}`,
    registry: createMetricsRegistry('stats_e2e'),
  });
  await invalidator.start();
  worker = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
}, 60_000);

afterAll(async () => {
  await invalidator?.stop();
  await worker?.close();
  await s?.close();
  await iso?.cleanup();
});

const stats = async () => {
  const r = await s.app.inject({ method: 'GET', url: '/v1/users/me/stats', headers: athlete.auth });
  expect(r.statusCode).toBe(200);
  return r.json();
};

describe('stats after an upload', () => {
  test('the figure after the processed event is the new one', async () => {
    expect((await stats()).periods.lifetime.overall.activities).toBe(0); // now cached
    const { samples } = generateSession({
      sport: 'running',
      seed: 21,
      durationS: 1200,
      hrSpikeProbability: 0,
    });
    const up = await s.app.inject({
      method: 'POST',
      url: '/v1/activities',
      headers: { ...athlete.auth, 'idempotency-key': `stats-${rid()}` },
      payload: {
        type: 'running',
        start_time: new Date(samples[0]!.ts).toISOString(),
        data_points: samples.map((p) => ({
          time: new Date(p.ts).toISOString(),
          lat: p.lat,
          lng: p.lon,
          altitude: p.alt,
          heart_rate: p.hr,
        })),
      },
    });
    expect(up.statusCode, up.body).toBe(202);
    const id = up.json().activity_id as string;
    const ready = await waitFor(async () => {
      const r = await s.app.inject({ method: 'GET', url: `/v1/activities/${id}`, headers: athlete.auth });
      return r.statusCode === 200 && r.json().status === 'ready' ? r.json() : null;
    }, 60_000);
    await waitFor(async () => ((await invalidator!.bumped()) > 0 ? true : null), 30_000);
    const after = await stats();
    expect(after.periods.lifetime.overall.activities).toBe(1);
    expect(after.periods.lifetime.overall.distance_m).toBeCloseTo(ready.summary.distance_m, 6);
    expect(after.periods.lifetime.by_sport.map((x: { sport: string }) => x.sport)).toEqual(['running']);
  }, 120_000);
});
