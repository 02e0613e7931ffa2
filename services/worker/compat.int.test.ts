import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { batchOf, controlOf, rid } from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { ANALYTICS_QUERIES, inDatabase } from './analytics-queries.js';
import { applyWorkerSchema } from './clickhouse-schema.js';
import { computeActivity } from './compute.js';
import type { InboundRecord } from './records.js';
import { Sessions } from './sessions.js';
import { ClickHouseSink } from './sink-clickhouse.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';

// The same DDL, sink statements and analytics queries on ClickHouse 18.16 (the native stack) and on
// current ClickHouse (chdb, in-process), with the same results.
const logger = createLogger('compat-test', 'error');

function fixture(): InboundRecord[] {
  const out: InboundRecord[] = [];
  let offset = 0;
  const raw = () => ({
    topic: 't',
    partition: 0,
    offset: String(offset++),
    key: null,
    value: null,
    timestamp: 0,
  });
  const sports = ['running', 'cycling', 'walking'] as const;
  for (let i = 0; i < 6; i++) {
    const ids = { userId: `u-${i % 2}`, deviceId: `d-${i}`, sessionId: `s-${i}` };
    const sport = sports[i % 3]!;
    const { samples } = generateSession({
      sport,
      seed: 100 + i,
      durationS: 900,
      startTs: 1_760_000_000_000 + i * 86_400_000,
    });
    out.push({
      raw: raw(),
      decoded: { kind: 'control', control: controlOf(ids, 'start', samples[0]!.ts, sport) },
    });
    for (let j = 0; j < samples.length; j += 60) {
      out.push({
        raw: raw(),
        decoded: { kind: 'batch', batch: batchOf(ids, samples.slice(j, j + 60), sport) },
      });
    }
    out.push({
      raw: raw(),
      decoded: { kind: 'control', control: controlOf(ids, 'end', samples.at(-1)!.ts, sport) },
    });
  }
  return out;
}

async function load(
  ch: ClickHouseClient,
  db: string,
  format: 'RowBinary' | 'JSONEachRow',
): Promise<Record<string, unknown[]>> {
  await applyWorkerSchema(ch, db);
  const sink = new ClickHouseSink(ch, db, format);
  const store = new ClickHouseSessionStore(ch, db, format);
  const records = fixture();
  await sink.writeBatch({ raw: [], records });
  // the recovery query (LIMIT BY, tuple IN subqueries) on both: every session is still unannounced
  const recovery = (await store.unfinalisedSessions([...new Set(records.map((r) => r.raw.partition))], 0))
    .map((s) => `${s.userId}/${s.deviceId}/${s.sessionId}/${s.sport}/${s.partition}`)
    .sort();
  const sessions = new Sessions(
    store,
    { publishActivities: async () => {} },
    computeActivity,
    { timeoutMs: 1 },
    logger,
  );
  await sessions.afterFlush({ raw: [], records });
  expect(sessions.stats.created).toBe(6);
  const out: Record<string, unknown[]> = { recovery };
  // ... and once they are announced, none is
  expect(await store.unfinalisedSessions([...new Set(records.map((r) => r.raw.partition))], 0)).toEqual([]);
  for (const [name, sql] of Object.entries(ANALYTICS_QUERIES)) {
    out[name] = await (await ch.query({ query: inDatabase(sql, db), format: 'JSONEachRow' })).json();
  }
  out.activities = await (
    await ch.query({ query: `SELECT * FROM ${db}.activities_v ORDER BY activity_id`, format: 'JSONEachRow' })
  ).json();
  return out;
}

/** 18.16 and 26.x print some numbers differently (quoted 64-bit ints, float digits): compare values. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  if (typeof v === 'string' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(v)) return normalise(Number(v));
  if (typeof v === 'number') return Number(v.toPrecision(9));
  return v;
}

describe('same DDL and queries on ClickHouse 18.16 and current ClickHouse (chdb)', () => {
  const db = `wtest_compat_${rid()}`;
  const native = createClient({
    url: 'http://127.0.0.1:8123',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'fitstream-chdb-'));
  const chdb = createClient({ connection: createChdbConnection({ path: dir }) } as never) as ClickHouseClient;
  let a: Record<string, unknown[]>;
  let b: Record<string, unknown[]>;

  beforeAll(async () => {
    a = await load(native, db, 'RowBinary');
    // chdb's connection adapter sends request bodies as UTF-8 text, so binary RowBinary bodies
    // cannot pass through it: the same rows go in as JSONEachRow there
    b = await load(chdb, db, 'JSONEachRow');
  }, 120_000);
  afterAll(async () => {
    await native.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await native.close();
    await chdb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('server versions differ as intended', async () => {
    const v = async (c: ClickHouseClient) =>
      (
        (await (await c.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json()) as {
          v: string;
        }[]
      )[0]!.v;
    expect(await v(native)).toMatch(/^18\.16\./);
    expect(Number((await v(chdb)).split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  test.each(Object.keys(ANALYTICS_QUERIES).concat('activities', 'recovery'))(
    '%s gives the same result on both',
    (name) => {
      expect(a[name]!.length).toBeGreaterThan(0);
      expect(normalise(b[name])).toEqual(normalise(a[name]));
    },
  );

  test('docs/analytics.md shows every query verbatim', () => {
    const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');
    for (const sql of Object.values(ANALYTICS_QUERIES)) expect(doc).toContain(sql);
  });
});
