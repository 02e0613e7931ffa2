import type { ClickHouseClient } from '@clickhouse/client';
import type { ActivitySummary, CleanSamples } from '../../pipelines/types.js';
import type { SessionControl } from '../../schemas/types.js';
import { int, str, tuples } from '../common/clickhouse-sql.js';
import { ClickHouseTables } from './clickhouse-io.js';
import {
  activityRow,
  announcementRow,
  READ_BACK_COLUMNS,
  STREAM_COLUMNS,
  storedFromRows,
  streamRow,
  streamRowObject,
  writeStreamRow,
} from './clickhouse-rows.js';
import type { ActivityWrite, SessionRef, SessionStore, StoredActivity, StoredSession } from './ports.js';
import { sessionKey } from './records.js';
import { RowBinaryWriter } from './rowbinary.js';
import { allocStored, type StoredSamples } from './stored-samples.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/**
 * The session store on ClickHouse: what finalisation reads back (the sessions' deduplicated samples,
 * controls and sets, `samples FINAL` and its neighbours; which sessions `session_index` knows; the
 * latest stored activity versions) and what it writes (one `activity_streams` row of arrays per
 * activity version, the `activities` row, `activity_announcements`). Reads are one query per table
 * for many sessions; every table is a ReplacingMergeTree on its identity, so writes are idempotent.
 */
export class ClickHouseSessionStore implements SessionStore {
  readonly tables: ClickHouseTables;

  /** @param insertFormat see ClickHouseTables */
  constructor(client: ClickHouseClient, database: string, insertFormat?: 'RowBinary' | 'JSONEachRow') {
    this.tables = new ClickHouseTables(client, database, insertFormat);
  }

  private t(table: string): string {
    return this.tables.t(table);
  }

  /** The deduplicated durable input of one session, in device-time order. */
  async readSession(ref: SessionRef): Promise<StoredSession> {
    return (await this.readSessions([ref])).get(sessionKey(ref.deviceId, ref.sessionId))!;
  }

  /** The deduplicated durable input of many sessions (four queries in all), by sessionKey. */
  async readSessions(refs: readonly SessionRef[]): Promise<Map<string, StoredSession>> {
    const out = new Map<string, StoredSession>();
    if (refs.length === 0) return out;
    const byKey = new Map<string, SessionRef>();
    for (const r of refs) {
      const k = sessionKey(r.deviceId, r.sessionId);
      byKey.set(k, r);
      out.set(k, { samples: allocStored(0), controls: [], sets: [], manual: [] });
    }
    const users = [...new Set(refs.map((r) => r.userId))].map(str).join(', ');
    const pairs = tuples(refs.map((r) => [r.deviceId, r.sessionId]));
    const [samples, controls, sets, manual] = await Promise.all([
      // JSONCompact (one array per row, parsed in one go) rather than JSONEachRow: a fraction of
      // the formatting work on the server and of the parsing on the worker, same number texts.
      // PREWHERE on the sorting-key columns only, so it cannot change which row FINAL keeps.
      this.tables.selectCompact(
        'read samples',
        `SELECT ${READ_BACK_COLUMNS}
         FROM ${this.t('samples')} FINAL
         PREWHERE user_id IN (${users}) AND (device_id, session_id) IN ${pairs}
         ORDER BY device_id, session_id, ts, sample_key`,
      ),
      this.tables.select<Record<string, unknown>>(
        'read controls',
        `SELECT device_id, session_id, kind, sport, ts FROM ${this.t('session_controls')} FINAL
         WHERE (device_id, session_id) IN ${pairs} ORDER BY device_id, session_id, ts, kind`,
      ),
      this.tables.select<Record<string, unknown>>(
        'read sets',
        `SELECT device_id, session_id, exercise, reps, weight_kg, start_ts, end_ts FROM ${this.t('strength_sets')} FINAL
         WHERE (device_id, session_id) IN ${pairs} ORDER BY device_id, session_id, start_ts, exercise`,
      ),
      this.tables.select<Record<string, unknown>>(
        'read manual entries',
        `SELECT device_id, session_id, start_ts, duration_s, distance_m, elev_gain_m, calories
         FROM ${this.t('manual_entries')} FINAL
         WHERE (device_id, session_id) IN ${pairs} ORDER BY device_id, session_id, start_ts`,
      ),
    ]);
    const at = (r: Record<string, unknown>) => out.get(sessionKey(String(r.device_id), String(r.session_id)));
    // rows come grouped by session: one run of rows per session, stored columnar
    for (let i = 0; i < samples.length; ) {
      const first = samples[i]!;
      let end = i + 1;
      while (end < samples.length && samples[end]![0] === first[0] && samples[end]![1] === first[1]) end++;
      const target = out.get(sessionKey(String(first[0]), String(first[1])));
      if (target) target.samples = storedFromRows(samples, i, end);
      i = end;
    }
    for (const r of controls) {
      const ref = byKey.get(sessionKey(String(r.device_id), String(r.session_id)));
      if (!ref) continue;
      at(r)?.controls.push({
        userId: ref.userId,
        deviceId: ref.deviceId,
        sessionId: ref.sessionId,
        kind: r.kind as SessionControl['kind'],
        sport: r.sport as SessionControl['sport'],
        ts: num(r.ts),
        receivedAt: 0,
      });
    }
    for (const r of sets) {
      at(r)?.sets.push({
        exercise: String(r.exercise),
        reps: num(r.reps),
        weightKg: numOrNull(r.weight_kg),
        startTs: num(r.start_ts),
        endTs: numOrNull(r.end_ts),
      });
    }
    for (const r of manual) {
      at(r)?.manual.push({
        startTs: num(r.start_ts),
        durationS: num(r.duration_s),
        distanceM: num(r.distance_m),
        elevGainM: numOrNull(r.elev_gain_m),
        calories: numOrNull(r.calories),
      });
    }
    return out;
  }

  /**
   * Which of these sessions the `session_index` table knows, i.e. has any durable row (every flush
   * writes the index row of each session it carries, acknowledged before its offsets commit).
   */
  async knownSessions(refs: readonly SessionRef[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (refs.length === 0) return out;
    const rows = await this.tables.selectCompact(
      'read known sessions',
      `SELECT DISTINCT device_id, session_id FROM ${this.t('session_index')}
       WHERE (device_id, session_id) IN ${tuples(refs.map((r) => [r.deviceId, r.sessionId]))}`,
    );
    for (const r of rows) out.add(sessionKey(String(r[0]), String(r[1])));
    return out;
  }

  /** Latest stored version of the activities of these sessions (absent: never finalised). */
  async activityVersions(refs: readonly SessionRef[]): Promise<Map<string, StoredActivity>> {
    const out = new Map<string, StoredActivity>();
    if (refs.length === 0) return out;
    const users = [...new Set(refs.map((r) => r.userId))];
    const rows = await this.tables.select<Record<string, unknown>>(
      'read activity versions',
      `SELECT device_id, session_id, max(version) AS v, min(version) AS f, argMax(day, version) AS d,
              argMax(activity_id, version) AS id
       FROM ${this.t('activities')}
       WHERE user_id IN (${users.map(str).join(', ')})
         AND (device_id, session_id) IN ${tuples(refs.map((r) => [r.deviceId, r.sessionId]))}
       GROUP BY device_id, session_id`,
    );
    for (const r of rows) {
      const deviceId = String(r.device_id);
      const sessionId = String(r.session_id);
      out.set(sessionKey(deviceId, sessionId), {
        deviceId,
        sessionId,
        activityId: String(r.id),
        version: num(r.v),
        firstVersion: num(r.f),
        day: String(r.d),
      });
    }
    return out;
  }

  /** Writes the streams row, then the activity row (its presence marks the session finalised). */
  async writeActivity(
    ref: SessionRef,
    version: number,
    summary: ActivitySummary,
    clean: CleanSamples,
    input: StoredSamples,
  ): Promise<void> {
    await this.writeActivities([{ ref, version, summary, clean, input }]);
  }

  /**
   * Many activities: one insert of their streams (one row of arrays per activity version), then one
   * of their activity rows. The raw samples are not written again: `samples` keeps them as received.
   */
  async writeActivities(items: readonly ActivityWrite[]): Promise<void> {
    if (items.length === 0) return;
    const streams = items.map((it) =>
      streamRow(
        {
          activityId: it.summary.activityId,
          userId: it.ref.userId,
          deviceId: it.ref.deviceId,
          sessionId: it.ref.sessionId,
          sport: it.ref.sport,
        },
        it.version,
        it.clean,
      ),
    );
    if (this.tables.insertFormat === 'JSONEachRow') {
      await this.tables.insert('activity_streams', streams.map(streamRowObject));
    } else {
      let bytes = 0;
      for (const r of streams) bytes += r.length * 64 + 256;
      const w = new RowBinaryWriter(bytes);
      for (const r of streams) writeStreamRow(w, r);
      await this.tables.insertRowBinary('activity_streams', STREAM_COLUMNS, w);
    }
    await this.tables.insert(
      'activities',
      items.map((it) => activityRow(it.summary, it.version)),
    );
  }

  /** Records that Kafka acknowledged the events of these activity versions. */
  async writeAnnouncements(items: readonly { ref: SessionRef; version: number }[]): Promise<void> {
    await this.tables.insert('activity_announcements', items.map(announcementRow));
  }

  /**
   * Sessions carried by these partitions that have no announced activity yet (to finalise after a
   * timeout): never finalised, or stored by a round that was cut before its events were sent.
   * Only sessions that a flush carried at or after `sinceMs` (worker clock) are looked at: the
   * index is partitioned by that month, and announcements are read for those sessions only, so
   * the cost follows the sessions of the window, not every activity ever stored.
   */
  async unfinalisedSessions(
    partitions: readonly number[],
    sinceMs: number,
  ): Promise<(SessionRef & { partition: number })[]> {
    if (partitions.length === 0) return [];
    const recent = `${this.t('session_index')}
       WHERE seen_ms >= ${int(sinceMs)} AND kafka_partition IN (${partitions.map(int).join(', ')})`;
    const rows = await this.tables.selectCompact(
      'read open sessions',
      `SELECT user_id, device_id, session_id, sport, kafka_partition
       FROM ${recent}
         AND (device_id, session_id) NOT IN (
           SELECT device_id, session_id FROM ${this.t('activity_announcements')}
           WHERE (device_id, session_id) IN (SELECT device_id, session_id FROM ${recent}))
       ORDER BY device_id, session_id, seen_ms DESC
       LIMIT 1 BY device_id, session_id`,
    );
    return rows.map((r) => ({
      userId: String(r[0]),
      deviceId: String(r[1]),
      sessionId: String(r[2]),
      sport: String(r[3]),
      partition: num(r[4]),
    }));
  }
}
