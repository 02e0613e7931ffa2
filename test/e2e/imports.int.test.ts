// File imports (issue 13) through the API, its runner and the worker on the real stack: POST /v1/imports of a
// zip of real recordings, duplicates and broken files; each file's result; the activities equal the same
// points sent as a live session; an API stopped mid-import is resumed by another with no duplicate.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ImportedActivity,
  parseActivityFile,
  sessionControls,
  writeGpx,
} from '../../pipelines/import/index.js';
import type { Sport } from '../../schemas/vocabulary.js';
import { importFileChannel } from '../../services/api/import-runner.js';
import { snakeKeys } from '../../services/api/routes/shared.js';
import { createLogger } from '../../services/common/logger.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { type ApiStack, type SignedIn, startApiStack, TEST_PASSWORD } from '../support/api-stack.js';
import { fixture } from '../support/import-fixtures.js';
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
import { zipOf } from '../support/zips.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

let iso: Isolated;
let s: ApiStack;
let worker: RunningWorker;
let athlete: SignedIn;

beforeAll(async () => {
  iso = await isolate({ env: { DATABASE_URL } });
  s = await startApiStack({ samplesTopic: iso.topic, database: iso.database, imports: { run: true } });
  athlete = await s.user();
  worker = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await s?.close();
  await iso?.cleanup();
});

const postImport = (stack: ApiStack, bytes: Buffer, who: SignedIn, query = '', key?: string) =>
  stack.app.inject({
    method: 'POST',
    url: `/v1/imports${query}`,
    headers: {
      ...who.auth,
      'content-type': 'application/zip',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    payload: bytes,
  });

const getImport = (stack: ApiStack, id: string, who: SignedIn) =>
  stack.app.inject({ method: 'GET', url: `/v1/imports/${id}`, headers: who.auth });

const finished = (stack: ApiStack, id: string, who: SignedIn, timeoutMs = 120_000) =>
  waitFor(async () => {
    const r = await getImport(stack, id, who);
    const b = r.json();
    return r.statusCode === 200 && (b.status === 'done' || b.status === 'failed') ? b : null;
  }, timeoutMs);

const ready = (id: string) =>
  waitFor(async () => {
    const r = await s.app.inject({ method: 'GET', url: `/v1/activities/${id}`, headers: athlete.auth });
    return r.statusCode === 200 && r.json().status === 'ready' ? r.json() : null;
  }, 90_000);

/** The same points and pauses as a live session would send them: start, batches of 30, the file's events, end. */
async function sentLive(a: ImportedActivity, sport: Sport) {
  const ids = { userId: athlete.id, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
  const sp = sport;
  const live: Outbound[] = [{ name: 'SessionControl', value: controlOf(ids, 'start', a.samples[0]!.ts, sp) }];
  for (let i = 0; i < a.samples.length; i += 30)
    live.push({ name: 'TelemetryBatch', value: batchOf(ids, a.samples.slice(i, i + 30), sp) });
  for (const c of sessionControls(a, { ...ids, sport: sp, receivedAt: Date.now() }))
    live.push({ name: 'SessionControl', value: c });
  live.push({ name: 'SessionControl', value: controlOf(ids, 'end', a.samples.at(-1)!.ts, sp) });
  await produce(iso, live);
  const [row] = await waitFor(async () => {
    const r = await rows<{ summary: string }>(
      iso.ch,
      `SELECT summary FROM ${iso.database}.activities FINAL WHERE session_id = '${ids.sessionId}'`,
    );
    return r.length > 0 ? r : null;
  }, 90_000);
  return snakeKeys(JSON.parse(row!.summary)) as Record<string, unknown>;
}

const strip = ({ activity_id, device_id, session_id, ...rest }: Record<string, unknown>) => rest;

const BOMB = `<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "${'x'.repeat(100)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><gpx version="1.1" creator="x"><trk><name>&b;</name></trk></gpx>`;

describe('POST /v1/imports of a zip: real files of each format, duplicates, broken files', () => {
  const fitBytes = fixture('2013-02-06-12-11-14.fit'); // Forerunner 110 run, with timer pauses
  const fit = parseActivityFile(fitBytes).activities[0]!;
  const tcxBytes = fixture('20210119_run_garmin_fenix6.tcx.gz');
  const tcx = parseActivityFile(tcxBytes).activities[0]!;
  const gpxBytes = fixture('korita-zbevnica.gpx.gz'); // GPSBabel hike, four segments
  const gpx = parseActivityFile(gpxBytes).activities[0]!;
  // a phone's recording of the watch's run: the same points as GPX, so the same time span
  const phone = Buffer.from(writeGpx(fit.samples, { type: 'running', creator: 'phone' }));
  const backwards = Buffer.from(
    writeGpx(
      tcx.samples.slice(0, 20).map((p, i) => (i === 10 ? { ...p, ts: p.ts - 60_000 } : p)),
      { type: 'running' },
    ).replace(/2021-/g, '2019-'),
  );
  let body: Buffer;
  let importId: string;
  let view: {
    status: string;
    files_total: number;
    files_done: number;
    files_failed: number;
    activities_created: number;
    duplicates_skipped: number;
    files: { name: string; status: string; reason: string | null; activity_ids: string[]; points: number }[];
  };

  beforeAll(async () => {
    body = await zipOf([
      { name: 'phone/run.gpx', bytes: phone },
      { name: 'broken/notes.txt', bytes: Buffer.from('lat,lon\n1,2\n') },
      { name: 'broken/cut.fit', bytes: fitBytes.subarray(0, fitBytes.length >> 1) },
      { name: 'broken/bomb.gpx', bytes: Buffer.from(BOMB) },
      { name: 'broken/backwards.gpx', bytes: backwards },
      { name: 'garmin/fenix6.tcx.gz', bytes: gzipSync(tcxBytes) },
      { name: 'garmin/again.fit.gz', bytes: gzipSync(fitBytes) },
      { name: 'garmin/fr110.fit', bytes: fitBytes },
      { name: 'gpsbabel/korita.gpx', bytes: gpxBytes },
    ]);
  });

  test('answers 202 with the import id once the upload is stored; a retry is the same import', async () => {
    const r = await postImport(s, body, athlete);
    expect(r.statusCode, r.body).toBe(202);
    importId = r.json().import_id;
    expect(importId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const again = await postImport(s, body, athlete);
    expect(again.statusCode).toBe(202);
    expect(again.json().import_id).toBe(importId);
    // stored before the answer: the job row names an object that is there
    const { rows: job } = await s.pool.query('SELECT object_key, byte_size FROM imports WHERE id = $1', [
      importId,
    ]);
    expect(Number(job[0].byte_size)).toBe(body.length);
    expect(await s.importStore.get(job[0].object_key)).toEqual(body);
    // default_sport is optional (schemathesis ST201) and defaults to running
    expect((await getImport(s, importId, athlete)).json().default_sport).toBe('running');
    const openapi = (await s.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const params = openapi.paths['/v1/imports'].post.parameters as { name: string; required?: boolean }[];
    expect(params.find((p) => p.name === 'default_sport')?.required).not.toBe(true);
    // nobody else sees it
    const other = await s.user();
    expect((await getImport(s, importId, other)).statusCode).toBe(404);
    // the same key with another body
    const key = `k-${rid()}`;
    expect((await postImport(s, body, athlete, '', key)).statusCode).toBe(202);
    const changed = await postImport(s, Buffer.from(phone), athlete, '', key);
    expect(changed.statusCode).toBe(409);
    expect(changed.json().code).toBe('idempotency_key_reused');
  });

  test('ends with a result per file: FIT first, duplicates found, each broken file with its reason', async () => {
    view = await finished(s, importId, athlete);
    expect(view.status).toBe('done');
    const byName = Object.fromEntries(view.files.map((f) => [f.name, f]));
    // FIT, TCX, GPX, anything else; by name within each
    expect(view.files.map((f) => f.name)).toEqual([
      'broken/cut.fit',
      'garmin/again.fit.gz',
      'garmin/fr110.fit',
      'garmin/fenix6.tcx.gz',
      'broken/backwards.gpx',
      'broken/bomb.gpx',
      'gpsbabel/korita.gpx',
      'phone/run.gpx',
      'broken/notes.txt',
    ]);
    const fitId = byName['garmin/again.fit.gz']!.activity_ids[0]!;
    expect(byName['garmin/again.fit.gz']).toMatchObject({
      status: 'imported',
      reason: null,
      points: fit.samples.length,
    });
    // the same file, gzip'd or not, is one activity
    expect(byName['garmin/fr110.fit']).toMatchObject({ status: 'duplicate', activity_ids: [fitId] });
    // the phone's GPX of the same run: one activity, the FIT's
    expect(byName['phone/run.gpx']).toMatchObject({ status: 'duplicate', activity_ids: [fitId] });
    expect(byName['garmin/fenix6.tcx.gz']).toMatchObject({ status: 'imported', points: tcx.samples.length });
    expect(byName['gpsbabel/korita.gpx']).toMatchObject({
      status: 'imported',
      reason: gpx.sport === null ? 'sport_defaulted' : null,
    });
    const reasons = Object.fromEntries(
      view.files.filter((f) => f.status === 'failed').map((f) => [f.name, f.reason]),
    );
    expect(reasons).toEqual({
      'broken/cut.fit': 'truncated_fit',
      'broken/backwards.gpx': 'times_go_backwards',
      'broken/bomb.gpx': 'xml_entity_refused',
      'broken/notes.txt': 'unknown_format',
    });
    expect(view).toMatchObject({
      files_total: 9,
      files_done: 9,
      files_failed: 4,
      activities_created: 3,
      duplicates_skipped: 2,
    });
  }, 150_000);

  test('each activity has the numbers the same points give sent live, and the device totals beside them', async () => {
    const byName = Object.fromEntries(view.files.map((f) => [f.name, f]));
    const cases: [string, ImportedActivity, Sport][] = [
      ['garmin/again.fit.gz', fit, 'running'],
      ['garmin/fenix6.tcx.gz', tcx, 'running'],
      ['gpsbabel/korita.gpx', gpx, gpx.sport ?? 'running'],
    ];
    for (const [name, a, sport] of cases) {
      const id = byName[name]!.activity_ids[0]!;
      const imported = await ready(id);
      expect(imported.summary.sport).toBe(sport);
      expect(imported.summary.sample_count).toBe(a.samples.length);
      const live = await sentLive(a, sport);
      expect(strip(imported.summary), name).toEqual(strip(live));
      if (a.recorded) {
        expect(imported.device_totals).toMatchObject({
          source: a.recorded.source,
          distance_m: a.recorded.distanceM,
          timer_s: a.recorded.timerS,
          hr_max: a.recorded.maxHr,
        });
        expect(imported.device_totals.laps).toHaveLength(a.recorded.laps.length);
      } else expect(imported.device_totals).toBeNull();
    }
    // the FIT's timer pauses and the GPX's segment breaks are pauses
    const fitA = await ready(byName['garmin/again.fit.gz']!.activity_ids[0]!);
    expect(fitA.summary.moving_s).toBeLessThan(fitA.summary.elapsed_s - 60);
    // one activity per id, nothing duplicated
    const [n] = await rows<{ activities: number }>(
      iso.ch,
      `SELECT uniqExact(activity_id) AS activities FROM ${iso.database}.activities
       WHERE user_id = '${athlete.id}' AND device_id = 'import'`,
    );
    expect(Number(n!.activities)).toBe(3);
  }, 240_000);

  test('the same file in a second import is a duplicate of the first', async () => {
    const r = await postImport(s, Buffer.from(fitBytes), athlete);
    expect(r.statusCode).toBe(202);
    const v = await finished(s, r.json().import_id, athlete);
    expect(v).toMatchObject({ status: 'done', activities_created: 0, duplicates_skipped: 1 });
    expect(v.files[0]).toMatchObject({ name: 'upload', status: 'duplicate' });
  }, 60_000);

  test('an upload that is not a zip of anything readable fails the import with its reason', async () => {
    const zip = await zipOf([{ name: 'a.gpx', bytes: phone }]);
    const r = await postImport(s, zip.subarray(0, zip.length - 40), athlete);
    const v = await finished(s, r.json().import_id, athlete);
    expect(v).toMatchObject({ status: 'failed', reason: 'archive_corrupt', files_total: null, files: [] });
  }, 60_000);

  test('first requests racing under a fresh key all answer 202 with one import (the id has a unique index of its own)', async () => {
    // without a conflict target on every unique index, one of 320 answered 500 (23505) in about half the runs
    const codes = new Map<number, number>();
    for (let round = 0; round < 40; round++) {
      const key = `race-${round}-${rid()}`;
      const bytes = Buffer.from(`not a zip ${key}`);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => postImport(s, bytes, athlete, '', key)),
      );
      for (const a of answers) codes.set(a.statusCode, (codes.get(a.statusCode) ?? 0) + 1);
      const ids = new Set(answers.filter((a) => a.statusCode === 202).map((a) => a.json().import_id));
      expect(ids.size).toBeLessThanOrEqual(1);
    }
    expect(Object.fromEntries(codes)).toEqual({ 202: 320 });
  }, 120_000);
});

describe('account deletion', () => {
  test("removes the uploaded files of the athlete's imports from S3", async () => {
    const gone = await s.user();
    const r = await postImport(s, Buffer.from(fixture('garmin-fenix-5-walk.fit')), gone);
    expect(r.statusCode).toBe(202);
    const { rows: job } = await s.pool.query('SELECT object_key FROM imports WHERE id = $1', [
      r.json().import_id,
    ]);
    expect((await s.importStore.get(job[0].object_key)).length).toBeGreaterThan(0);
    const del = await s.app.inject({
      method: 'DELETE',
      url: '/v1/users/me',
      headers: gone.auth,
      payload: { password: TEST_PASSWORD },
    });
    expect(del.statusCode).toBe(204);
    await expect(s.importStore.get(job[0].object_key)).rejects.toMatchObject({ name: 'NoSuchKey' });
    const { rows: left } = await s.pool.query('SELECT 1 FROM imports WHERE user_id = $1', [gone.id]);
    expect(left).toEqual([]);
  }, 60_000);
});

describe('an import resumed after its API stopped mid-way', () => {
  test('another API takes over once the lease ran out; no file twice, no duplicate activity', async () => {
    const queue = `resume-${rid()}`;
    const names = [
      'garmin-fenix-5-bike.fit',
      'garmin-fenix-5-walk.fit',
      'garmin-fenix-5-run.fit',
      'hrv-activity.fit',
      '2015-10-13-08-43-15.fit',
      'garmin-edge-820-bike.fit',
    ];
    const files = names.map((n) => ({ name: n, bytes: fixture(n) }));
    const parsed = files.map((f) => parseActivityFile(f.bytes).activities[0]!);
    const first = await startApiStack({
      samplesTopic: iso.topic,
      database: iso.database,
      imports: { run: true, queue, leaseMs: 1500 },
    });
    const who = await first.user();
    const done: number[] = [];
    let id = '';
    const stopped = new Promise<void>((resolve) => {
      const onFile = (m: unknown) => {
        const { importId: i, idx } = m as { importId: string; idx: number };
        if (i !== id) return;
        done.push(idx);
        if (done.length === 2) {
          importFileChannel.unsubscribe(onFile);
          resolve();
        }
      };
      importFileChannel.subscribe(onFile);
    });
    const r = await postImport(first, await zipOf(files), who);
    expect(r.statusCode).toBe(202);
    id = r.json().import_id;
    await stopped;
    // stopped as a crash stops it: the lease is not handed back
    await first.importRunner!.close({ release: false });
    await first.close();
    // and as if it died after sending its last file but before storing that file's result
    const { rows: kept } = await s.pool.query<{ idx: number }>(
      'SELECT idx FROM import_files WHERE import_id = $1 ORDER BY idx',
      [id],
    );
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(files.length);
    const last = kept.at(-1)!.idx;
    await s.pool.query('DELETE FROM import_files WHERE import_id = $1 AND idx = $2', [id, last]);

    const second = await startApiStack({
      samplesTopic: iso.topic,
      database: iso.database,
      imports: { run: true, queue, leaseMs: 1500 },
    });
    try {
      const v = await finished(second, id, who);
      expect(v).toMatchObject({
        status: 'done',
        files_total: files.length,
        files_done: files.length,
        files_failed: 0,
        activities_created: files.length,
        duplicates_skipped: 0,
      });
      const { rows: job } = await s.pool.query('SELECT attempts FROM imports WHERE id = $1', [id]);
      expect(job[0].attempts).toBe(2);
      const ids = v.files.map((f: { activity_ids: string[] }) => f.activity_ids[0]);
      expect(new Set(ids).size).toBe(files.length);
      // each activity once, with each of its points once (the resent file included)
      for (const f of v.files as { name: string; activity_ids: string[] }[]) {
        const a = parsed[names.indexOf(f.name)]!;
        const got = await waitFor(async () => {
          const r2 = await second.app.inject({
            method: 'GET',
            url: `/v1/activities/${f.activity_ids[0]}`,
            headers: who.auth,
          });
          return r2.json().status === 'ready' ? r2.json() : null;
        }, 90_000);
        expect(got.summary.sample_count, f.name).toBe(a.samples.length);
        expect(got.summary.duplicate_count, f.name).toBe(0);
      }
      const [n] = await rows<{ versions: number; activities: number }>(
        iso.ch,
        `SELECT uniqExact(activity_id) AS activities, uniqExact(activity_id, version) AS versions
         FROM ${iso.database}.activities WHERE user_id = '${who.id}'`,
      );
      expect(Number(n!.activities)).toBe(files.length);
      expect(Number(n!.versions)).toBe(files.length);
    } finally {
      await second.close();
    }
  }, 240_000);
});
