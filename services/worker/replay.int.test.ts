import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { ALGORITHM_VERSION, CONFIGS } from '../../pipelines/index.js';
import {
  cleanedCount,
  dataset,
  type Isolated,
  isolate,
  produce,
  rid,
  snapshotTables,
  waitFor,
} from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { createClickHouse, createS3, startWorkerRuntime } from './app.js';
import { applyWorkerSchema } from './clickhouse-schema.js';
import { computeActivity } from './compute.js';
import { progressLine, replay } from './replay.js';
import { ClickHouseSink } from './sink-clickhouse.js';
import { S3Archive } from './sink-s3.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';

const logger = createLogger('replay-test', 'error');
const data = dataset(
  rid(4),
  5,
  600,
  (seed, d) => generateSession({ sport: 'cycling', seed, durationS: d }).samples,
);

describe('replay from the S3 archive', () => {
  let iso: Isolated;
  let original: Awaited<ReturnType<typeof snapshotTables>>;
  const extraDbs: string[] = [];

  beforeAll(async () => {
    iso = await isolate();
    const w = await startWorkerRuntime(iso.config, computeActivity, logger);
    try {
      await produce(iso, data.records);
      await waitFor(async () => {
        const c = await cleanedCount(iso.ch, iso.database);
        return c.cleaned === data.samples && c.activities === 5;
      }, 90_000);
      await new Promise((r) => setTimeout(r, 1000));
      original = await snapshotTables(iso.ch, iso.database);
    } finally {
      await w.close();
    }
  });
  afterAll(async () => {
    for (const db of extraDbs) await iso.ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await iso?.cleanup();
  });

  async function replayInto(
    db: string,
    opts: Parameters<typeof replay>[1] = {},
    more: Pick<Parameters<typeof replay>[0], 'deletedUsers'> = {},
  ) {
    extraDbs.push(db);
    const ch = createClickHouse({ ...iso.config, CLICKHOUSE_DATABASE: db });
    await applyWorkerSchema(ch, db);
    const sink = new ClickHouseSink(ch, db);
    const store = new ClickHouseSessionStore(ch, db);
    const archive = new S3Archive(createS3(iso.config), {
      bucket: iso.config.S3_BUCKET,
      prefix: iso.prefix,
      windowS: iso.config.WORKER_ARCHIVE_WINDOW_S,
    });
    const lines: string[] = [];
    try {
      const r = await replay(
        { archive, sink, store, codec: iso.codec, compute: computeActivity, logger, ...more },
        { topic: iso.topic, ...opts, onProgress: (p) => lines.push(progressLine(p)) },
      );
      return { result: r, lines };
    } finally {
      await sink.close();
      await archive.close();
    }
  }

  test('a rebuild into an empty database equals the live tables, and twice changes nothing', async () => {
    const db = `wtest_replay_${rid()}`;
    const first = await replayInto(db);
    expect(first.result.records).toBe(data.records.length);
    expect(first.result.created).toBe(5);
    expect(first.lines.at(-1)).toMatch(/^\[#+\] 100% done/);
    const once = await snapshotTables(iso.ch, db);
    expect(once).toEqual(original);
    const second = await replayInto(db);
    expect(second.result.unchanged).toBe(5);
    expect(await snapshotTables(iso.ch, db)).toEqual(original);
  });

  test('a rebuild of one user only holds that user', async () => {
    const db = `wtest_replay_${rid()}`;
    const user = (data.records[0]!.value as { userId: string }).userId;
    await replayInto(db, { userId: user });
    const snap = await snapshotTables(iso.ch, db);
    expect(snap.activities.length).toBeGreaterThan(0);
    expect(new Set(snap.activities.map((a) => a.user_id))).toEqual(new Set([user]));
    expect(snap.activities).toEqual(original.activities.filter((a) => a.user_id === user));
  });

  // The worker's test athletes are not accounts (ids like u-…), so the tombstones come as the set that
  // replay-main reads from deleted_users (deleted-users.ts); account-deletion.int.test.ts writes them.
  test('a deleted account is left out of the rebuild', async () => {
    const db = `wtest_replay_${rid()}`;
    const deleted = (data.records[0]!.value as { userId: string }).userId;
    const r = await replayInto(db, {}, { deletedUsers: async () => new Set([deleted]) });
    expect(r.result.skippedDeleted).toBeGreaterThan(0);
    const snap = await snapshotTables(iso.ch, db);
    expect(snap.activities.length).toBeGreaterThan(0);
    expect(snap.activities.filter((a) => a.user_id === deleted)).toEqual([]);
    expect(snap.activities).toEqual(original.activities.filter((a) => a.user_id !== deleted));
  });

  test('another algorithm version gives its own numbers, and the current one a higher version again', async () => {
    const db = `wtest_replay_${rid()}`;
    const older = Object.keys(CONFIGS).find((v) => v !== ALGORITHM_VERSION);
    if (!older) return; // only one released version: nothing to compare
    const first = await replayInto(db, { algorithmVersion: older });
    expect(first.result.created).toBe(5);
    const old = await snapshotTables(iso.ch, db);
    expect(new Set(old.activities.map((a) => a.algorithm_version))).toEqual(new Set([older]));
    const second = await replayInto(db);
    expect(second.result.updated).toBe(5);
    const now = await snapshotTables(iso.ch, db);
    expect(now).toEqual(original);
    for (const [i, a] of now.activities.entries()) {
      expect(Number(a.version)).toBeGreaterThan(Number(old.activities[i]!.version));
    }
  });

  test('a time range outside the archive replays nothing', async () => {
    const db = `wtest_replay_${rid()}`;
    const r = await replayInto(db, { from: 0, to: 1000 });
    expect(r.result.records).toBe(0);
  });
});
