import type { ClickHouseClient } from '@clickhouse/client';
import { type ActivitySummary, type CleanSamples, SEQ_NONE } from '../../pipelines/types.js';
import type { SessionControl, StrengthSet, TelemetryBatch } from '../../schemas/types.js';
import { ident, int, str, tuples } from '../common/clickhouse-sql.js';
import { cleanSampleVersion, rawSampleVersion } from './activity-version.js';
import { isClickHouseRetryable, SinkRejectedError, SinkUnavailableError } from './errors.js';
import type { FlushBatch, Sink } from './ports.js';
import { sessionKey } from './records.js';
import { encodeString, JsonRowWriter, RowBinaryWriter, type RowWriter } from './rowbinary.js';
import { allocStored, type StoredSamples, storedKey } from './stored-samples.js';

/** What identifies a session and who owns it. */
export interface SessionRef {
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: string;
}

/** A session as durably stored: the input to a finalisation. */
export interface StoredSession {
  samples: StoredSamples;
  controls: SessionControl[];
  sets: StrengthSet[];
}

export interface StoredActivity {
  deviceId: string;
  sessionId: string;
  /** the id it is stored under (sessions stored before ids named the device keep theirs) */
  activityId: string;
  version: number;
  /**
   * Lowest version still stored (non-FINAL; merges drop older versions, so this may equal
   * `version` even when earlier versions existed): tells a re-announced event Created from Updated.
   */
  firstVersion: number;
  day: string;
}

const fin = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;
const uint = (v: number | null | undefined, max: number): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || v < 0 || v > max ? null : Math.round(v);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/** Column order of the samples table, as RowBinary inserts name them. */
export const SAMPLE_COLUMNS = [
  'user_id',
  'device_id',
  'session_id',
  'sport',
  'sample_key',
  'seq',
  'ts',
  'lat',
  'lon',
  'lat_smooth',
  'lon_smooth',
  'alt',
  'alt_smooth',
  'acc',
  'speed_device',
  'dist_device',
  'speed',
  'distance_m',
  'hr',
  'cadence',
  'power',
  'lap',
  'flags',
  'cleaned',
  'activity_version',
  'version',
] as const;

/** Appends raw sample rows of one batch (identity strings encoded once per batch). */
export function writeRawSamples(w: RowWriter, b: TelemetryBatch): void {
  const names = [b.userId, b.deviceId, b.sessionId, b.sport];
  const ident = Buffer.concat([
    encodeString(b.userId),
    encodeString(b.deviceId),
    encodeString(b.sessionId),
    encodeString(b.sport),
  ]);
  for (const s of b.samples) {
    w.strings(names, ident);
    w.u64(s.seq ?? s.ts);
    w.nullable(s.seq, 'u32');
    w.u64(s.ts);
    w.nullable(fin(s.lat), 'f64');
    w.nullable(fin(s.lon), 'f64');
    w.u8(1); // lat_smooth
    w.u8(1); // lon_smooth
    w.nullable(fin(s.alt), 'f32');
    w.u8(1); // alt_smooth
    w.nullable(fin(s.acc), 'f32');
    w.nullable(fin(s.speed), 'f32');
    w.nullable(fin(s.dist), 'f32');
    w.u8(1); // speed
    w.u8(1); // distance_m
    w.nullable(uint(s.hr, 255), 'u8');
    w.nullable(uint(s.cadence, 65535), 'u16');
    w.nullable(uint(s.power, 65535), 'u16');
    w.u8(s.lap ? 1 : 0);
    w.u8(0); // flags
    w.u8(0); // cleaned
    w.u64(0); // activity_version
    w.u64(rawSampleVersion(s.ts));
    w.rows++;
  }
}

/**
 * ClickHouse: the samples/controls/sets/sessions sink (raw rows on arrival), the durable session
 * store that finalisation reads back, and the activity writer. All inserts are JSONEachRow in one
 * request per table per flush; every table is a ReplacingMergeTree on the record identity.
 */
export class ClickHouseStore implements Sink {
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

  /** RowBinary insert into samples (exec with a body stream; the response is drained). */
  /** `rows`: how many rows will be written, to size the buffer once (a samples row is ~150 bytes). */
  private sampleWriter(rows = 0): RowWriter {
    return this.insertFormat === 'RowBinary'
      ? new RowBinaryWriter(Math.max(1 << 16, rows * 192))
      : new JsonRowWriter(SAMPLE_COLUMNS);
  }

  private insertSamples(w: RowWriter): Promise<void> {
    if (w.rows === 0) return Promise.resolve();
    if (w instanceof JsonRowWriter) return this.insert('samples', w.objects());
    if (!(w instanceof RowBinaryWriter)) throw new Error('unknown row writer');
    return this.run('insert samples', async () => {
      const r = await this.client.exec({
        query: `INSERT INTO ${this.t('samples')} (${SAMPLE_COLUMNS.join(', ')}) FORMAT RowBinary`,
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
      out.set(k, { samples: allocStored(0), controls: [], sets: [] });
    }
    const users = [...new Set(refs.map((r) => r.userId))].map(str).join(', ');
    const pairs = tuples(refs.map((r) => [r.deviceId, r.sessionId]));
    const [samples, controls, sets] = await Promise.all([
      // JSONCompact (one array per row, parsed in one go) rather than JSONEachRow: a fraction of
      // the formatting work on the server and of the parsing on the worker, same number texts.
      // PREWHERE on the sorting-key columns only, so it cannot change which row FINAL keeps.
      this.selectCompact(
        'read samples',
        `SELECT device_id, session_id, seq, ts, lat, lon, alt, acc, speed_device, dist_device, hr, cadence, power, lap
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

  /** Writes the cleaned samples, then the activity row (its presence marks the session finalised). */
  async writeActivity(
    ref: SessionRef,
    version: number,
    summary: ActivitySummary,
    clean: CleanSamples,
    input: StoredSamples,
  ): Promise<void> {
    await this.writeActivities([{ ref, version, summary, clean, input }]);
  }

  /** Many activities: one insert of cleaned samples, then one of activity rows. */
  async writeActivities(items: readonly ActivityWrite[]): Promise<void> {
    let rows = 0;
    for (const it of items) rows += it.clean.length;
    const w = this.sampleWriter(rows);
    for (const it of items) writeCleanSamples(w, it);
    await this.insertSamples(w);
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

export interface ActivityWrite {
  ref: SessionRef;
  version: number;
  summary: ActivitySummary;
  clean: CleanSamples;
  /** the stored rows the activity was computed from (device-reported acc/speed/dist and laps come from them) */
  input: StoredSamples;
}

/** JSONCompact rows [from, to) of the read-back query (one session) as StoredSamples. */
function storedFromRows(rows: readonly unknown[][], from: number, to: number): StoredSamples {
  const s = allocStored(to - from);
  const nan = (v: unknown) => (v === null || v === undefined ? Number.NaN : num(v));
  const neg = (v: unknown) => (v === null || v === undefined ? -1 : num(v));
  for (let i = from, k = 0; i < to; i++, k++) {
    const r = rows[i]!;
    s.seq[k] = r[2] === null || r[2] === undefined ? SEQ_NONE : num(r[2]);
    s.ts[k] = num(r[3]);
    s.lat[k] = nan(r[4]);
    s.lon[k] = nan(r[5]);
    s.alt[k] = nan(r[6]);
    s.acc[k] = nan(r[7]);
    s.speed[k] = nan(r[8]);
    s.dist[k] = nan(r[9]);
    s.hr[k] = neg(r[10]);
    s.cadence[k] = neg(r[11]);
    s.power[k] = neg(r[12]);
    s.lap[k] = num(r[13]) === 1 ? 1 : 0;
  }
  s.length = to - from;
  return s;
}

function writeCleanSamples(w: RowWriter, { ref, version, clean, input }: ActivityWrite): void {
  const names = [ref.userId, ref.deviceId, ref.sessionId, ref.sport];
  // (input keys are unique: FINAL keeps one row per sample_key)
  // clean rows come in the input's order nearly always: walk both, and index the input by key
  // only when a row is not where the walk expects it
  let byKey: Map<number, number> | undefined;
  let j = 0;
  const source = (key: number): number => {
    if (j < input.length && storedKey(input, j) === key) return j++;
    if (!byKey) {
      byKey = new Map();
      for (let i = 0; i < input.length; i++) byKey.set(storedKey(input, i), i);
    }
    return byKey.get(key) ?? -1;
  };
  const rowVersion = cleanSampleVersion(version);
  const ident = Buffer.concat([
    encodeString(ref.userId),
    encodeString(ref.deviceId),
    encodeString(ref.sessionId),
    encodeString(ref.sport),
  ]);
  for (let i = 0; i < clean.length; i++) {
    const seq = clean.seq[i]!;
    const ts = clean.ts[i]!;
    const key = seq === SEQ_NONE ? ts : seq;
    const src = source(key);
    const hr = clean.hr[i]!;
    const cadence = clean.cadence[i]!;
    const power = clean.power[i]!;
    w.strings(names, ident);
    w.u64(key);
    w.nullable(seq === SEQ_NONE ? null : seq, 'u32');
    w.u64(ts);
    w.nullable(fin(clean.lat[i]), 'f64');
    w.nullable(fin(clean.lon[i]), 'f64');
    w.nullable(fin(clean.latSmooth[i]), 'f64');
    w.nullable(fin(clean.lonSmooth[i]), 'f64');
    w.nullable(fin(clean.alt[i]), 'f32');
    w.nullable(fin(clean.altSmooth[i]), 'f32');
    // NaN (no value) is written as null
    w.nullable(src < 0 ? null : input.acc[src], 'f32');
    w.nullable(src < 0 ? null : input.speed[src], 'f32');
    w.nullable(src < 0 ? null : input.dist[src], 'f32');
    w.nullable(fin(clean.speed[i]), 'f32');
    w.nullable(fin(clean.distance[i]), 'f64');
    w.nullable(hr === 0 ? null : hr, 'u8');
    w.nullable(cadence === 0xffff ? null : cadence, 'u16');
    w.nullable(power === 0xffff ? null : power, 'u16');
    w.u8(src >= 0 && input.lap[src] === 1 ? 1 : 0);
    w.u8(clean.flags[i]!);
    w.u8(1);
    w.u64(version);
    w.u64(rowVersion);
    w.rows++;
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
