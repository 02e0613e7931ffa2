import type { ClickHouseClient } from '@clickhouse/client';
import type { ActivitySummary, CleanSamples } from '../../pipelines/types.js';
import type { SessionControl } from '../../schemas/types.js';
import { ident, int, str, tuples } from '../common/clickhouse-sql.js';
import {
  READ_BACK_COLUMNS,
  SAMPLE_COLUMNS,
  STREAM_COLUMNS,
  storedFromRows,
  streamRow,
  streamRowObject,
  writeRawSamples,
  writeStreamRow,
} from './clickhouse-rows.js';
import { isClickHouseRetryable, SinkRejectedError, SinkUnavailableError } from './errors.js';
import type {
  ActivityWrite,
  FlushBatch,
  SessionRef,
  SessionStore,
  Sink,
  StoredActivity,
  StoredSession,
} from './ports.js';
import { sessionKey } from './records.js';
import { JsonRowWriter, RowBinaryWriter, type RowWriter } from './rowbinary.js';
import { allocStored, type StoredSamples } from './stored-samples.js';

const fin = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;
const uint = (v: number | null | undefined, max: number): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || v < 0 || v > max ? null : Math.round(v);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/**
 * ClickHouse: the samples/controls/sets/sessions sink (raw rows on arrival), the durable session
 * store that finalisation reads back, and the activity writer. All inserts are JSONEachRow in one
 * request per table per flush; every table is a ReplacingMergeTree on the record identity.
 */
export class ClickHouseStore implements Sink, SessionStore {
  readonly name = 'clickhouse';
  /** a rejected insert may be caused by some records only: the worker splits the batch to find them */
  readonly isolatesRejections = true;
  private readonly db: string;

  /**
   * @param insertFormat samples inserts: RowBinary (default; measured cheaper on both sides) or
   *   JSONEachRow, for clients that cannot send a binary body (chdb's connection adapter).
   */
  constructor(
    private readonly client: ClickHouseClient,
    database: string,
    private readonly insertFormat: 'RowBinary' | 'JSONEachRow' = 'RowBinary',
  ) {
    this.db = ident(database);
  }

  private t(table: string): string {
    return `${this.db}.${ident(table)}`;
  }

  private async run<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (isClickHouseRetryable(err)) throw new SinkUnavailableError(`clickhouse ${what}`, err);
      throw new SinkRejectedError(`clickhouse ${what}`, err);
    }
  }

  private insert(table: string, values: Record<string, unknown>[]): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    return this.run(`insert ${table}`, async () => {
      await this.client.insert({ table: this.t(table), values, format: 'JSONEachRow' });
    });
  }

  /** `rows`: how many rows will be written, to size the buffer once (a samples row is ~90 bytes). */
  private sampleWriter(rows = 0): RowWriter {
    return this.insertFormat === 'RowBinary'
      ? new RowBinaryWriter(Math.max(1 << 16, rows * 128))
      : new JsonRowWriter(SAMPLE_COLUMNS);
  }

  private insertSamples(w: RowWriter): Promise<void> {
    if (w.rows === 0) return Promise.resolve();
    if (w instanceof JsonRowWriter) return this.insert('samples', w.objects());
    if (!(w instanceof RowBinaryWriter)) throw new Error('unknown row writer');
    return this.insertRowBinary('samples', SAMPLE_COLUMNS, w);
  }

  /** A RowBinary insert (exec with a body stream; the response is drained). */
  private insertRowBinary(table: string, columns: readonly string[], w: RowBinaryWriter): Promise<void> {
    return this.run(`insert ${table}`, async () => {
      const r = await this.client.exec({
        query: `INSERT INTO ${this.t(table)} (${columns.join(', ')}) FORMAT RowBinary`,
        values: w.stream(),
      });
      for await (const _ of r.stream) {
        // drain
      }
    });
  }

  private async select<T>(what: string, query: string): Promise<T[]> {
    return this.run(what, async () => {
      const rs = await this.client.query({ query, format: 'JSONEachRow' });
      return rs.json<T>();
    });
  }

  /** Rows as arrays in column order (JSONCompact). */
  private async selectCompact(what: string, query: string): Promise<unknown[][]> {
    return this.run(what, async () => {
      const rs = await this.client.query({ query, format: 'JSONCompact' });
      return (await rs.json<unknown[]>()).data;
    });
  }

  async ping(): Promise<void> {
    const r = await this.client.ping();
    if (!r.success) throw new SinkUnavailableError('clickhouse ping', r.error);
  }

  async writeBatch(batch: FlushBatch): Promise<void> {
    let rows = 0;
    for (const r of batch.records) if (r.decoded.kind === 'batch') rows += r.decoded.batch.samples.length;
    const samples = this.sampleWriter(rows);
    const controls: Record<string, unknown>[] = [];
    const sets: Record<string, unknown>[] = [];
    const manual: Record<string, unknown>[] = [];
    const sessions = new Map<string, Record<string, unknown>>();
    const seenMs = Date.now();
    for (const r of batch.records) {
      const d = r.decoded;
      const s = d.kind === 'batch' ? d.batch : d.control;
      const k = sessionKey(s.deviceId, s.sessionId);
      if (!sessions.has(k)) {
        sessions.set(k, {
          user_id: s.userId,
          device_id: s.deviceId,
          session_id: s.sessionId,
          sport: s.sport,
          kafka_partition: r.raw.partition,
          seen_ms: seenMs,
        });
      }
      if (d.kind === 'batch') {
        const b = d.batch;
        writeRawSamples(samples, b);
        for (const x of b.sets) {
          sets.push({
            user_id: b.userId,
            device_id: b.deviceId,
            session_id: b.sessionId,
            exercise: x.exercise,
            reps: uint(x.reps, 0xffffffff) ?? 0,
            weight_kg: fin(x.weightKg),
            start_ts: x.startTs,
            end_ts: x.endTs,
          });
        }
        const m = b.manual;
        if (m) {
          manual.push({
            user_id: b.userId,
            device_id: b.deviceId,
            session_id: b.sessionId,
            start_ts: m.startTs,
            duration_s: fin(m.durationS) ?? 0,
            distance_m: fin(m.distanceM) ?? 0,
            elev_gain_m: fin(m.elevGainM),
            calories: fin(m.calories),
          });
        }
      } else {
        const c = d.control;
        controls.push({
          user_id: c.userId,
          device_id: c.deviceId,
          session_id: c.sessionId,
          sport: c.sport,
          kind: c.kind,
          ts: c.ts,
        });
      }
    }
    await Promise.all([
      this.insertSamples(samples),
      this.insert('session_controls', controls),
      this.insert('strength_sets', sets),
      this.insert('manual_entries', manual),
      this.insert('session_index', [...sessions.values()]),
    ]);
  }

  /** The deduplicated durable input of one session, in device-time order. */
  async readSession(ref: SessionRef): Promise<StoredSession> {
    return (await this.readSessions([ref])).get(sessionKey(ref.deviceId, ref.sessionId))!;
  }

  /** The deduplicated durable input of many sessions (three queries in all), by sessionKey. */
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
      this.selectCompact(
        'read samples',
        `SELECT ${READ_BACK_COLUMNS}
         FROM ${this.t('samples')} FINAL
         PREWHERE user_id IN (${users}) AND (device_id, session_id) IN ${pairs}
         ORDER BY device_id, session_id, ts, sample_key`,
      ),
      this.select<Record<string, unknown>>(
        'read controls',
        `SELECT device_id, session_id, kind, sport, ts FROM ${this.t('session_controls')} FINAL
         WHERE (device_id, session_id) IN ${pairs} ORDER BY device_id, session_id, ts, kind`,
      ),
      this.select<Record<string, unknown>>(
        'read sets',
        `SELECT device_id, session_id, exercise, reps, weight_kg, start_ts, end_ts FROM ${this.t('strength_sets')} FINAL
         WHERE (device_id, session_id) IN ${pairs} ORDER BY device_id, session_id, start_ts, exercise`,
      ),
      this.select<Record<string, unknown>>(
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
    const rows = await this.selectCompact(
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
    const rows = await this.select<Record<string, unknown>>(
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
    if (this.insertFormat === 'JSONEachRow') {
      await this.insert('activity_streams', streams.map(streamRowObject));
    } else {
      let bytes = 0;
      for (const r of streams) bytes += r.length * 64 + 256;
      const w = new RowBinaryWriter(bytes);
      for (const r of streams) writeStreamRow(w, r);
      await this.insertRowBinary('activity_streams', STREAM_COLUMNS, w);
    }
    await this.insert(
      'activities',
      items.map((it) => activityRow(it.summary, it.version)),
    );
  }

  /** Records that Kafka acknowledged the events of these activity versions. */
  async writeAnnouncements(items: readonly { ref: SessionRef; version: number }[]): Promise<void> {
    await this.insert(
      'activity_announcements',
      items.map((it) => ({
        user_id: it.ref.userId,
        device_id: it.ref.deviceId,
        session_id: it.ref.sessionId,
        version: it.version,
      })),
    );
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
    const rows = await this.selectCompact(
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

  async close(): Promise<void> {
    await this.client.close();
  }
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function activityRow(s: ActivitySummary, version: number): Record<string, unknown> {
  return {
    activity_id: s.activityId,
    user_id: s.userId,
    device_id: s.deviceId,
    session_id: s.sessionId,
    sport: s.sport,
    version,
    algorithm_version: s.algorithmVersion,
    day: utcDay(s.startTs),
    start_ts: s.startTs,
    end_ts: s.endTs,
    elapsed_s: s.elapsedS,
    moving_s: s.movingS,
    distance_m: s.distanceM,
    device_distance_m: fin(s.deviceDistanceM),
    raw_distance_m: s.rawDistanceM,
    avg_speed_mps: s.avgSpeedMps,
    max_speed_mps: s.maxSpeedMps,
    avg_pace_s_per_km: fin(s.avgPaceSPerKm),
    elev_gain_m: s.elevGainM,
    elev_loss_m: s.elevLossM,
    min_alt_m: fin(s.minAltM),
    max_alt_m: fin(s.maxAltM),
    hr_avg: fin(s.hr?.avg),
    hr_max: fin(s.hr?.max),
    hr_zones_s: s.hr ? [...s.hr.zonesS] : [],
    hr_trimp: fin(s.hr?.trimp),
    hr_max_used: fin(s.hr?.maxHrUsed),
    hr_max_source: s.hr?.maxHrSource ?? '',
    cadence_avg: fin(s.cadenceAvg),
    power_avg: fin(s.powerAvg),
    power_max: fin(s.powerMax),
    normalized_power: fin(s.normalizedPower),
    calories: s.calories,
    calories_method: s.caloriesMethod,
    polyline: s.polyline,
    laps: JSON.stringify(s.laps),
    splits_km: JSON.stringify(s.splitsKm),
    splits_mile: JSON.stringify(s.splitsMile),
    best_efforts: JSON.stringify(s.bestEfforts),
    strength: s.strength ? JSON.stringify(s.strength) : '',
    sample_count: s.sampleCount,
    rejected_count: s.rejectedCount,
    duplicate_count: s.duplicateCount,
    summary: JSON.stringify(s),
  };
}
