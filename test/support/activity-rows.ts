import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';

/** The figures of an activity row that the stats and progress tests vary; the rest gets plain defaults. */
export interface ActivityRow {
  sport: string;
  startTs: number;
  distanceM: number;
  movingS: number;
  elevGainM?: number;
  calories?: number;
  powerAvg?: number | null;
  bestEfforts?: unknown[];
  /** another version of an activity already inserted: its id (default: a new one) and version (default 1) */
  activityId?: string;
  version?: number;
  summary?: Record<string, unknown>;
}

/** Inserts one activity row (version 1 unless given) as the worker would store it; returns its id. */
export async function insertActivityRow(
  clickhouse: ClickHouseClient,
  database: string,
  userId: string,
  r: ActivityRow,
): Promise<string> {
  const activityId = r.activityId ?? randomUUID();
  await clickhouse.insert({
    table: `${database}.activities`,
    format: 'JSONEachRow',
    values: [
      {
        activity_id: activityId,
        user_id: userId,
        device_id: 'd',
        session_id: activityId,
        sport: r.sport,
        version: r.version ?? 1,
        algorithm_version: 'test',
        day: new Date(r.startTs).toISOString().slice(0, 10),
        start_ts: r.startTs,
        end_ts: Math.round(r.startTs + r.movingS * 1000),
        elapsed_s: r.movingS,
        moving_s: r.movingS,
        distance_m: r.distanceM,
        raw_distance_m: r.distanceM,
        avg_speed_mps: r.movingS > 0 ? r.distanceM / r.movingS : 0,
        max_speed_mps: 0,
        elev_gain_m: r.elevGainM ?? 0,
        elev_loss_m: 0,
        hr_zones_s: [],
        hr_max_source: '',
        power_avg: r.powerAvg ?? null,
        calories: r.calories ?? 0,
        calories_method: 'met',
        polyline: '',
        laps: '[]',
        splits_km: '[]',
        splits_mile: '[]',
        best_efforts: JSON.stringify(r.bestEfforts ?? []),
        strength: '',
        sample_count: 1,
        rejected_count: 0,
        duplicate_count: 0,
        summary: JSON.stringify(r.summary ?? {}),
      },
    ],
  });
  return activityId;
}

/** The worker's ClickHouse tables, for tests that fill them by hand (on 18.16 or on chdb). */
export { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';
