// The progress query of docs/analytics.md on ClickHouse 18.16 (the native stack) and on current ClickHouse
// (chdb, in-process) over the same rows: the same numbers on both, and the same as the route's fold
// (progress.int.test.ts ties the query to the route itself on 18.16).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { dayOf, localDay, startOfLocalDay } from '../../pipelines/engagement/local-days.js';
import { applyWorkerSchema, insertActivityRow } from '../../test/support/activity-rows.js';
import { rid } from '../../test/support/engagement-stack.js';
import { str } from '../common/clickhouse-sql.js';
import { progressSeries } from './routes/progress.js';

const TZ = 'Europe/Zurich';
const db = `api_progress_compat_${rid()}`;
const native = createClient({ url: 'http://127.0.0.1:8123' });
const dir = mkdtempSync(join(tmpdir(), 'fitstream-chdb-'));
const chdb = createClient({ connection: createChdbConnection({ path: dir }) } as never) as ClickHouseClient;
const at = (y: number, m: number, d: number, h: number) =>
  startOfLocalDay(dayOf(y, m, d), TZ) + h * 3_600_000;

// Sunday nights and Monday mornings, across the DST change of 29 March 2026, and weeks without any
const ROWS: ReadonlyArray<readonly [number, number]> = [
  [at(2026, 3, 1, 23), 4000],
  [at(2026, 3, 2, 0), 6000],
  [at(2026, 3, 15, 10), 12_000],
  [at(2026, 3, 29, 22), 8000], // 22 h after midnight of the 23-hour day: Sunday 23:00
  [at(2026, 3, 30, 1), 3000],
  [at(2026, 4, 20, 7), 21_100],
];

beforeAll(async () => {
  for (const ch of [native, chdb]) {
    await applyWorkerSchema(ch, db);
    for (const [startTs, distanceM] of ROWS)
      await insertActivityRow(ch, db, 'u-compat', {
        sport: 'running',
        startTs,
        distanceM,
        movingS: distanceM / 4,
      });
  }
}, 120_000);

afterAll(async () => {
  await native.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await native.close();
  await chdb.close();
  rmSync(dir, { recursive: true, force: true });
});

/** 18.16 and 26.x print some numbers differently (float digits, nan): compare values. */
const normalise = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        typeof v === 'number' ? Number(v.toPrecision(9)) : v === 'nan' ? null : v,
      ]),
    ),
  );

test('the progress query gives the same series on 18.16, on current ClickHouse and in the route', async () => {
  const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');
  const sql = /<!-- progress-query -->\n```sql\n([\s\S]*?)\n```/
    .exec(doc)![1]!
    .replaceAll('fitstream.activities', `${db}.activities`)
    .replaceAll('{user_id}', str('u-compat'))
    .replaceAll('{tz}', str(TZ))
    .replaceAll('{from}', str('2026-03-01'))
    .replaceAll('{to}', str('2026-04-30'))
    .replaceAll('{window}', '3');
  const run = async (ch: ClickHouseClient) =>
    normalise(await (await ch.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>());
  const [a, b] = [await run(native), await run(chdb)];
  // the weeks of 23 February .. 27 April, which hold the dates of March and April
  expect(a.map((r) => r.value)).toEqual([4000, 6000, 12_000, 0, 8000, 3000, 0, 0, 21_100, 0]);
  expect(b).toEqual(a);
  const route = progressSeries({
    activities: ROWS.map(([startTs, distanceM]) => ({
      day: localDay(startTs, TZ),
      distance_m: distanceM,
      moving_s: distanceM / 4,
      elev_gain_m: 0,
      calories: 0,
      power_avg: null,
    })),
    metric: 'distance',
    period: 'week',
    weekStart: 1,
    from: dayOf(2026, 3, 1),
    to: dayOf(2026, 4, 30),
    window: 3,
  });
  expect(a).toEqual(
    normalise(
      route.series.map((p) => ({
        period: p.start,
        value: p.value,
        running_total: p.running_total,
        moving_average: p.moving_average,
      })),
    ),
  );
}, 60_000);
