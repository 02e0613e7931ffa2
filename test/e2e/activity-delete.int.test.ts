// DELETE /v1/activities/{id} (issue 13) on the real stack: an upload goes through the worker, the API's stats
// invalidator and the engagement service (on the shared PostgreSQL, reading the worker's private activities
// topic, where the API's ActivityDeleted goes too). The deletion takes the activity out of the list, the
// detail, the stats, the goal's progress and the streaks; repeating it answers 204; a late sample of the
// deleted activity's session does not bring it back.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { StatsInvalidator } from '../../services/api/stats-cache.js';
import { parseEnv } from '../../services/common/config.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { type RunningEngagement, startEngagement } from '../../services/engagement/app.js';
import { checkEngagementConfig, engagementEnv } from '../../services/engagement/config.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { type ApiStack, type SignedIn, startApiStack } from '../support/api-stack.js';
import {
  batchOf,
  controlOf,
  type Isolated,
  isolate,
  produce,
  rid,
  rows,
  waitFor,
} from '../support/worker.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

let iso: Isolated;
let s: ApiStack;
let worker: RunningWorker | undefined;
let invalidator: StatsInvalidator | undefined;
let engagement: RunningEngagement | undefined;
let goalsTopic: string;
let athlete: SignedIn;

beforeAll(async () => {
  iso = await isolate({ env: { DATABASE_URL } });
  s = await startApiStack({
    samplesTopic: iso.topic,
    activitiesTopic: iso.activities,
    database: iso.database,
  });
  athlete = await s.user();
  invalidator = new StatsInvalidator(iso.kafka, s.redis, {
    topic: iso.activities,
    groupId: `stats-${iso.id}`,
    registry: createMetricsRegistry('stats_delete_e2e'),
  });
  await invalidator.start();
  goalsTopic = `wtest.goals.${iso.id}`;
  const admin = iso.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: goalsTopic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  engagement = await startEngagement(
    checkEngagementConfig(
      parseEnv(engagementEnv, {
        DATABASE_URL,
        TOPIC_ACTIVITIES: iso.activities,
        TOPIC_GOALS: goalsTopic,
        ENGAGEMENT_GROUP_ID: `edel-${iso.id}`,
        ENGAGEMENT_TRANSACTIONAL_ID: `edel-${iso.id}`,
        ENGAGEMENT_OPS_PORT: '0',
        ENGAGEMENT_OUTBOX_POLL_MS: '200',
        ENGAGEMENT_SWEEP_INTERVAL_MS: '500',
        LOG_LEVEL: 'warn',
      }),
    ),
    createLogger('engagement-test', 'warn'),
  );
  worker = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
}, 90_000);

afterAll(async () => {
  await engagement?.close();
  await invalidator?.stop();
  await worker?.close();
  await s?.close();
  const admin = new Kafka({ brokers: iso.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [goalsTopic] }).catch(() => {});
  await admin.disconnect();
  await iso?.cleanup();
});

const as = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  s.app.inject({ method, url, headers: athlete.auth, ...(payload ? { payload } : {}) });

describe('DELETE /v1/activities/{id}', () => {
  test('the activity leaves the list, the detail, the stats, the goal and the streaks; a late sample does not bring it back', async () => {
    const goal = await as('POST', '/v1/goals', {
      goal_type: 'distance',
      period: 'week',
      target_value: 100_000,
    });
    expect(goal.statusCode, goal.body).toBe(201);
    const goalId = goal.json().id as string;

    // a run that started a minute ago: today and this week in every time zone the goal may use
    const now = Date.now() - 60_000;
    const { samples } = generateSession({
      sport: 'running',
      seed: 31,
      durationS: 600,
      hrSpikeProbability: 0,
    });
    const shift = now - 600_000 - samples[0]!.ts;
    const points = samples.map((p, i) => ({ ...p, ts: p.ts + shift, seq: i }));
    const up = await as('POST', '/v1/activities', {
      type: 'running',
      start_time: new Date(points[0]!.ts).toISOString(),
      client_activity_id: `del-${rid()}`,
      data_points: points.map((p) => ({
        time: new Date(p.ts).toISOString(),
        lat: p.lat,
        lng: p.lon,
        altitude: p.alt,
        heart_rate: p.hr,
      })),
    });
    expect(up.statusCode, up.body).toBe(202);
    const id = up.json().activity_id as string;
    const ready = await waitFor(async () => {
      const r = await as('GET', `/v1/activities/${id}`);
      return r.statusCode === 200 && r.json().status === 'ready' ? r.json() : null;
    }, 60_000);
    const distance = ready.summary.distance_m as number;
    expect(distance).toBeGreaterThan(500);

    // every read model has it
    await waitFor(async () => {
      const g = (await as('GET', `/v1/goals/${goalId}`)).json();
      return g.current_value > 0 ? g : null;
    }, 30_000);
    await waitFor(async () => {
      const st = (await as('GET', '/v1/streaks')).json();
      return st.daily.overall.current?.length === 1 ? st : null;
    }, 30_000);
    await waitFor(async () => ((await invalidator!.bumped()) > 0 ? true : null), 30_000);
    expect((await as('GET', '/v1/users/me/stats')).json().periods.lifetime.overall.activities).toBe(1); // cached
    expect(
      (await as('GET', '/v1/activities')).json().items.map((a: { activity_id: string }) => a.activity_id),
    ).toEqual([id]);

    const del = await as('DELETE', `/v1/activities/${id}`);
    expect(del.statusCode, del.body).toBe(204);

    // at once: list, detail, stats (the cache's generation was bumped by the deletion itself)
    expect((await as('GET', '/v1/activities')).json().items).toEqual([]);
    expect((await as('GET', `/v1/activities/${id}`)).statusCode).toBe(404);
    const stats = (await as('GET', '/v1/users/me/stats')).json();
    expect(stats.periods.lifetime.overall.activities).toBe(0);
    expect(stats.periods.lifetime.overall.distance_m).toBe(0);
    // the samples and every other row of the session are gone from ClickHouse too
    const session = ready.summary.session_id as string;
    const [left] = await rows<{ n: number }>(
      iso.ch,
      `SELECT (SELECT count() FROM ${iso.database}.samples WHERE session_id = '${session}')
            + (SELECT count() FROM ${iso.database}.activities WHERE activity_id = '${id}')
            + (SELECT count() FROM ${iso.database}.session_controls WHERE session_id = '${session}') AS n`,
    );
    expect(Number(left!.n)).toBe(0);
    // the engagement service recomputes the goal and the streaks from ActivityDeleted
    await waitFor(async () => {
      const g = (await as('GET', `/v1/goals/${goalId}`)).json();
      return g.current_value === 0 ? g : null;
    }, 30_000);
    await waitFor(async () => {
      const st = (await as('GET', '/v1/streaks')).json();
      return st.daily.overall.current === null ? st : null;
    }, 30_000);

    // repeating it is harmless: 204 again, and still nothing
    expect((await as('DELETE', `/v1/activities/${id}`)).statusCode).toBe(204);
    // a stranger learns nothing of it
    const other = await s.user();
    const stranger = await s.app.inject({
      method: 'DELETE',
      url: `/v1/activities/${id}`,
      headers: other.auth,
    });
    expect(stranger.statusCode).toBe(404);

    // a late sample (and an end) of the deleted activity's session: dropped by the worker, no activity again
    const dropped = () => worker!.worker.metrics.deletedRecords.get().then((m) => m.values[0]?.value ?? 0);
    const before = await dropped();
    // ... nor in the live view, also once the ended session's hash has expired (deleted here)
    await s.redis.del(liveKeys.hash(id));
    const ids = { userId: athlete.id, deviceId: ready.summary.device_id as string, sessionId: session };
    const lateTs = points.at(-1)!.ts + 1000;
    await produce(iso, [
      {
        name: 'TelemetryBatch',
        value: { ...batchOf(ids, [{ ...points.at(-1)!, ts: lateTs, seq: 100_000 }]), source: 'upload' },
      },
      { name: 'SessionControl', value: controlOf(ids, 'end', lateTs) },
    ]);
    await waitFor(async () => ((await dropped()) >= before + 2 ? true : null), 30_000);
    // a later upload of the athlete goes through (so the worker has flushed past the late records)
    const marker = await as('POST', '/v1/activities', {
      type: 'strength',
      start_time: new Date(now).toISOString(),
      client_activity_id: `after-${rid()}`,
      sets: [{ exercise: 'squat', reps: 5, weight_kg: 60 }],
    });
    expect(marker.statusCode).toBe(202);
    await waitFor(async () => {
      const r = await as('GET', `/v1/activities/${marker.json().activity_id}`);
      return r.json().status === 'ready' ? true : null;
    }, 60_000);
    const [again] = await rows<{ n: number }>(
      iso.ch,
      `SELECT (SELECT count() FROM ${iso.database}.samples WHERE session_id = '${session}')
            + (SELECT count() FROM ${iso.database}.activities WHERE activity_id = '${id}') AS n`,
    );
    expect(Number(again!.n)).toBe(0);
    expect(await s.redis.exists(liveKeys.hash(id))).toBe(0);
    expect(await s.redis.zscore(liveKeys.active(athlete.id), id)).toBeNull();
    expect((await as('GET', `/v1/activities/${id}`)).statusCode).toBe(404);
    expect(
      (await as('GET', '/v1/activities')).json().items.map((a: { activity_id: string }) => a.activity_id),
    ).toEqual([marker.json().activity_id]);
  }, 240_000);
});
