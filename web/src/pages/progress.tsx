import { useState } from 'preact/hooks';
import { useUnits } from '../profile';
import { Chart, Status, useApi } from '../ui';
import { distanceUnit } from '../units';

interface ProgressResponse {
  unit: string;
  series: {
    start: string;
    value: number | null;
    running_total: number | null;
    moving_average: number | null;
  }[];
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

/** Weekly or monthly totals with the running total and the moving average (GET /v1/users/me/progress). */
export function Progress() {
  const units = useUnits();
  const [period, setPeriod] = useState<'week' | 'month'>('week');
  const [metric, setMetric] = useState<'distance' | 'duration' | 'count'>('distance');
  const to = new Date();
  const from = new Date(to.getTime() - (period === 'week' ? 26 * 7 : 365) * 86_400_000);
  const q = new URLSearchParams({ metric, period, from: iso(from), to: iso(to), window: '4' });
  const { data, error } = useApi<ProgressResponse>(`/v1/users/me/progress?${q}`);
  const unit = distanceUnit(units);
  const scale = (v: number | null) =>
    v === null ? null : metric === 'distance' ? v / unit.m : metric === 'duration' ? v / 3600 : v;
  const label = metric === 'distance' ? unit.name : metric === 'duration' ? 'h' : 'activities';
  const series = data?.series ?? [];
  const x = series.map((p) => new Date(`${p.start}T00:00:00Z`).getTime() / 1000);
  return (
    <section aria-labelledby="progress-title">
      <h1 id="progress-title">Progress</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Progress options">
        <label>
          Period
          <select value={period} onChange={(e) => setPeriod(e.currentTarget.value as 'week' | 'month')}>
            <option value="week">weekly</option>
            <option value="month">monthly</option>
          </select>
        </label>
        <label>
          Metric
          <select value={metric} onChange={(e) => setMetric(e.currentTarget.value as typeof metric)}>
            <option value="distance">distance</option>
            <option value="duration">duration</option>
            <option value="count">activities</option>
          </select>
        </label>
      </form>
      <Status error={error} loading={!data} />
      {data && (
        <>
          <Chart
            label={`${period}ly ${metric} with its 4-period moving average`}
            xTime
            x={x}
            series={[
              { label: `${metric} (${label})`, values: series.map((p) => scale(p.value)), color: '#1971c2' },
              {
                label: 'moving average',
                values: series.map((p) => scale(p.moving_average)),
                color: '#f08c00',
              },
            ]}
          />
          <Chart
            label={`running total of ${metric}`}
            xTime
            x={x}
            series={[
              {
                label: `running total (${label})`,
                values: series.map((p) => scale(p.running_total)),
                color: '#2f9e44',
              },
            ]}
          />
        </>
      )}
    </section>
  );
}
