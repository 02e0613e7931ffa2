// The ClickHouse migrations (infra/clickhouse/migrations) apply cleanly and idempotently on
// BOTH servers the project supports: the Debian ClickHouse 18.16 started by infra/local/up
// (HTTP 127.0.0.1:8123) and current ClickHouse in-process through chdb.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations, MIGRATIONS_TABLE, runMigrations, splitStatements } from './migrate.js';

describe('clickhouse migrations', () => {
  const files = loadMigrations().map((m) => m.version);

  it('splits statements on ";" at line ends and drops comments', () => {
    expect(splitStatements('-- c;\nCREATE DATABASE a;\nSELECT 1\nFROM x;\n')).toEqual([
      'CREATE DATABASE a',
      'SELECT 1\nFROM x',
    ]);
  });

  it('are applied on the local ClickHouse (18.16) and a re-run applies nothing', async () => {
    const client = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
    try {
      await runMigrations(client);
      expect(await runMigrations(client)).toEqual([]);
      const rows = await (
        await client.query({
          query: `SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`,
          format: 'JSONEachRow',
        })
      ).json<{ version: string }>();
      expect(rows.map((r) => r.version)).toEqual(expect.arrayContaining(files));
      const dbs = await (
        await client.query({
          query: "SELECT name FROM system.databases WHERE name = 'fitstream'",
          format: 'JSONEachRow',
        })
      ).json<{ name: string }>();
      expect(dbs).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  describe('on current ClickHouse (chdb)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fitstream-chdb-migrate-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('applies every file from scratch, then nothing', async () => {
      const { createChdbConnection } = await import('chdb/connection');
      const client = createClient({ connection: createChdbConnection({ path: dir }) } as never);
      try {
        expect(await runMigrations(client)).toEqual(files);
        expect(await runMigrations(client)).toEqual([]);
      } finally {
        await client.close();
      }
    }, 120_000);
  });
});
