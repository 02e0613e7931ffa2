// The files of an activity for export (GET /v1/activities/{id}/export, the account export): its samples as
// recorded (samples_v, not the smoothed track) and, for TCX and FIT, its computed laps and totals and its
// pauses, through the writers in pipelines/import. docs/uploads.md, Export.
import { exportActivityOf, writeFit, writeGpx, writeTcx } from '../../pipelines/import/index.js';
import type { ActivitySummary } from '../../pipelines/types.js';
import type { Sample } from '../../schemas/types.js';
import { ident, str } from '../common/clickhouse-sql.js';
import type { ApiDeps } from './deps.js';
import { selectRows } from './routes/shared.js';

export type ExportFormat = 'gpx' | 'tcx' | 'fit';

/** The media type of each export format (TCX and FIT as Garmin's tools name them). */
export const EXPORT_TYPES: Readonly<Record<ExportFormat, string>> = {
  gpx: 'application/gpx+xml; charset=utf-8',
  tcx: 'application/vnd.garmin.tcx+xml; charset=utf-8',
  fit: 'application/vnd.ant.fit',
};

/** The stored activity row an export reads (activities FINAL). */
export interface ExportRow {
  device_id: string;
  session_id: string;
  sport: string;
  summary: string;
}

/** An activity's file in `format`: GPX and TCX as text, FIT as bytes. */
export async function exportFile(
  deps: ApiDeps,
  format: ExportFormat,
  owner: string,
  row: ExportRow,
  name: string | null,
): Promise<string | Buffer> {
  const db = ident(deps.clickhouseDatabase);
  const session = `user_id = ${str(owner)} AND device_id = ${str(row.device_id)} AND session_id = ${str(row.session_id)}`;
  const [rows, controls] = await Promise.all([
    selectRows<{
      ts: string | number;
      seq: number | null;
      lat: number | null;
      lon: number | null;
      alt: number | null;
      acc: number | null;
      speed_device: number | null;
      dist_device: number | null;
      hr: number | null;
      cadence: number | null;
      power: number | null;
    }>(
      deps.clickhouse,
      `SELECT ts, seq, lat, lon, alt, acc, speed_device, dist_device, hr, cadence, power FROM ${db}.samples_v
         WHERE ${session} ORDER BY ts, sample_key`,
    ),
    format === 'gpx'
      ? Promise.resolve([])
      : selectRows<{ kind: string; ts: string | number }>(
          deps.clickhouse,
          `SELECT DISTINCT kind, ts FROM ${db}.session_controls
             WHERE ${session} AND kind IN ('pause', 'resume') ORDER BY ts`,
        ),
  ]);
  const samples: Sample[] = rows.map((r, i) => ({
    ts: Number(r.ts),
    seq: r.seq ?? i,
    lat: r.lat,
    lon: r.lon,
    alt: r.alt,
    acc: format === 'fit' ? r.acc : null,
    speed: r.speed_device,
    dist: r.dist_device,
    hr: r.hr,
    cadence: r.cadence,
    power: r.power,
    lap: false,
  }));
  if (format === 'gpx') return writeGpx(samples, { name: name ?? undefined, type: row.sport });
  const activity = exportActivityOf(
    {
      sport: row.sport as ActivitySummary['sport'],
      ...(JSON.parse(row.summary) as Partial<ActivitySummary>),
    },
    samples,
    controls.map((c) => ({ kind: c.kind as 'pause' | 'resume', ts: Number(c.ts) })),
    name,
  );
  return format === 'tcx' ? writeTcx(activity) : Buffer.from(writeFit(activity));
}
