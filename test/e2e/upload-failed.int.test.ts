// `status: "failed"` (issue 13) on the real stack: an upload whose activity ClickHouse refuses to store is
// dead-lettered by the worker as finalise_failed on telemetry.dlq.v1; the API's failure recorder reads the DLQ
// and GET /v1/activities/{id} answers failed with that reason instead of processing forever; a record of an
// upload that the worker refuses (sink_rejected) likewise, found by decoding the dead letter's original. The refusal is a
// real one (a MATERIALIZED throwIf column on this run's own activities table, as in the worker's rejections
// test), not a stub. PostgreSQL is a database of this run's own (the activity_failures migration).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FailureRecorder } from '../../services/api/activity-failures.js';
import { uploadSessionId } from '../../services/api/uploads.js';
import { createLogger } from '../../services/common/logger.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { computeActivity } from '../../services/worker/compute.js';
import { type ApiStack, type SignedIn, startApiStack } from '../support/api-stack.js';
import { type Isolated, isolate, rid, rows, waitFor } from '../support/worker.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';

let iso: Isolated;
let s: ApiStack;
let worker: RunningWorker | undefined;
let recorder: FailureRecorder | undefined;
let athlete: SignedIn;

beforeAll(async () => {
  iso = await isolate({ env: { DATABASE_URL } });
  s = await startApiStack({ samplesTopic: iso.topic, database: iso.database, privatePg: true });
  athlete = await s.user();
  recorder = new FailureRecorder(iso.kafka, s.pool, {
    topic: iso.dlq,
    groupId: `failures-${iso.id}`,
    registryUrl: iso.config.SCHEMA_REGISTRY_URL,
    logger: createLogger('failures-test', 'warn'),
  });
  await recorder.start();
}, 120_000);

afterAll(async () => {
  await recorder?.stop();
  await worker?.close();
  await s?.close();
  await iso?.cleanup();
});

const post = (payload: object, key: string) =>
  s.app.inject({
    method: 'POST',
    url: '/v1/activities',
    headers: { ...athlete.auth, 'idempotency-key': key },
    payload,
  });
const get = (id: string, who: SignedIn = athlete) =>
  s.app.inject({ method: 'GET', url: `/v1/activities/${id}`, headers: who.auth });

describe('GET /v1/activities/{id} of an upload the worker could not store', () => {
  test('answers failed with the reason code; another upload of the same flush is ready; strangers get 404', async () => {
    const badKey = `refused-${rid()}`;
    const session = uploadSessionId(athlete.id, badKey);
    await iso.ch.command({
      query: `ALTER TABLE ${iso.database}.activities ADD COLUMN poison UInt8 MATERIALIZED throwIf(session_id = '${session}')`,
    });
    const entry = { type: 'running', start_time: '2026-11-29T07:00:00Z', duration_s: 1800, distance_m: 5000 };
    const bad = await post(entry, badKey);
    const good = await post({ ...entry, start_time: '2026-11-29T09:00:00Z' }, `fine-${rid()}`);
    expect([bad.statusCode, good.statusCode]).toEqual([202, 202]);
    const badId = bad.json().activity_id as string;
    const goodId = good.json().activity_id as string;
    expect((await get(badId)).json()).toMatchObject({ status: 'processing', failure: null });

    worker = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'silent'));
    const failed = await waitFor(async () => {
      const r = (await get(badId)).json();
      return r.status === 'failed' ? r : null;
    }, 60_000);
    expect(failed).toMatchObject({
      activity_id: badId,
      status: 'failed',
      failure: { reason: 'finalise_failed' },
      version: null,
      summary: null,
    });
    expect(Date.parse(failed.failure.failed_at)).toBeGreaterThan(Date.now() - 120_000);
    const ok = await waitFor(async () => {
      const r = (await get(goodId)).json();
      return r.status === 'ready' ? r : null;
    }, 60_000);
    expect(ok.failure).toBeNull();
    expect(ok.summary.distance_m).toBe(5000);
    // nothing of the refused one is stored in ClickHouse
    const [n] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${iso.database}.activities WHERE session_id = '${session}'`,
    );
    expect(Number(n!.n)).toBe(0);
    // one row per activity, however often the dead letter is read
    const stored = await s.pool.query(
      'SELECT reason, user_id FROM activity_failures WHERE activity_id = $1',
      [badId],
    );
    expect(stored.rows).toEqual([{ reason: 'finalise_failed', user_id: athlete.id }]);
    // the failed activity is the athlete's: nobody else learns about it
    const other = await s.user();
    expect((await get(badId, other)).statusCode).toBe(404);
  }, 180_000);

  test("a record of the upload that the worker refuses: failed with that record's reason (sink_rejected)", async () => {
    const key = `unstorable-${rid()}`;
    const session = uploadSessionId(athlete.id, key);
    // ClickHouse refuses this upload's manual entry row for good: the worker dead-letters that record
    await iso.ch.command({
      query: `ALTER TABLE ${iso.database}.manual_entries ADD COLUMN poison UInt8 MATERIALIZED throwIf(session_id = '${session}')`,
    });
    const r = await post(
      { type: 'walking', start_time: '2026-11-29T12:00:00Z', duration_s: 600, distance_m: 900 },
      key,
    );
    expect(r.statusCode).toBe(202);
    const id = r.json().activity_id as string;
    const failed = await waitFor(async () => {
      const g = (await get(id)).json();
      return g.status === 'failed' ? g : null;
    }, 60_000);
    expect(failed.failure.reason).toBe('sink_rejected');
    const [n] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${iso.database}.manual_entries WHERE session_id = '${session}'`,
    );
    expect(Number(n!.n)).toBe(0);
  }, 120_000);
});
