import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { activityIdFor, computeActivity } from '../../pipelines/index.js';
import { createLogger } from '../../services/common/logger.js';
import { Sessions } from '../../services/worker/sessions.js';
import { ClickHouseSink } from '../../services/worker/sink-clickhouse.js';
import { ClickHouseSessionStore } from '../../services/worker/store-clickhouse.js';
import { type ApiStack, startApiStack } from '../support/api-stack.js';
import { batchOf, controlOf } from '../support/worker.js';

// The worker writes an activity's streams row at finalisation; GET /v1/activities/{id}/streams reads it
// back and gives the cleaned series the worker computed, sample for sample.
describe('GET /v1/activities/{id}/streams', () => {
  let s: ApiStack;
  beforeAll(async () => {
    s = await startApiStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  test('the streams of a finalised session, raw and cleaned, at full and low resolution', async () => {
    const athlete = await s.user();
    const ids = { userId: athlete.id, deviceId: `d-${s.run}`, sessionId: `s-${s.run}` };
    const { samples } = generateSession({ sport: 'running', seed: 21, durationS: 600 });
    let offset = 0;
    const raw = () => ({
      topic: 't',
      partition: 0,
      offset: String(offset++),
      key: null,
      value: null,
      timestamp: 0,
    });
    const records = [
      { raw: raw(), decoded: { kind: 'batch' as const, batch: batchOf(ids, samples) } },
      {
        raw: raw(),
        decoded: { kind: 'control' as const, control: controlOf(ids, 'end', samples.at(-1)!.ts) },
      },
    ];
    await new ClickHouseSink(s.clickhouse, s.database).writeBatch({ raw: [], records });
    const store = new ClickHouseSessionStore(s.clickhouse, s.database);
    const sessions = new Sessions(
      store,
      { publishActivities: async () => {} },
      computeActivity,
      { timeoutMs: 60_000 },
      createLogger('streams-test', 'error'),
    );
    await sessions.afterFlush({ raw: [], records });
    expect(sessions.stats.created).toBe(1);
    const id = activityIdFor(ids.userId, ids.deviceId, ids.sessionId);

    const expected = computeActivity({
      ...ids,
      sport: 'running',
      samples,
      controls: [],
      sets: [],
      athlete: {},
    });
    const clean = expected.samples;
    const res = await s.app.inject({ url: `/v1/activities/${id}/streams`, headers: athlete.auth });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.original_size).toBe(clean.length);
    expect(body.size).toBe(clean.length);
    const st = body.streams;
    expect(Object.keys(st).sort()).toEqual(
      [
        'altitude',
        'cadence',
        'distance',
        'heartrate',
        'latlng',
        'moving',
        'time',
        'velocity_smooth',
        'watts',
      ].sort(),
    );
    expect(st.time.data[0]).toBe(0);
    expect(st.time.data.at(-1)).toBeCloseTo((clean.ts[clean.length - 1]! - clean.ts[0]!) / 1000, 3);
    for (const i of [0, 100, clean.length - 1]) {
      expect(st.latlng.data[i][0]).toBeCloseTo(clean.latSmooth[i]!, 9);
      expect(st.latlng.raw[i][0]).toBeCloseTo(clean.lat[i]!, 9);
      expect(st.distance.data[i]).toBeCloseTo(clean.distance[i]!, 1);
      expect(st.heartrate.data[i]).toBe(clean.hr[i] === 0 ? null : clean.hr[i]);
    }
    // the last cumulative distance is the activity's distance
    expect(st.distance.data.at(-1)).toBeCloseTo(expected.summary.distanceM, 0);

    const low = await s.app.inject({
      url: `/v1/activities/${id}/streams?keys=time,heartrate&resolution=low`,
      headers: athlete.auth,
    });
    expect(low.statusCode).toBe(200);
    expect(low.json()).toMatchObject({ resolution: 'low', size: 100, original_size: clean.length });
    expect(Object.keys(low.json().streams).sort()).toEqual(['heartrate', 'time']);

    const bad = await s.app.inject({ url: `/v1/activities/${id}/streams?keys=temp`, headers: athlete.auth });
    expect(bad.statusCode).toBe(400);
    const stranger = await s.user();
    const hidden = await s.app.inject({ url: `/v1/activities/${id}/streams`, headers: stranger.auth });
    expect(hidden.statusCode).toBe(404);
  });
});
