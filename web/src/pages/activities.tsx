import polyline from '@mapbox/polyline';
import { useMemo, useState } from 'preact/hooks';
import { useUnits } from '../profile';
import type { LatLon } from '../projection';
import { Chart, RouteMap, Status, useApi } from '../ui';
import { distance, distanceUnit, duration, elevation, pace, paceOrSpeed, showsPace, speed } from '../units';

interface ListItem {
  activity_id: string;
  sport: string;
  start_time: string;
  start_ts: number;
  elapsed_s: number;
  moving_s: number;
  distance_m: number;
  elev_gain_m: number;
  avg_speed_mps: number;
  hr_avg: number | null;
}

export const SPORTS = ['running', 'cycling', 'walking', 'hiking', 'strength'] as const;

export const decode = (s: string): LatLon[] => polyline.decode(s).map(([lat, lon]) => ({ lat, lon }));

const localDate = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The athlete's activities, newest first, filtered by sport (server side) and by date (a start-before bound). */
export function ActivityList() {
  const units = useUnits();
  const [sport, setSport] = useState('');
  const [before, setBefore] = useState('');
  const q = new URLSearchParams({ limit: '50' });
  if (sport) q.set('sport', sport);
  // the end of the chosen day, in the browser's zone
  if (before) q.set('before', String(new Date(`${before}T23:59:59.999`).getTime() + 1));
  const { data, error } = useApi<{ items: ListItem[] }>(`/v1/activities?${q}`);
  return (
    <section aria-labelledby="activities-title">
      <h1 id="activities-title">Activities</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter activities">
        <label>
          Sport
          <select name="sport" value={sport} onChange={(e) => setSport(e.currentTarget.value)}>
            <option value="">all</option>
            {SPORTS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          On or before
          <input
            type="date"
            name="before"
            value={before}
            onChange={(e) => setBefore(e.currentTarget.value)}
          />
        </label>
      </form>
      <Status error={error} loading={!data} />
      {data && data.items.length === 0 && (
        <p>
          No activities yet. <a href="#/upload">Upload one</a>.
        </p>
      )}
      {data && data.items.length > 0 && (
        <table class="list">
          <caption class="sr-only">Activities, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Sport</th>
              <th scope="col">Distance</th>
              <th scope="col">Moving time</th>
              <th scope="col">Pace / speed</th>
              <th scope="col">Elevation</th>
              <th scope="col">HR</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((a) => (
              <tr key={a.activity_id} data-activity={a.activity_id}>
                <td>
                  <a href={`#/activities/${a.activity_id}`}>{localDate(a.start_time)}</a>
                </td>
                <td>{a.sport}</td>
                <td data-field="distance">{distance(a.distance_m, units)}</td>
                <td>{duration(a.moving_s)}</td>
                <td>
                  {paceOrSpeed(
                    a.sport,
                    a.avg_speed_mps,
                    a.avg_speed_mps > 0 ? 1000 / a.avg_speed_mps : null,
                    units,
                  )}
                </td>
                <td>{elevation(a.elev_gain_m, units)}</td>
                <td>{a.hr_avg === null ? '–' : Math.round(a.hr_avg)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface Split {
  index: number;
  distance_m: number;
  elapsed_s: number;
  moving_s: number;
  pace_s_per_km: number | null;
  avg_speed_mps: number;
  avg_hr: number | null;
  elev_gain_m: number;
  elev_loss_m: number;
}
interface Lap {
  index: number;
  elapsed_s: number;
  moving_s: number;
  distance_m: number;
  avg_speed_mps: number;
  avg_hr: number | null;
  max_hr: number | null;
  elev_gain_m: number;
}
interface Summary {
  sport: string;
  start_ts: number;
  elapsed_s: number;
  moving_s: number;
  distance_m: number;
  device_distance_m: number | null;
  raw_distance_m: number;
  avg_speed_mps: number;
  max_speed_mps: number;
  avg_pace_s_per_km: number | null;
  elev_gain_m: number;
  elev_loss_m: number;
  min_alt_m: number | null;
  max_alt_m: number | null;
  hr: { avg: number; max: number; zones_s: number[]; max_hr_used: number } | null;
  calories: number;
  laps: Lap[];
  splits_km: Split[];
  splits_mile: Split[];
  best_efforts: {
    kind: string;
    name: string;
    distance_m: number;
    duration_s: number;
    avg_speed_mps: number;
  }[];
  polyline: string;
  [k: string]: unknown;
}
interface Detail {
  activity_id: string;
  status: 'processing' | 'ready';
  name: string | null;
  notes: string | null;
  summary: Summary | null;
}

/** Device totals the upload or the device reported, beside Fitstream's own (shown when present). */
function deviceTotals(s: Summary): [string, number][] {
  return Object.entries(s)
    .filter(([k, v]) => k.startsWith('device_') && typeof v === 'number')
    .map(([k, v]) => [k.slice('device_'.length).replace(/_/g, ' '), v as number]);
}

export function ActivityDetail({ id }: { id: string }) {
  const units = useUnits();
  const { data, error } = useApi<Detail>(`/v1/activities/${encodeURIComponent(id)}`);
  const s = data?.summary ?? null;
  // the cleaned samples (GET /v1/activities/{id}/streams, ~1000 points); the splits stand in while there are none
  const streams = useApi<StreamsResponse>(
    data?.status === 'ready'
      ? `/v1/activities/${encodeURIComponent(id)}/streams?keys=distance,altitude,heartrate,velocity_smooth,latlng&resolution=medium`
      : null,
  );
  const series = useMemo(() => (streams.data ? streamSeries(streams.data) : null), [streams.data]);
  const points = useMemo(
    () => (series && series.latlng.length > 1 ? series.latlng : s?.polyline ? decode(s.polyline) : []),
    [series, s?.polyline],
  );
  const splits = s ? (units === 'imperial' ? s.splits_mile : s.splits_km) : [];
  const unit = distanceUnit(units);
  // where each split ends, in the athlete's unit (the last one may be short)
  let end = 0;
  const splitEnds = splits.map((p) => {
    end += p.distance_m / unit.m;
    return Math.round(end * 100) / 100;
  });
  return (
    <section aria-labelledby="activity-title" class="activity">
      <p>
        <a href="#/activities">← Activities</a>
      </p>
      <h1 id="activity-title">
        {data?.name ?? (s ? `${s.sport} · ${new Date(s.start_ts).toLocaleString()}` : 'Activity')}
      </h1>
      <Status error={error} loading={!data} />
      {data?.status === 'processing' && (
        <p aria-live="polite">Processing: the figures appear when the worker has computed them.</p>
      )}
      {data?.notes && <p class="notes">{data.notes}</p>}
      {s && (
        <>
          <dl class="figures big" aria-label="Totals">
            <dt>Distance</dt>
            <dd data-field="distance">{distance(s.distance_m, units)}</dd>
            <dt>Moving time</dt>
            <dd>{duration(s.moving_s)}</dd>
            <dt>Elapsed</dt>
            <dd>{duration(s.elapsed_s)}</dd>
            <dt>Pace / speed</dt>
            <dd>{paceOrSpeed(s.sport, s.avg_speed_mps, s.avg_pace_s_per_km, units)}</dd>
            <dt>Elevation</dt>
            <dd>
              +{elevation(s.elev_gain_m, units)} / −{elevation(s.elev_loss_m, units)}
            </dd>
            <dt>HR</dt>
            <dd>{s.hr ? `${Math.round(s.hr.avg)} avg · ${Math.round(s.hr.max)} max` : '–'}</dd>
            <dt>Calories</dt>
            <dd>{Math.round(s.calories)} kcal</dd>
          </dl>
          {deviceTotals(s).length > 0 && (
            <table class="list">
              <caption>The device's totals beside Fitstream's</caption>
              <thead>
                <tr>
                  <th scope="col">figure</th>
                  <th scope="col">device</th>
                  <th scope="col">Fitstream</th>
                </tr>
              </thead>
              <tbody>
                {deviceTotals(s).map(([k, v]) => (
                  <tr key={k}>
                    <td>{k}</td>
                    <td>{k.includes('distance') ? distance(v, units) : v}</td>
                    <td>
                      {k.includes('distance')
                        ? distance(s.distance_m, units)
                        : String(s[k.replace(/ /g, '_')] ?? '–')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {points.length > 1 && <RouteMap points={points} label="Route of the activity" />}
          {series && series.distance.length > 1 && (
            <>
              <h2>Over the distance</h2>
              <Chart
                label="Elevation profile"
                xLabel={unit.name}
                x={series.distance.map((d) => d / unit.m)}
                series={[
                  {
                    label: `elevation (${units === 'imperial' ? 'ft' : 'm'})`,
                    values: series.altitude.map((a) =>
                      a === null ? null : units === 'imperial' ? a / 0.3048 : a,
                    ),
                    color: '#2f9e44',
                  },
                ]}
              />
              <Chart
                label={`${showsPace(s.sport) ? 'Pace' : 'Speed'} over the distance`}
                xLabel={unit.name}
                x={series.distance.map((d) => d / unit.m)}
                {...(showsPace(s.sport) ? { yFormat: duration } : {})}
                series={[
                  showsPace(s.sport)
                    ? {
                        label: `pace (/${unit.name})`,
                        values: series.speed.map((v) => (v === null || v < 1 ? null : unit.m / v)),
                        color: '#1971c2',
                      }
                    : {
                        label: `speed (${units === 'imperial' ? 'mph' : 'km/h'})`,
                        values: series.speed.map((v) =>
                          v === null ? null : units === 'imperial' ? v * 2.236936 : v * 3.6,
                        ),
                        color: '#1971c2',
                      },
                ]}
              />
              {series.heartrate.some((h) => h !== null) && (
                <Chart
                  label="Heart rate over the distance"
                  xLabel={unit.name}
                  x={series.distance.map((d) => d / unit.m)}
                  series={[{ label: 'HR (bpm)', values: series.heartrate, color: '#c92a2a' }]}
                />
              )}
            </>
          )}
          {splits.length > 0 && (
            <>
              <h2>Per {unit.name}</h2>
              {!series && (
                <>
                  <Chart
                    label={`Elevation profile from the splits' gain and loss, per ${unit.name}`}
                    xLabel={unit.name}
                    xSteps={[1, 2, 5, 10, 20, 50]}
                    x={[0, ...splitEnds]}
                    series={[
                      {
                        label: `elevation from the start (${units === 'imperial' ? 'ft' : 'm'})`,
                        values: [0, ...cumulativeElevation(splits)].map((m) =>
                          units === 'imperial' ? m / 0.3048 : m,
                        ),
                        color: '#2f9e44',
                      },
                    ]}
                  />
                  <Chart
                    label={`Pace per ${unit.name}`}
                    xLabel={unit.name}
                    xSteps={[1, 2, 5, 10, 20, 50]}
                    x={splitEnds}
                    yFormat={duration}
                    series={[
                      {
                        label: `pace (/${unit.name})`,
                        values: splits.map((p) =>
                          p.pace_s_per_km === null ? null : (p.pace_s_per_km * unit.m) / 1000,
                        ),
                        color: '#1971c2',
                      },
                    ]}
                  />
                  {splits.some((p) => p.avg_hr !== null) && (
                    <Chart
                      label={`Heart rate per ${unit.name}`}
                      xLabel={unit.name}
                      xSteps={[1, 2, 5, 10, 20, 50]}
                      x={splitEnds}
                      series={[{ label: 'HR (bpm)', values: splits.map((p) => p.avg_hr), color: '#c92a2a' }]}
                    />
                  )}
                </>
              )}
              <table class="list">
                <caption>Splits</caption>
                <thead>
                  <tr>
                    <th scope="col">{unit.name}</th>
                    <th scope="col">distance</th>
                    <th scope="col">time</th>
                    <th scope="col">pace</th>
                    <th scope="col">HR</th>
                    <th scope="col">elevation</th>
                  </tr>
                </thead>
                <tbody>
                  {splits.map((p) => (
                    <tr key={p.index}>
                      <td>{p.index + 1}</td>
                      <td>{distance(p.distance_m, units)}</td>
                      <td>{duration(p.moving_s)}</td>
                      <td>{pace(p.pace_s_per_km, units)}</td>
                      <td>{p.avg_hr === null ? '–' : Math.round(p.avg_hr)}</td>
                      <td>
                        +{elevation(p.elev_gain_m, units)} / −{elevation(p.elev_loss_m, units)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {s.laps.length > 0 && (
            <table class="list">
              <caption>Laps</caption>
              <thead>
                <tr>
                  <th scope="col">lap</th>
                  <th scope="col">distance</th>
                  <th scope="col">time</th>
                  <th scope="col">speed</th>
                  <th scope="col">HR</th>
                </tr>
              </thead>
              <tbody>
                {s.laps.map((l) => (
                  <tr key={l.index}>
                    <td>{l.index + 1}</td>
                    <td>{distance(l.distance_m, units)}</td>
                    <td>{duration(l.moving_s)}</td>
                    <td>
                      {paceOrSpeed(
                        s.sport,
                        l.avg_speed_mps,
                        l.avg_speed_mps > 0 ? 1000 / l.avg_speed_mps : null,
                        units,
                      )}
                    </td>
                    <td>{l.avg_hr === null ? '–' : `${Math.round(l.avg_hr)} / ${l.max_hr ?? '–'}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {s.best_efforts.length > 0 && (
            <table class="list">
              <caption>Best efforts</caption>
              <thead>
                <tr>
                  <th scope="col">effort</th>
                  <th scope="col">time</th>
                  <th scope="col">speed</th>
                </tr>
              </thead>
              <tbody>
                {s.best_efforts.map((b) => (
                  <tr key={b.name}>
                    <td>{b.name}</td>
                    <td>{duration(b.duration_s)}</td>
                    <td>
                      {b.kind === 'distance'
                        ? pace(1000 / b.avg_speed_mps, units)
                        : speed(b.avg_speed_mps, units)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {s.hr && (
            <table class="list">
              <caption>Time in HR zones (max {s.hr.max_hr_used} bpm)</caption>
              <tbody>
                {s.hr.zones_s.map((z, i) => (
                  <tr key={i}>
                    <th scope="row">zone {i + 1}</th>
                    <td>{duration(z)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

/** Elevation at the end of each split relative to the start, from the splits' gain and loss. */
export function cumulativeElevation(splits: { elev_gain_m: number; elev_loss_m: number }[]): number[] {
  let alt = 0;
  return splits.map((p) => {
    alt += p.elev_gain_m - p.elev_loss_m;
    return alt;
  });
}

interface StreamsResponse {
  streams: {
    distance?: { data: (number | null)[] };
    altitude?: { data: (number | null)[] };
    heartrate?: { data: (number | null)[] };
    velocity_smooth?: { data: (number | null)[] };
    latlng?: { data: ([number, number] | null)[] };
  };
}

/** The streams as chart series over the distance: samples without a distance are left out. */
export function streamSeries(r: StreamsResponse) {
  const d = r.streams.distance?.data ?? [];
  const out = {
    distance: [] as number[],
    altitude: [] as (number | null)[],
    heartrate: [] as (number | null)[],
    speed: [] as (number | null)[],
    latlng: [] as LatLon[],
  };
  d.forEach((m, i) => {
    if (m === null) return;
    out.distance.push(m);
    out.altitude.push(r.streams.altitude?.data[i] ?? null);
    out.heartrate.push(r.streams.heartrate?.data[i] ?? null);
    out.speed.push(r.streams.velocity_smooth?.data[i] ?? null);
  });
  for (const p of r.streams.latlng?.data ?? []) if (p) out.latlng.push({ lat: p[0], lon: p[1] });
  return out;
}
