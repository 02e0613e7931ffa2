import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, describe, expect, test } from 'vitest';
import { applyWorkerSchema } from '../../test/support/activity-rows.js';
import { clickhouseEnv, parseEnv } from '../common/config.js';
import { purgeClickhouse } from './account-deletion.js';
import { purgeActivity } from './activity-deletion.js';
import { activityById, activityOfAthlete, latestActivities } from './latest-activities.js';

// The API's reads of `activities` without FINAL (latest-activities.ts) give FINAL's rows, on ClickHouse
// 18.16 (the native stack) and on current ClickHouse (chdb); the owner index (migration 0050) follows every
// insert and leaves with the activity and with the account.
const dir = mkdtempSync(join(tmpdir(), 'fitstream-chdb-latest-'));
const clients: Record<string, ClickHouseClient> = {
  'ClickHouse 18.16': createClient({ url: parseEnv(clickhouseEnv).CLICKHOUSE_URL }),
  'current ClickHouse (chdb)': createClient({
    connection: createChdbConnection({ path: dir }),
  } as never) as ClickHouseClient,
};
const db = `latest_test_${Math.random().toString(36).slice(2, 10)}`;

afterAll(async () => {
  for (const c of Object.values(clients)) {
    await c.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => {});
    await c.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const rows = async <T>(ch: ClickHouseClient, query: string) =>
  (await ch.query({ query, format: 'JSONEachRow' })).json<T>();

describe('latest version of activities without FINAL', () => {
  test.each(Object.keys(clients))(
    '%s: by id through the owner index, and per athlete with filters on the latest version',
    async (name) => {
      const ch = clients[name]!;
      await applyWorkerSchema(ch, db);
      const put = (values: object[]) =>
        ch.insert({
          table: `${db}.activities`,
          format: 'JSONEachRow',
          clickhouse_settings: { input_format_skip_unknown_fields: 1 },
          values,
        });
      // separate inserts, so the versions of a-1 sit in different parts (what FINAL merges at read time)
      await put([
        { activity_id: 'a-1', user_id: 'u-1', sport: 'running', version: 1, start_ts: 1000, distance_m: 5 },
        { activity_id: 'a-2', user_id: 'u-1', sport: 'running', version: 1, start_ts: 2000, distance_m: 6 },
        { activity_id: 'a-3', user_id: 'u-2', sport: 'walking', version: 1, start_ts: 1500, distance_m: 2 },
      ]);
      // a-1 again as a higher version: another sport and start, then a duplicate of that version
      await put([
        { activity_id: 'a-1', user_id: 'u-1', sport: 'cycling', version: 2, start_ts: 3000, distance_m: 7 },
      ]);
      await put([
        { activity_id: 'a-1', user_id: 'u-1', sport: 'cycling', version: 2, start_ts: 3000, distance_m: 7 },
      ]);
      const cols = ['activity_id', 'user_id', 'sport', 'version', 'start_ts', 'distance_m'];
      const norm = (r: Record<string, unknown>[]) =>
        r.map((x) => ({ ...x, version: Number(x.version), start_ts: Number(x.start_ts) }));

      for (const id of ['a-1', 'a-2', 'a-3', 'nope']) {
        const final = await rows<Record<string, unknown>>(
          ch,
          `SELECT ${cols.join(', ')} FROM ${db}.activities FINAL WHERE activity_id = '${id}'`,
        );
        expect(norm(await rows(ch, activityById(db, id, cols)))).toEqual(norm(final));
        for (const user of ['u-1', 'u-2'])
          expect(norm(await rows(ch, activityOfAthlete(db, user, id, cols)))).toEqual(
            norm(final.filter((r) => r.user_id === user)),
          );
      }
      expect(norm(await rows(ch, activityById(db, 'a-1', cols)))).toEqual([
        { activity_id: 'a-1', user_id: 'u-1', sport: 'cycling', version: 2, start_ts: 3000, distance_m: 7 },
      ]);

      // filters on columns that changed between versions judge the latest one, as FINAL does
      for (const where of ['1', "sport = 'running'", 'start_ts < 2500', "sport = 'cycling'"]) {
        const final = await rows<Record<string, unknown>>(
          ch,
          `SELECT ${cols.join(', ')} FROM ${db}.activities FINAL WHERE user_id = 'u-1' AND ${where}
           ORDER BY start_ts DESC`,
        );
        const latest = await rows<Record<string, unknown>>(
          ch,
          `SELECT ${cols.join(', ')} FROM ${latestActivities(db, "user_id = 'u-1'", cols)}
           WHERE ${where} ORDER BY start_ts DESC`,
        );
        expect(norm(latest), where).toEqual(norm(final));
      }
      const running = await rows<{ activity_id: string }>(
        ch,
        `SELECT activity_id FROM ${latestActivities(db, "user_id = 'u-1'", ['sport'])} WHERE sport = 'running'`,
      );
      expect(running).toEqual([{ activity_id: 'a-2' }]);

      // the owner index: filled by every insert, gone with the activity and with the account
      const owners = async () =>
        (
          await rows<{ activity_id: string; owner_id: string }>(
            ch,
            `SELECT DISTINCT activity_id, owner_id FROM ${db}.activity_owners ORDER BY activity_id`,
          )
        ).map((r) => `${r.activity_id}:${r.owner_id}`);
      expect(await owners()).toEqual(['a-1:u-1', 'a-2:u-1', 'a-3:u-2']);
      expect(
        await purgeActivity(ch, db, { activity_id: 'a-2', device_id: null, session_id: null }, 30_000),
      ).toBe(true);
      expect(await owners()).toEqual(['a-1:u-1', 'a-3:u-2']);
      await purgeClickhouse(ch, db, 'u-1');
      const until = Date.now() + 30_000;
      while ((await owners()).length > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
      expect(await owners()).toEqual(['a-3:u-2']);
      expect(await rows(ch, activityById(db, 'a-1', cols))).toEqual([]);
    },
    120_000,
  );
});
