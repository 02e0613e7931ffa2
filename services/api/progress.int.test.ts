// GET /v1/users/me/progress against the real stack: every period present, running totals and moving
// averages against hand-computed values in the athlete's zone, and the documented ClickHouse query
// (docs/analytics.md "Progress") giving the same numbers as the route.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dayOf, startOfLocalDay } from '../../pipelines/engagement/local-days.js';
import { insertActivityRow } from '../../test/support/activity-rows.js';
import { type ApiStack, type SignedIn, startApiStack } from '../../test/support/api-stack.js';
import { str } from '../common/clickhouse-sql.js';

const TZ = 'Pacific/Auckland'; // +13 in March 2026: local midnight is 11:00 UTC the day before

let s: ApiStack;
let user: SignedIn;

/** Instant of a local wall-clock time in TZ. */
const at = (y: number, m: number, d: number, h: number, min = 0) =>
  startOfLocalDay(dayOf(y, m, d), TZ) + (h * 60 + min) * 60_000;

beforeAll(async () => {
  s = await startApiStack();
  user = await s.user();
  await s.pool.query(`UPDATE users SET timezone = $2, week_start = 'monday' WHERE id = $1`, [user.id, TZ]);
  const rows = [
    { sport: 'running', startTs: at(2026, 2, 10, 8), distanceM: 7000, movingS: 2100 }, // before every window
    { sport: 'running', startTs: at(2026, 2, 24, 8), distanceM: 10_000, movingS: 3000 }, // the week before from
    // Monday 00:30 local is Sunday 11:30 UTC: this week, not the one before
    { sport: 'running', startTs: at(2026, 3, 2, 0, 30), distanceM: 5000, movingS: 1500 },
    { sport: 'running', startTs: at(2026, 3, 8, 23, 30), distanceM: 3000, movingS: 1000 }, // Sunday night
    { sport: 'running', startTs: at(2026, 3, 17, 12), distanceM: 8000, movingS: 2400 },
    { sport: 'cycling', startTs: at(2026, 3, 23, 7), distanceM: 20_000, movingS: 2400, powerAvg: 200 },
    { sport: 'running', startTs: at(2026, 3, 30, 7), distanceM: 4000, movingS: 1200 }, // after the weekly range, still March
  ];
  for (const r of rows) await insertActivityRow(s.clickhouse, s.database, user.id, r);
}, 60_000);

afterAll(async () => {
  await s?.close();
});

const progress = async (query: string) => {
  const r = await s.app.inject({ method: 'GET', url: `/v1/users/me/progress?${query}`, headers: user.auth });
  expect(r.statusCode).toBe(200);
  return r.json();
};

describe('GET /v1/users/me/progress', () => {
  test('weekly distance: every week present, running total, moving average over 2 weeks', async () => {
    const body = await progress('metric=distance&period=week&from=2026-03-04&to=2026-03-24&window=2');
    expect(body).toMatchObject({ metric: 'distance', unit: 'm', period: 'week', window: 2, timezone: TZ });
    expect(body.series).toEqual([
      {
        start: '2026-03-02',
        end: '2026-03-08',
        activities: 2,
        value: 8000,
        running_total: 8000,
        moving_average: 9000,
      },
      {
        start: '2026-03-09',
        end: '2026-03-15',
        activities: 0,
        value: 0,
        running_total: 8000,
        moving_average: 4000,
      },
      {
        start: '2026-03-16',
        end: '2026-03-22',
        activities: 1,
        value: 8000,
        running_total: 16_000,
        moving_average: 4000,
      },
      {
        start: '2026-03-23',
        end: '2026-03-29',
        activities: 1,
        value: 20_000,
        running_total: 36_000,
        moving_average: 14_000,
      },
    ]);
    expect([body.total, body.average_per_period]).toEqual([36_000, 9000]);
    const running = await progress(
      'metric=distance&period=week&from=2026-03-04&to=2026-03-24&window=2&sport=running',
    );
    expect(running.series.map((p: { value: number }) => p.value)).toEqual([8000, 0, 8000, 0]);
  });

  test('ratios: monthly pace and power; an empty period is null, not zero', async () => {
    const march = await progress('metric=pace&period=month&from=2026-03-01&to=2026-04-30&window=1');
    // March: five activities (the 30th is past the weekly test's range, not past March); April: none
    expect(march.series).toEqual([
      {
        start: '2026-03-01',
        end: '2026-03-31',
        activities: 5,
        value: 8500 / 40,
        running_total: 8500 / 40,
        moving_average: 8500 / 40,
      },
      {
        start: '2026-04-01',
        end: '2026-04-30',
        activities: 0,
        value: null,
        running_total: 8500 / 40,
        moving_average: null,
      },
    ]);
    const power = await progress('metric=power&period=quarter&from=2026-01-15&to=2026-06-30');
    expect(power.series.map((p: { start: string; value: number | null }) => [p.start, p.value])).toEqual([
      ['2026-01-01', 200],
      ['2026-04-01', null],
    ]);
    expect(power.total).toBe(200);
    const count = await progress('metric=count&period=year&from=2026-01-01&to=2026-12-31&window=1');
    expect(count.series).toMatchObject([{ start: '2026-01-01', end: '2026-12-31', value: 7 }]);
  });

  test('the documented ClickHouse query gives the route’s numbers', async () => {
    const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');
    const block = /<!-- progress-query -->\n```sql\n([\s\S]*?)\n```/.exec(doc);
    expect(block).not.toBeNull();
    for (const [from, to, window] of [
      ['2026-03-04', '2026-03-24', 2],
      ['2026-02-01', '2026-04-15', 4],
      ['2026-03-10', '2026-03-10', 1],
    ] as const) {
      const sql = block![1]!
        .replaceAll('fitstream.activities', `${s.database}.activities`)
        .replaceAll('{user_id}', str(user.id))
        .replaceAll('{tz}', str(TZ))
        .replaceAll('{from}', str(from))
        .replaceAll('{to}', str(to))
        .replaceAll('{window}', String(window));
      const rs = await s.clickhouse.query({ query: sql, format: 'JSONEachRow' });
      const rows = await rs.json<{
        period: string;
        value: number | null;
        running_total: number;
        moving_average: number | null;
      }>();
      const route = await progress(`metric=distance&period=week&from=${from}&to=${to}&window=${window}`);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows).toEqual(
        route.series.map(
          (p: { start: string; value: number; running_total: number; moving_average: number }) => ({
            period: p.start,
            value: p.value,
            running_total: p.running_total,
            moving_average: p.moving_average,
          }),
        ),
      );
    }
  });
});
