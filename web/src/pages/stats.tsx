import { useProfile, useUnits } from '../profile';
import { Status, useApi } from '../ui';
import { distance, duration, elevation, pace, speed } from '../units';

interface Figures {
  activities: number;
  distance_m: number;
  moving_s: number;
  elev_gain_m: number;
  calories: number;
  avg_pace_s_per_km: number | null;
}
interface Period extends Figures {
  from: string | null;
  to: string | null;
  by_sport: (Figures & { sport: string })[];
}
interface StatsResponse {
  periods: Record<'week' | 'month' | 'year_to_date' | 'last_4_weeks' | 'lifetime', Period>;
  personal_bests: {
    sport: string;
    kind: string;
    name: string;
    duration_s: number;
    avg_speed_mps: number;
    activity_id: string;
    date: string;
  }[];
}

const PERIODS = [
  ['week', 'This week'],
  ['month', 'This month'],
  ['last_4_weeks', 'Last 4 weeks'],
  ['year_to_date', 'Year to date'],
  ['lifetime', 'All time'],
] as const;

export function Stats() {
  const units = useUnits();
  const me = useProfile();
  const { data, error } = useApi<StatsResponse>(me ? `/v1/users/${me.id}/stats` : null);
  return (
    <section aria-labelledby="stats-title">
      <h1 id="stats-title">Stats and personal bests</h1>
      <Status error={error} loading={!data} />
      {data && (
        <>
          <table class="list">
            <caption>Totals</caption>
            <thead>
              <tr>
                <th scope="col">period</th>
                <th scope="col">activities</th>
                <th scope="col">distance</th>
                <th scope="col">moving time</th>
                <th scope="col">elevation</th>
                <th scope="col">pace</th>
              </tr>
            </thead>
            <tbody>
              {PERIODS.map(([k, label]) => {
                const p = data.periods[k];
                return (
                  <tr key={k}>
                    <th scope="row">{label}</th>
                    <td>{p.activities}</td>
                    <td>{distance(p.distance_m, units)}</td>
                    <td>{duration(p.moving_s)}</td>
                    <td>{elevation(p.elev_gain_m, units)}</td>
                    <td>{pace(p.avg_pace_s_per_km, units)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <table class="list">
            <caption>Personal bests</caption>
            <thead>
              <tr>
                <th scope="col">sport</th>
                <th scope="col">effort</th>
                <th scope="col">time</th>
                <th scope="col">speed</th>
                <th scope="col">date</th>
              </tr>
            </thead>
            <tbody>
              {data.personal_bests.map((b) => (
                <tr key={`${b.sport}-${b.kind}-${b.name}`}>
                  <td>{b.sport}</td>
                  <td>{b.name}</td>
                  <td>{duration(b.duration_s)}</td>
                  <td>{speed(b.avg_speed_mps, units)}</td>
                  <td>
                    <a href={`#/activities/${b.activity_id}`}>{b.date}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
