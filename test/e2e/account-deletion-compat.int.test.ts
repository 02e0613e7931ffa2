import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, describe, expect, test } from 'vitest';
import { purgeClickhouse } from '../../services/api/account-deletion.js';
import { clickhouseEnv, parseEnv } from '../../services/common/config.js';
import { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';

// The ClickHouse half of account deletion on 18.16 (the native stack) and on current ClickHouse (chdb).
const dir = mkdtempSync(join(tmpdir(), 'fitstream-chdb-'));
const clients: Record<string, ClickHouseClient> = {
  'ClickHouse 18.16': createClient({ url: parseEnv(clickhouseEnv).CLICKHOUSE_URL }),
  'current ClickHouse (chdb)': createClient({
    connection: createChdbConnection({ path: dir }),
  } as never) as ClickHouseClient,
};
const db = `purge_test_${Math.random().toString(36).slice(2, 10)}`;

afterAll(async () => {
  for (const c of Object.values(clients)) {
    await c.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => {});
    await c.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function rowsPerTable(ch: ClickHouseClient, userId: string): Promise<Record<string, number>> {
  const rs = await ch.query({
    query: `SELECT table FROM system.columns WHERE database = '${db}' AND name = 'user_id'
            AND table IN (SELECT name FROM system.tables WHERE database = '${db}' AND engine LIKE '%MergeTree%')`,
    format: 'JSONEachRow',
  });
  const out: Record<string, number> = {};
  for (const { table } of await rs.json<{ table: string }>()) {
    const n = await ch.query({
      query: `SELECT count() AS n FROM ${db}.${table} WHERE user_id = '${userId}'`,
      format: 'JSONEachRow',
    });
    out[table] = Number((await n.json<{ n: string }>())[0]!.n);
  }
  return out;
}

describe('account deletion in ClickHouse', () => {
  test.each(Object.keys(clients))(
    '%s: every per-user table loses the user, and only them',
    async (name) => {
      const ch = clients[name]!;
      await applyWorkerSchema(ch, db);
      const tables = Object.keys(await rowsPerTable(ch, 'u-gone'));
      expect(tables).toEqual(
        expect.arrayContaining(['samples', 'activities', 'activity_announcements', 'session_index']),
      );
      for (const user of ['u-gone', 'u-stays'])
        for (const table of tables)
          await ch.insert({
            table: `${db}.${table}`,
            format: 'JSONEachRow',
            clickhouse_settings: { input_format_skip_unknown_fields: 1 },
            values: [{ user_id: user, device_id: 'd', session_id: 's', activity_id: `a-${user}` }],
          });
      await purgeClickhouse(ch, db, 'u-gone');
      const until = Date.now() + 30_000;
      let left = await rowsPerTable(ch, 'u-gone');
      while (Object.values(left).some((n) => n > 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        left = await rowsPerTable(ch, 'u-gone');
      }
      expect(left).toEqual(Object.fromEntries(tables.map((t) => [t, 0])));
      expect(await rowsPerTable(ch, 'u-stays')).toEqual(Object.fromEntries(tables.map((t) => [t, 1])));
    },
    120_000,
  );
});
