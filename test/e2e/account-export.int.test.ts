// The account export (issue 13) on the real stack: GET /v1/users/me/export streams a zip of everything of the
// caller. Two athletes upload workouts that a worker of this test computes; the zip of one opens, holds each
// of their activities as FIT and GPX that parse back to the stored figures, their profile, devices and goals,
// and nothing of the other athlete.
import { randomUUID } from 'node:crypto';
import { Decoder, Stream } from '@garmin/fitsdk';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import yauzl from 'yauzl';
import { generateSession } from '../../bench/synth/index.js';
import { parseFit, parseGpx } from '../../pipelines/import/index.js';
import type { Sample } from '../../schemas/types.js';
import { createLogger } from '../../services/common/logger.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { type ApiStack, type SignedIn, startApiStack } from '../support/api-stack.js';
import { type Isolated, isolate, rid, waitFor } from '../support/worker.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

let iso: Isolated;
let s: ApiStack;
let worker: RunningWorker | undefined;

const iso8601 = (ms: number) => new Date(ms).toISOString();
function upload(who: SignedIn, seed: number, name: string) {
  const { samples } = generateSession({ sport: 'running', seed, durationS: 600, hrSpikeProbability: 0 });
  return s.app.inject({
    method: 'POST',
    url: '/v1/activities',
    headers: { ...who.auth, 'idempotency-key': `export-${rid()}` },
    payload: {
      type: 'running',
      start_time: iso8601(samples[0]!.ts),
      name,
      data_points: samples.map((p: Sample) => ({
        time: iso8601(p.ts),
        lat: p.lat,
        lng: p.lon,
        altitude: p.alt,
        heart_rate: p.hr,
        cadence: p.cadence,
        speed: p.speed,
      })),
    },
  });
}
const ready = (who: SignedIn, id: string) =>
  waitFor(async () => {
    const r = await s.app.inject({ method: 'GET', url: `/v1/activities/${id}`, headers: who.auth });
    return r.statusCode === 200 && r.json().status === 'ready' ? r.json() : null;
  }, 60_000);

/** Every entry of a zip: name → bytes. */
function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out = new Map<string, Buffer>();
      zip.on('entry', (e: yauzl.Entry) => {
        zip.openReadStream(e, (err2, rs) => {
          if (err2 || !rs) return reject(err2);
          const chunks: Buffer[] = [];
          rs.on('data', (c: Buffer) => chunks.push(c));
          rs.on('end', () => {
            out.set(e.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

beforeAll(async () => {
  iso = await isolate({ env: { DATABASE_URL } });
  s = await startApiStack({ samplesTopic: iso.topic, database: iso.database });
  worker = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await s?.close();
  await iso?.cleanup();
});

describe('GET /v1/users/me/export', () => {
  test("a zip of the caller's profile, devices, goals and every activity as FIT and GPX, nothing of another athlete", async () => {
    const a = await s.user({ name: 'Ada Export' });
    const b = await s.user({ name: 'Bob Stranger' });
    const mine = [
      (await upload(a, 31, 'Ada morning')).json().activity_id as string,
      (await upload(a, 32, 'Ada evening')).json().activity_id as string,
    ];
    const theirs = (await upload(b, 33, 'Bob secret run')).json().activity_id as string;
    const stored = new Map<
      string,
      { summary: { distance_m: number; moving_s: number; elev_gain_m: number } }
    >();
    for (const id of mine) stored.set(id, await ready(a, id));
    await ready(b, theirs);
    const dev = await s.app.inject({
      method: 'POST',
      url: '/v1/devices',
      headers: a.auth,
      payload: { name: 'Ada watch' },
    });
    expect(dev.statusCode).toBe(201);
    const goal = await s.app.inject({
      method: 'POST',
      url: '/v1/goals',
      headers: a.auth,
      payload: { goal_type: 'distance', period: 'week', target_value: 5000 },
    });
    expect(goal.statusCode).toBe(201);

    const r = await s.app.inject({ method: 'GET', url: '/v1/users/me/export', headers: a.auth });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="fitstream-export-${a.id}.zip"`);
    const files = await unzip(r.rawPayload);
    expect([...files.keys()].sort()).toEqual(
      [
        'activities.json',
        ...mine.flatMap((id) => [`activities/${id}.fit`, `activities/${id}.gpx`]),
        'coach-grants.json',
        'devices.json',
        'goals.json',
        'groups.json',
        'profile.json',
        'streaks.json',
      ].sort(),
    );
    const json = (name: string) => JSON.parse(files.get(name)!.toString('utf8'));
    expect(json('profile.json')).toMatchObject({ id: a.id, email: a.email, name: 'Ada Export' });
    expect(json('devices.json').items.map((d: { name: string }) => d.name)).toEqual(['Ada watch']);
    expect(json('goals.json').items).toHaveLength(1);
    const listed = json('activities.json').items as { activity_id: string; name: string; summary: unknown }[];
    expect(listed.map((x) => x.activity_id).sort()).toEqual([...mine].sort());
    expect(listed.map((x) => x.name).sort()).toEqual(['Ada evening', 'Ada morning']);

    for (const id of mine) {
      const fit = new Uint8Array(files.get(`activities/${id}.fit`)!);
      expect(new Decoder(Stream.fromByteArray(Array.from(fit))).checkIntegrity()).toBe(true);
      const want = stored.get(id)!.summary;
      for (const parsed of [parseFit(fit), parseGpx(new Uint8Array(files.get(`activities/${id}.gpx`)!))]) {
        const again = computeActivity({
          userId: a.id,
          deviceId: 'import',
          sessionId: id,
          sport: 'running',
          samples: parsed.activities[0]!.samples,
          controls: [],
          sets: [],
          athlete: {},
        }).summary;
        expect(Math.abs(again.distanceM - want.distance_m)).toBeLessThan(0.05);
        expect(again.movingS).toBeCloseTo(want.moving_s, 1);
        expect(Math.abs(again.elevGainM - want.elev_gain_m)).toBeLessThanOrEqual(0.25);
      }
    }
    // nothing of the other athlete anywhere in the zip
    for (const [name, bytes] of files) {
      const text = bytes.toString('latin1');
      expect(text.includes(b.id), name).toBe(false);
      expect(text.includes(theirs), name).toBe(false);
      expect(text.includes('Bob'), name).toBe(false);
    }
    // and theirs holds only theirs
    const other = await unzip(
      (await s.app.inject({ method: 'GET', url: '/v1/users/me/export', headers: b.auth })).rawPayload,
    );
    expect([...other.keys()].filter((k) => k.startsWith('activities/'))).toEqual([
      `activities/${theirs}.fit`,
      `activities/${theirs}.gpx`,
    ]);
    // anonymous: 401
    expect((await s.app.inject({ method: 'GET', url: '/v1/users/me/export' })).statusCode).toBe(401);
  }, 120_000);
});

describe('POST /v1/users/me/exports: the same zip as a job', () => {
  test('written in the background and downloaded when done; the same entries as the streamed one; its athlete only', async () => {
    const a = await s.user({ name: 'Ada Job' });
    const b = await s.user({ name: 'Bob Job' });
    const mine = (await upload(a, 41, 'Ada job run')).json().activity_id as string;
    await ready(a, mine);
    // concurrent starts while one is pending are that one
    const started = await Promise.all(
      [1, 2, 3].map(() => s.app.inject({ method: 'POST', url: '/v1/users/me/exports', headers: a.auth })),
    );
    for (const r of started) expect(r.statusCode, r.body).toBe(202);
    const ids = new Set(started.map((r) => r.json().export_id as string));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const done = await waitFor(async () => {
      const r = await s.app.inject({ method: 'GET', url: `/v1/users/me/exports/${id}`, headers: a.auth });
      expect(r.statusCode, r.body).toBe(200);
      return r.json().status === 'done' ? r.json() : null;
    }, 60_000);
    expect(done).toMatchObject({
      export_id: id,
      reason: null,
      download: `/v1/users/me/exports/${id}/download`,
    });
    expect(done.bytes).toBeGreaterThan(1000);

    const dl = await s.app.inject({ method: 'GET', url: done.download, headers: a.auth });
    expect(dl.statusCode, dl.body).toBe(200);
    expect(dl.headers['content-type']).toBe('application/zip');
    expect(dl.rawPayload.length).toBe(done.bytes);
    const files = await unzip(dl.rawPayload);
    const streamed = await unzip(
      (await s.app.inject({ method: 'GET', url: '/v1/users/me/export', headers: a.auth })).rawPayload,
    );
    expect([...files.keys()].sort()).toEqual([...streamed.keys()].sort());
    expect(files.has(`activities/${mine}.fit`)).toBe(true);
    for (const name of ['profile.json', 'devices.json', 'goals.json', 'groups.json'])
      expect(JSON.parse(files.get(name)!.toString()), name).toEqual(
        JSON.parse(streamed.get(name)!.toString()),
      );
    expect(JSON.parse(files.get('profile.json')!.toString())).toMatchObject({ id: a.id, name: 'Ada Job' });

    // another athlete: as if it were not there
    for (const url of [`/v1/users/me/exports/${id}`, `/v1/users/me/exports/${id}/download`]) {
      const r = await s.app.inject({ method: 'GET', url, headers: b.auth });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().code).toBe('not_found');
    }
    // an export not done yet (on a queue no runner takes): 409 export_not_ready, with its status
    const pending = randomUUID();
    await s.pool.query(
      "INSERT INTO account_exports (id, user_id, object_key, queue) VALUES ($1, $2, 'none', 'no-runner')",
      [pending, a.id],
    );
    const early = await s.app.inject({
      method: 'GET',
      url: `/v1/users/me/exports/${pending}/download`,
      headers: a.auth,
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('export_not_ready');
    expect(
      (await s.app.inject({ method: 'GET', url: `/v1/users/me/exports/${pending}`, headers: a.auth })).json(),
    ).toMatchObject({ status: 'queued', download: null, bytes: null, expires_at: null });

    // a week after it finished the export is removed, its zip first: then 404 as for what is not there
    expect(Date.parse(done.expires_at) - Date.parse(done.finished_at)).toBe(7 * 24 * 3600 * 1000);
    const key = s.exportStore.keyFor(a.id, id!);
    expect((await s.exportStore.get(key)).bytes).toBe(done.bytes);
    await s.pool.query("UPDATE account_exports SET finished_at = now() - interval '8 days' WHERE id = $1", [
      id,
    ]);
    await waitFor(async () => {
      const r = await s.app.inject({ method: 'GET', url: `/v1/users/me/exports/${id}`, headers: a.auth });
      return r.statusCode === 404 ? true : null;
    }, 30_000);
    await expect(s.exportStore.get(key)).rejects.toThrow();
  }, 120_000);
});
