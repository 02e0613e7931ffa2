import { createHash } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { activityIdFor } from '../../pipelines/index.js';
import { batchOf, controlOf, rid, rows } from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { activityRow } from './clickhouse-rows.js';
import { applyWorkerSchema } from './clickhouse-schema.js';
import { computeActivity } from './compute.js';
import type { ActivityEvent } from './ports.js';
import type { InboundRecord } from './records.js';
import { Sessions } from './sessions.js';
import { ClickHouseSink } from './sink-clickhouse.js';
import { ClickHouseSessionStore } from './store-clickhouse.js';

// The activity identity is the session identity: (user, device, client session id).
const logger = createLogger('identity-test', 'error');

/** The id before it named the device: UUIDv5 of (user, session) in the same namespace. */
function idWithoutDevice(userId: string, sessionId: string): string {
  const ns = Buffer.from('b0e1f5a46c1d4a7e9a537f1c2d3e4f50', 'hex');
  const h = createHash('sha1').update(ns).update(`${userId}\u0000${sessionId}`, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function records(
  ids: { userId: string; deviceId: string; sessionId: string },
  seed: number,
): InboundRecord[] {
  const { samples } = generateSession({ sport: 'running', seed, durationS: 300 });
  let offset = 0;
  const raw = () => ({
    topic: 't',
    partition: 0,
    offset: String(offset++),
    key: null,
    value: null,
    timestamp: 0,
  });
  return [
    { raw: raw(), decoded: { kind: 'batch', batch: batchOf(ids, samples) } },
    { raw: raw(), decoded: { kind: 'control', control: controlOf(ids, 'end', samples.at(-1)!.ts) } },
  ];
}

describe('activity identity', () => {
  const db = `wtest_identity_${rid()}`;
  const ch = createClient({
    url: 'http://127.0.0.1:8123',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const sink = new ClickHouseSink(ch, db);
  const store = new ClickHouseSessionStore(ch, db);
  const events: ActivityEvent[] = [];
  const sessions = () =>
    new Sessions(
      store,
      { publishActivities: async (e) => void events.push(...e) },
      computeActivity,
      { timeoutMs: 60_000 },
      logger,
    );

  beforeAll(async () => {
    await applyWorkerSchema(ch, db);
  });
  afterAll(async () => {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  });

  test('two devices of one athlete that reuse a client session id make two activities', async () => {
    const userId = `u-${rid()}`;
    const sessionId = '1'; // what simple clients send
    const a = { userId, deviceId: `watch-${rid()}`, sessionId };
    const b = { userId, deviceId: `phone-${rid()}`, sessionId };
    const batch = [...records(a, 1), ...records(b, 2)];
    await sink.writeBatch({ raw: [], records: batch });
    const s = sessions();
    await s.afterFlush({ raw: [], records: batch });
    expect(s.stats.created).toBe(2);
    const acts = await rows<{ activity_id: string; device_id: string }>(
      ch,
      `SELECT activity_id, device_id FROM ${db}.activities_v WHERE user_id = '${userId}' ORDER BY device_id`,
    );
    expect(acts).toHaveLength(2);
    const byDevice = new Map(acts.map((r) => [r.device_id, r.activity_id]));
    expect(byDevice.get(a.deviceId)).toBe(activityIdFor(userId, a.deviceId, sessionId));
    expect(byDevice.get(b.deviceId)).toBe(activityIdFor(userId, b.deviceId, sessionId));
    expect(byDevice.get(a.deviceId)).not.toBe(byDevice.get(b.deviceId));
  });

  test('an activity stored under the id without the device keeps it when late data re-finalises it', async () => {
    const ids = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
    const legacy = idWithoutDevice(ids.userId, ids.sessionId);
    expect(legacy).not.toBe(activityIdFor(ids.userId, ids.deviceId, ids.sessionId));
    const batch = records(ids, 3);
    await sink.writeBatch({ raw: [], records: batch });
    // what a worker before the change stored: the same session under the old id, announced
    const { samples } = generateSession({ sport: 'running', seed: 3, durationS: 300 });
    const first = computeActivity({ ...ids, sport: 'running', samples, controls: [], sets: [], athlete: {} });
    const row = activityRow({ ...first.summary, activityId: legacy }, 1);
    await ch.insert({ table: `${db}.activities`, values: [row], format: 'JSONEachRow' });
    await store.writeAnnouncements([{ ref: { ...ids, sport: 'running' }, version: 1 }]);

    events.length = 0;
    const s = sessions();
    await s.afterFlush({ raw: [], records: batch });
    expect(s.stats.updated).toBe(1);
    expect(events.map((e) => [e.name, e.value.activityId])).toEqual([['ActivityUpdated', legacy]]);
    const acts = await rows<{ activity_id: string; sample_count: number }>(
      ch,
      `SELECT activity_id, sample_count FROM ${db}.activities_v WHERE user_id = '${ids.userId}'`,
    );
    expect(acts.map((r) => r.activity_id)).toEqual([legacy]);
    expect(Number(acts[0]!.sample_count)).toBeGreaterThan(0);
  });
});
