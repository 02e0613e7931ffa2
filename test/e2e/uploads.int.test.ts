// One-shot uploads (issue 13) through the API and the worker on the real stack: POST /v1/activities sends
// the workout to a private samples topic that a worker of this test reads, into the ClickHouse database the
// API reads. The same samples sent as a live session compute the same activity.
import { Decoder, Stream } from '@garmin/fitsdk';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { parseFit, parseGpx, parseTcx, sessionControls } from '../../pipelines/import/index.js';
import type { ActivityCreated, Sample } from '../../schemas/types.js';
import { ConfluentDecoder } from '../../schemas/wire.js';
import { snakeKeys } from '../../services/api/routes/shared.js';
import { UPLOAD_LIMITS } from '../../services/api/uploads.js';
import { createLogger } from '../../services/common/logger.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { type ApiStack, type SignedIn, startApiStack } from '../support/api-stack.js';
import {
  batchOf,
  controlOf,
  type Isolated,
  isolate,
  type Outbound,
  produce,
  rid,
  rows,
  waitFor,
} from '../support/worker.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

let iso: Isolated;
let s: ApiStack;
let worker: RunningWorker | undefined;
let athlete: SignedIn;

const iso8601 = (ms: number) => new Date(ms).toISOString();

/** A recorded upload of `samples` (the fields the upload contract carries). */
function recorded(samples: readonly Sample[], extra: Record<string, unknown> = {}) {
  return {
    type: 'running',
    start_time: iso8601(samples[0]!.ts),
    name: 'Morning run',
    data_points: samples.map((p) => ({
      time: iso8601(p.ts),
      lat: p.lat,
      lng: p.lon,
      altitude: p.alt,
      heart_rate: p.hr,
      cadence: p.cadence,
      power: p.power,
      speed: p.speed,
      distance: p.dist,
    })),
    ...extra,
  };
}

/** Synthetic running samples as an upload can carry them: no accuracy, heart rates in the accepted range. */
function run(seed: number, durationS: number): Sample[] {
  const { samples } = generateSession({ sport: 'running', seed, durationS, hrSpikeProbability: 0 });
  return samples.map((p, i) => ({ ...p, seq: i, acc: null }));
}

const post = (payload: unknown, key: string | undefined, who: SignedIn = athlete) =>
  s.app.inject({
    method: 'POST',
    url: '/v1/activities',
    headers: { ...who.auth, ...(key ? { 'idempotency-key': key } : {}) },
    payload: payload as object,
  });

const get = (id: string, who: SignedIn = athlete) =>
  s.app.inject({ method: 'GET', url: `/v1/activities/${id}`, headers: who.auth });

/** The ActivityCreated events of `activityId` on the worker's activities topic (read from the start). */
async function createdEvents(activityId: string): Promise<ActivityCreated[]> {
  const decoder = new ConfluentDecoder(new SchemaRegistry({ host: iso.config.SCHEMA_REGISTRY_URL }));
  const consumer = iso.kafka.consumer({ groupId: `uploads-events-${rid()}` });
  const got: ActivityCreated[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [iso.activities], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const d = await decoder.decode(message.value!);
      const v = d.value as ActivityCreated;
      if (d.name === 'ActivityCreated' && v.activityId === activityId) got.push(v);
    },
  });
  try {
    await waitFor(async () => got.length > 0, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const ready = (id: string) =>
  waitFor(async () => {
    const r = await get(id);
    return r.statusCode === 200 && r.json().status === 'ready' ? r.json() : null;
  }, 60_000);

beforeAll(async () => {
  iso = await isolate({ env: { DATABASE_URL } });
  s = await startApiStack({ samplesTopic: iso.topic, database: iso.database });
  athlete = await s.user();
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await s?.close();
  await iso?.cleanup();
});

describe('POST /v1/activities', () => {
  // Posted before the worker runs, so the first GET can only see it processing.
  let early: { id: string; samples: Sample[] };
  let strengthId: string;

  test('answers 202 with the activity id at once; GET shows processing until the worker stored it', async () => {
    const samples = run(11, 900);
    const r = await post(recorded(samples), `run-${rid()}`);
    expect(r.statusCode, r.body).toBe(202);
    const body = r.json();
    expect(body.status).toBe('processing');
    expect(body.activity_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    early = { id: body.activity_id, samples };

    const sets = [
      { exercise: 'squat', reps: 5, weight_kg: 100, duration_s: 40, rest_s: 120 },
      { exercise: 'squat', reps: 5, weight_kg: 100, duration_s: 40, rest_s: 120 },
      { exercise: 'pull-up', reps: 8, weight_kg: null, duration_s: 30, rest_s: 90 },
    ];
    const st = await post(
      { type: 'strength', start_time: '2026-11-30T18:00:00+01:00', sets },
      `gym-${rid()}`,
    );
    expect(st.statusCode).toBe(202);
    strengthId = st.json().activity_id;

    const g = await get(early.id);
    expect(g.statusCode).toBe(200);
    expect(g.json()).toMatchObject({
      status: 'processing',
      name: 'Morning run',
      version: null,
      summary: null,
    });
    // another athlete does not learn that it exists
    const other = await s.user();
    expect((await get(early.id, other)).statusCode).toBe(404);

    worker = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
  }, 60_000);

  test('an uploaded workout ends as the activity the same samples give when sent live', async () => {
    const up = await ready(early.id);
    expect(up.summary.activity_id).toBe(early.id);
    expect(up.summary.user_id).toBe(athlete.id);

    const ids = { userId: athlete.id, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const live: Outbound[] = [
      { name: 'SessionControl', value: controlOf(ids, 'start', early.samples[0]!.ts) },
    ];
    for (let i = 0; i < early.samples.length; i += 30)
      live.push({ name: 'TelemetryBatch', value: batchOf(ids, early.samples.slice(i, i + 30)) });
    live.push({ name: 'SessionControl', value: controlOf(ids, 'end', early.samples.at(-1)!.ts) });
    await produce(iso, live);
    const [row] = await waitFor(async () => {
      const r = await rows<{ summary: string }>(
        iso.ch,
        `SELECT summary FROM ${iso.database}.activities FINAL WHERE session_id = '${ids.sessionId}'`,
      );
      return r.length > 0 ? r : null;
    }, 60_000);
    const liveSummary = snakeKeys(JSON.parse(row!.summary)) as Record<string, unknown>;
    const strip = ({ activity_id, device_id, session_id, ...rest }: Record<string, unknown>) => rest;
    expect(strip(up.summary)).toEqual(strip(liveSummary));
    expect(up.summary.distance_m).toBeGreaterThan(1000);
    expect(up.summary.sample_count).toBe(early.samples.length);
  }, 90_000);

  test('a strength entry becomes an activity through the same roll-up', async () => {
    const a = await ready(strengthId);
    expect(a.summary.sport).toBe('strength');
    expect(a.summary.strength.total_reps).toBe(18);
    expect(a.summary.strength.total_volume_kg).toBe(1000);
    // 18:00+01:00; three sets of 40, 40 and 30 s with 120 s rests between
    expect(a.summary.start_ts).toBe(Date.parse('2026-11-30T17:00:00Z'));
    expect(a.summary.elapsed_s).toBe(40 + 120 + 40 + 120 + 30);
  }, 90_000);

  test('a manual entry becomes an activity of its figures through the one path, and counts in the stats', async () => {
    const hiker = await s.user();
    const entry = {
      type: 'hiking',
      start_time: '2026-11-28T09:30:00+01:00',
      duration_s: 5400,
      distance_m: 12_000,
      elevation_gain_m: 650,
      name: 'Uetliberg',
      notes: 'logged by hand',
    };
    const r = await post(entry, `hike-${rid()}`, hiker);
    expect(r.statusCode, r.body).toBe(202);
    expect(r.json().status).toBe('processing');
    const id = r.json().activity_id as string;
    const a = await waitFor(async () => {
      const g = await get(id, hiker);
      return g.statusCode === 200 && g.json().status === 'ready' ? g.json() : null;
    }, 60_000);
    expect([a.name, a.notes]).toEqual(['Uetliberg', 'logged by hand']);
    expect(a.summary).toMatchObject({
      activity_id: id,
      user_id: hiker.id,
      sport: 'hiking',
      start_ts: Date.parse('2026-11-28T08:30:00Z'),
      end_ts: Date.parse('2026-11-28T10:00:00Z'),
      elapsed_s: 5400,
      moving_s: 5400,
      distance_m: 12_000,
      elev_gain_m: 650,
      sample_count: 0,
      calories_method: 'met',
      algorithm_version: expect.any(String),
    });
    expect(a.summary.avg_speed_mps).toBeCloseTo(12_000 / 5400, 9);
    expect(a.summary.calories).toBeGreaterThan(0);
    // versioned like the rest: the algorithm's ordinal, plus its rows (start, entry, end)
    expect(a.version % 1_000_000).toBe(3);
    // ActivityCreated on activities.v1 carries the figures engagement counts (goals, streaks, points)
    const [event] = await createdEvents(id);
    expect(event).toMatchObject({
      userId: hiker.id,
      sport: 'hiking',
      distanceM: 12_000,
      movingS: 5400,
      elapsedS: 5400,
      elevationGainM: 650,
      samples: 0,
      version: a.version,
    });
    // the stats read it as any other activity
    const st = await s.app.inject({ method: 'GET', url: '/v1/users/me/stats', headers: hiker.auth });
    expect(st.statusCode, st.body).toBe(200);
    expect(st.json().periods.lifetime.overall).toMatchObject({
      activities: 1,
      distance_m: 12_000,
      moving_s: 5400,
    });
    expect(st.json().periods.lifetime.by_sport.map((x: { sport: string }) => x.sport)).toEqual(['hiking']);
    // and the list
    const list = await s.app.inject({ method: 'GET', url: '/v1/activities', headers: hiker.auth });
    expect(list.json().items.map((x: { activity_id: string }) => x.activity_id)).toEqual([id]);
  }, 90_000);

  test('a manual entry with stated calories, of a sport without GPS', async () => {
    const r = await post(
      {
        type: 'strength',
        start_time: '2026-11-30T07:00:00Z',
        duration_s: 2700,
        distance_m: 0,
        calories: 310,
      },
      `manual-gym-${rid()}`,
    );
    expect(r.statusCode, r.body).toBe(202);
    const a = await ready(r.json().activity_id);
    expect(a.summary).toMatchObject({
      sport: 'strength',
      elapsed_s: 2700,
      distance_m: 0,
      calories: 310,
      calories_method: 'stated',
      strength: null,
    });
  }, 90_000);

  test('manual and strength retries, also concurrent ones, make one activity; another body under the key is 409', async () => {
    const manual = {
      type: 'cycling',
      start_time: '2026-11-27T16:00:00Z',
      duration_s: 3600,
      distance_m: 30_000,
      calories: 800,
    };
    const strength = {
      type: 'strength',
      start_time: '2026-11-27T18:00:00Z',
      sets: [{ exercise: 'deadlift', reps: 3, weight_kg: 140, duration_s: 20, rest_s: 180 }],
    };
    for (const [body, key] of [
      [manual, `manual-retry-${rid()}`],
      [strength, `strength-retry-${rid()}`],
    ] as const) {
      const answers = await Promise.all(Array.from({ length: 5 }, () => post(body, key)));
      for (const x of answers) expect(x.statusCode, x.body).toBe(202);
      const id = answers[0]!.json().activity_id as string;
      for (const x of answers) expect(x.json()).toEqual({ activity_id: id, status: 'processing' });
      const done = await ready(id);
      const again = await post(body, key);
      expect(again.json()).toEqual({ activity_id: id, status: 'processing' });
      const [n] = await rows<{ activities: number; versions: number }>(
        iso.ch,
        `SELECT uniqExact(activity_id) AS activities, uniqExact(version) AS versions
         FROM ${iso.database}.activities WHERE user_id = '${athlete.id}' AND activity_id = '${id}'`,
      );
      expect([Number(n!.activities), Number(n!.versions)]).toEqual([1, 1]);
      expect(done.version).toBe(Number((await get(id)).json().version));
      const changed = await post(
        'sets' in body ? { ...body, sets: [{ ...body.sets[0], reps: 4 }] } : { ...body, distance_m: 31_000 },
        key,
      );
      expect(changed.statusCode).toBe(409);
      expect(changed.json().code).toBe('idempotency_key_reused');
    }
    // a manual entry's duration is bounded by the span limit
    const long = await post({ ...manual, duration_s: UPLOAD_LIMITS.maxSpanMs / 1000 + 1 }, `long-${rid()}`);
    expect([long.statusCode, long.json().code]).toEqual([422, 'upload_span_too_long']);
  }, 120_000);

  test('concurrent retries with one key give one answer and one activity', async () => {
    const samples = run(12, 300);
    const key = `retry-${rid()}`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(recorded(samples), key)));
    for (const a of answers) expect(a.statusCode).toBe(202);
    const id = answers[0]!.json().activity_id;
    for (const a of answers) expect(a.json()).toEqual({ activity_id: id, status: 'processing' });
    const done = await ready(id);
    // the same key again, after it is stored: the same answer
    const again = await post(recorded(samples), key);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ activity_id: id, status: 'processing' });
    const [n] = await rows<{ activities: number; versions: number }>(
      iso.ch,
      `SELECT uniqExact(activity_id) AS activities, uniqExact(version) AS versions
       FROM ${iso.database}.activities WHERE user_id = '${athlete.id}' AND activity_id = '${id}'`,
    );
    expect(Number(n!.activities)).toBe(1);
    expect(Number(n!.versions)).toBe(1);
    expect(done.summary.sample_count).toBe(samples.length);
    expect(done.summary.duplicate_count).toBe(0);
  }, 90_000);

  test('first requests racing under a fresh key all answer 202, never 500 (the id has a unique index of its own)', async () => {
    // CI once answered 500 here: the claim's insert named only the key's conflict target, so a request
    // meeting its twin's row first in the activity id's unique index failed with 23505
    const strength = {
      type: 'strength',
      start_time: '2026-11-26T07:00:00Z',
      sets: [{ exercise: 'squat', reps: 5, weight_kg: 100, duration_s: 25, rest_s: 120 }],
    };
    const codes = new Map<number, number>();
    for (let round = 0; round < 40; round++) {
      const key = `race-${round}-${rid()}`;
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(strength, key)));
      for (const a of answers) codes.set(a.statusCode, (codes.get(a.statusCode) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ 202: 320 });
  }, 120_000);

  test('a 27 h ultra of 100 000 points is accepted, split into batches and computed whole', async () => {
    const samples = run(15, 99_999);
    const r = await post(recorded(samples), `ultra-${rid()}`);
    expect(r.statusCode, r.body).toBe(202);
    const a = await ready(r.json().activity_id);
    expect(a.summary.sample_count).toBe(100_000);
    expect(a.summary.elapsed_s).toBe(99_999);
    const [n] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${iso.database}.samples_v WHERE session_id = '${a.summary.session_id}'`,
    );
    expect(Number(n!.n)).toBe(100_000);
  }, 180_000);

  test('the key in the body works as the header does; one key is per caller', async () => {
    const samples = run(13, 120);
    const key = `body-${rid()}`;
    const a = await post(recorded(samples, { client_activity_id: key }), undefined);
    const b = await post(recorded(samples), key);
    expect(a.statusCode).toBe(202);
    expect(b.json()).toEqual(a.json());
    const other = await s.user();
    const c = await post(recorded(samples), key, other);
    expect(c.statusCode).toBe(202);
    expect(c.json().activity_id).not.toBe(a.json().activity_id);
  });

  test('PATCH edits name and notes; a retried upload does not undo the edit', async () => {
    const samples = run(16, 120);
    const key = `edit-${rid()}`;
    const body = recorded(samples, { notes: 'easy' });
    const id = (await post(body, key)).json().activity_id;
    const patch = (payload: unknown) =>
      s.app.inject({
        method: 'PATCH',
        url: `/v1/activities/${id}`,
        headers: athlete.auth,
        payload: payload as object,
      });
    const p1 = await patch({ notes: 'legs heavy' });
    expect(p1.statusCode).toBe(200);
    // (type: null while the upload is processing, its sport once it is stored)
    expect(p1.json()).toMatchObject({
      activity_id: id,
      name: 'Morning run',
      notes: 'legs heavy',
      visibility: 'followers',
    });
    expect((await patch({ notes: 'legs heavy' })).json()).toMatchObject(p1.json());
    expect((await post(body, key)).statusCode).toBe(202);
    const a = await ready(id);
    expect([a.name, a.notes]).toEqual(['Morning run', 'legs heavy']);
    expect((await patch({ name: null })).json()).toEqual({
      activity_id: id,
      name: null,
      notes: 'legs heavy',
      visibility: 'followers',
      type: 'running',
    });
    expect((await patch({})).statusCode).toBe(400);
    const other = await s.user();
    const theirs = await s.app.inject({
      method: 'PATCH',
      url: `/v1/activities/${id}`,
      headers: other.auth,
      payload: { name: 'mine now' },
    });
    expect(theirs.statusCode).toBe(404);
    expect((await get(id)).json().name).toBeNull();
  }, 90_000);

  test('PATCH of the type recomputes the activity under that sport, as a higher version', async () => {
    const samples = run(18, 900);
    const asRun = await post(recorded(samples), `retype-${rid()}`);
    const asRide = await post(recorded(samples, { type: 'cycling' }), `ride-${rid()}`);
    const before = await ready(asRun.json().activity_id);
    const ride = await ready(asRide.json().activity_id);
    expect(before.summary.sport).toBe('running');
    const id = before.activity_id as string;
    const patch = (payload: object) =>
      s.app.inject({ method: 'PATCH', url: `/v1/activities/${id}`, headers: athlete.auth, payload });
    const p = await patch({ type: 'cycling' });
    expect(p.statusCode, p.body).toBe(200);
    expect(p.json()).toMatchObject({ activity_id: id, type: 'cycling' });
    const after = await waitFor(async () => {
      const r = (await get(id)).json();
      return r.summary?.sport === 'cycling' ? r : null;
    }, 60_000);
    expect(after.version).toBeGreaterThan(before.version);
    // the same numbers as the same samples uploaded as a ride
    const strip = ({ activity_id, device_id, session_id, ...rest }: Record<string, unknown>) => rest;
    expect(strip(after.summary)).toEqual(strip(ride.summary));
    const [row] = await rows<{ sport: string }>(
      iso.ch,
      `SELECT sport FROM ${iso.database}.activities FINAL WHERE activity_id = '${id}'`,
    );
    expect(row!.sport).toBe('cycling');
    // the same type again changes nothing; a strength session has no other type
    expect((await patch({ type: 'cycling' })).json().type).toBe('cycling');
    const gym = await post(
      { type: 'strength', start_time: '2026-11-30T18:00:00Z', sets: [{ exercise: 'squat', reps: 5 }] },
      `gym-${rid()}`,
    );
    await ready(gym.json().activity_id);
    const no = await s.app.inject({
      method: 'PATCH',
      url: `/v1/activities/${gym.json().activity_id}`,
      headers: athlete.auth,
      payload: { type: 'running' },
    });
    expect(no.statusCode).toBe(409);
    expect(no.json().code).toBe('conflict');
  }, 120_000);

  test('PATCH of the visibility: private hides it from the coach, public shows it to anyone signed in', async () => {
    const coach = await s.user();
    const stranger = await s.user();
    const grant = await s.app.inject({
      method: 'POST',
      url: '/v1/coach-grants',
      headers: athlete.auth,
      payload: { coach_email: coach.email },
    });
    expect(grant.statusCode, grant.body).toBe(201);
    const accept = await s.app.inject({
      method: 'POST',
      url: `/v1/coach-grants/${grant.json().id}/accept`,
      headers: coach.auth,
    });
    expect(accept.statusCode).toBe(200);
    const id = (await ready((await post(recorded(run(19, 120)), `vis-${rid()}`)).json().activity_id))
      .activity_id as string;
    const patch = (visibility: string) =>
      s.app.inject({
        method: 'PATCH',
        url: `/v1/activities/${id}`,
        headers: athlete.auth,
        payload: { visibility },
      });
    const listed = async (who: SignedIn) =>
      (
        await s.app.inject({
          method: 'GET',
          url: `/v1/activities?user_id=${athlete.id}&limit=200`,
          headers: who.auth,
        })
      )
        .json()
        .items.map((a: { activity_id: string }) => a.activity_id)
        .includes(id);
    // followers (the default): the coach sees it, a stranger does not
    expect((await get(id, coach)).statusCode).toBe(200);
    expect((await get(id, stranger)).statusCode).toBe(404);
    expect(await listed(coach)).toBe(true);
    expect((await patch('private')).json().visibility).toBe('private');
    expect((await get(id, coach)).statusCode).toBe(404);
    expect(await listed(coach)).toBe(false);
    expect(await listed(athlete)).toBe(true);
    expect((await get(id)).json().visibility).toBe('private');
    expect((await patch('public')).json().visibility).toBe('public');
    const seen = await get(id, stranger);
    expect(seen.statusCode).toBe(200);
    expect(seen.json().visibility).toBe('public');
    // seen is not changeable: 403 for the stranger now
    const edit = await s.app.inject({
      method: 'PATCH',
      url: `/v1/activities/${id}`,
      headers: stranger.auth,
      payload: { name: 'mine' },
    });
    expect(edit.statusCode).toBe(403);
    expect((await patch('bogus')).statusCode).toBe(400);
  }, 90_000);

  test('the GPX export, imported again, computes the same figures', async () => {
    const samples = run(20, 900).map((p) => ({ ...p, speed: null, dist: null, power: null }));
    const a = await ready((await post(recorded(samples), `gpx-${rid()}`)).json().activity_id);
    const r = await s.app.inject({
      method: 'GET',
      url: `/v1/activities/${a.activity_id}/export?format=gpx`,
      headers: athlete.auth,
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/gpx\+xml/);
    const parsed = parseGpx(new TextEncoder().encode(r.body));
    expect(parsed.activities).toHaveLength(1);
    const back = parsed.activities[0]!.samples;
    expect(back).toHaveLength(samples.length);
    const again = computeActivity({
      userId: athlete.id,
      deviceId: 'import',
      sessionId: 'gpx',
      sport: 'running',
      samples: back,
      controls: [],
      sets: [],
      athlete: {},
    }).summary;
    expect(again.distanceM).toBeCloseTo(a.summary.distance_m, 1);
    expect(again.movingS).toBeCloseTo(a.summary.moving_s, 1);
    expect(again.elapsedS).toBeCloseTo(a.summary.elapsed_s, 1);
    expect(again.elevGainM).toBeCloseTo(a.summary.elev_gain_m, 1);
    expect(again.hr?.avg).toBeCloseTo(a.summary.hr.avg, 1);
    const other = await s.user();
    const theirs = await s.app.inject({
      method: 'GET',
      url: `/v1/activities/${a.activity_id}/export?format=gpx`,
      headers: other.auth,
    });
    expect(theirs.statusCode).toBe(404);
  }, 90_000);

  // TCX and FIT carry laps: the upload has three, and they must come back
  for (const format of ['tcx', 'fit'] as const)
    test(`the ${format.toUpperCase()} export, imported again, computes the same figures and laps`, async () => {
      const samples = run(format === 'tcx' ? 21 : 22, 900);
      const t0 = samples[0]!.ts;
      const laps = [{ start_time: iso8601(t0 + 300_000) }, { start_time: iso8601(t0 + 600_000) }];
      const a = await ready(
        (await post(recorded(samples, { laps }), `${format}-${rid()}`)).json().activity_id,
      );
      expect(a.summary.laps).toHaveLength(3);
      const url = `/v1/activities/${a.activity_id}/export?format=${format}`;
      const r = await s.app.inject({ method: 'GET', url, headers: athlete.auth });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.headers['content-type']).toMatch(
        format === 'tcx' ? /^application\/vnd\.garmin\.tcx\+xml/ : /^application\/vnd\.ant\.fit/,
      );
      expect(r.headers['content-disposition']).toBe(`attachment; filename="${a.activity_id}.${format}"`);
      const bytes = new Uint8Array(r.rawPayload);
      if (format === 'fit') {
        const d = new Decoder(Stream.fromByteArray(Array.from(bytes)));
        expect(d.checkIntegrity()).toBe(true);
        expect(d.read().errors).toEqual([]);
      }
      const parsed = (format === 'tcx' ? parseTcx : parseFit)(bytes);
      expect(parsed.activities).toHaveLength(1);
      const back = parsed.activities[0]!;
      expect(back.sport).toBe('running');
      expect(back.samples).toHaveLength(samples.length);
      expect(back.recorded?.laps).toHaveLength(3);
      const again = computeActivity({
        userId: athlete.id,
        deviceId: 'import',
        sessionId: format,
        sport: 'running',
        samples: back.samples,
        controls: sessionControls(back, {
          deviceId: 'import',
          userId: athlete.id,
          sessionId: format,
          sport: 'running',
          receivedAt: 0,
        }),
        sets: [],
        athlete: {},
      }).summary;
      // FIT holds altitude in 0.2 m steps and positions in semicircles (docs/uploads.md, Export)
      const elevTol = format === 'fit' ? 0.25 : 0.05;
      expect(Math.abs(again.distanceM - a.summary.distance_m)).toBeLessThan(0.05);
      expect(again.movingS).toBeCloseTo(a.summary.moving_s, 1);
      expect(again.elapsedS).toBeCloseTo(a.summary.elapsed_s, 1);
      expect(Math.abs(again.elevGainM - a.summary.elev_gain_m)).toBeLessThanOrEqual(elevTol);
      expect(again.hr?.avg).toBeCloseTo(a.summary.hr.avg, 1);
      expect(again.laps.map((l) => [l.startTs, l.endTs])).toEqual(
        a.summary.laps.map((l: { start_ts: number; end_ts: number }) => [l.start_ts, l.end_ts]),
      );
      // visibility as for the activity's GET: a stranger gets 404
      const other = await s.user();
      expect((await s.app.inject({ method: 'GET', url, headers: other.auth })).statusCode).toBe(404);
    }, 90_000);

  test('the same key with another body is refused with 409', async () => {
    const samples = run(14, 120);
    const key = `changed-${rid()}`;
    expect((await post(recorded(samples), key)).statusCode).toBe(202);
    const r = await post(recorded(samples, { name: 'Evening run' }), key);
    expect(r.statusCode).toBe(409);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json().code).toBe('idempotency_key_reused');
  });
});

describe('POST /v1/activities with Kafka away', () => {
  test('answers 503 with retry-after and marks nothing produced; the retry with the key goes through', async () => {
    const away = await startApiStack({
      samplesTopic: iso.topic,
      database: iso.database,
      kafkaBrokers: ['127.0.0.1:1'],
    });
    try {
      const samples = run(17, 120);
      const key = `outage-${rid()}`;
      const r = await away.app.inject({
        method: 'POST',
        url: '/v1/activities',
        headers: { ...athlete.auth, 'idempotency-key': key },
        payload: recorded(samples),
      });
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBeDefined();
      expect(r.json().code).toBe('dependency_unavailable');
      const { rows: claimed } = await s.pool.query(
        'SELECT produced_at FROM activity_uploads WHERE user_id = $1 AND idempotency_key = $2',
        [athlete.id, key],
      );
      expect(claimed).toEqual([{ produced_at: null }]);
      // the same request once Kafka is back
      const again = await post(recorded(samples), key);
      expect(again.statusCode).toBe(202);
      const a = await ready(again.json().activity_id);
      expect(a.summary.sample_count).toBe(samples.length);
    } finally {
      await away.close();
    }
  }, 90_000);
});

describe('POST /v1/activities refuses', () => {
  const start = Date.parse('2026-11-29T07:00:00Z');
  const point = (ts: number) => ({ time: iso8601(ts), lat: 47.37, lng: 8.54, heart_rate: 140 });
  const code = async (payload: unknown, key: string | undefined = `bad-${rid()}`) => {
    const r = await post(payload, key);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    return [r.statusCode, r.json().code];
  };

  test('an upload without a key', async () => {
    expect(
      await code({ type: 'running', start_time: iso8601(start), data_points: [point(start)] }, ''),
    ).toEqual([400, 'idempotency_key_missing']);
  });

  test('a body over the byte limit', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/activities',
      headers: { ...athlete.auth, 'idempotency-key': `big-${rid()}`, 'content-type': 'application/json' },
      payload: `{"type":"running","notes":"${'x'.repeat(UPLOAD_LIMITS.maxBytes)}"}`,
    });
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('payload_too_large');
  });

  test('more data points than allowed', async () => {
    const n = UPLOAD_LIMITS.maxPoints + 1;
    const data_points = Array.from({ length: n }, (_, i) => ({ time: iso8601(start + i * 500) }));
    expect(await code({ type: 'running', start_time: iso8601(start), data_points })).toEqual([
      413,
      'upload_too_many_points',
    ]);
  }, 60_000);

  test('a span over the time limit', async () => {
    const late = start + UPLOAD_LIMITS.maxSpanMs + 1000;
    expect(
      await code({ type: 'running', start_time: iso8601(start), data_points: [point(start), point(late)] }),
    ).toEqual([422, 'upload_span_too_long']);
  });

  test('times that go back, or come before start_time', async () => {
    expect(
      await code({
        type: 'running',
        start_time: iso8601(start),
        data_points: [point(start), point(start + 2000), point(start + 1000)],
      }),
    ).toEqual([422, 'upload_out_of_order']);
    expect(
      await code({ type: 'running', start_time: iso8601(start), data_points: [point(start - 1000)] }),
    ).toEqual([422, 'upload_out_of_order']);
  });

  test('a point out of range, and a body of no known shape', async () => {
    expect(
      await code({
        type: 'running',
        start_time: iso8601(start),
        data_points: [{ ...point(start), heart_rate: 400 }],
      }),
    ).toEqual([400, 'validation_failed']);
    expect(await code({ type: 'strength', start_time: iso8601(start), data_points: [point(start)] })).toEqual(
      [400, 'validation_failed'],
    );
  });

  test('nothing refused was stored under its key', async () => {
    const { rows: stored } = await s.pool.query(
      `SELECT count(*)::int AS n FROM activity_uploads WHERE user_id = $1 AND idempotency_key LIKE 'bad-%'`,
      [athlete.id],
    );
    expect(stored[0].n).toBe(0);
  });
});
