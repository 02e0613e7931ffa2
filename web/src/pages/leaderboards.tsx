import { useState } from 'preact/hooks';
import { useProfile, useUnits } from '../profile';
import { Status, useApi } from '../ui';
import { distance } from '../units';

interface Entry {
  rank: number;
  user_id?: string;
  name?: string;
  group_id?: string;
  sport?: string;
  members?: number;
  points: number;
  distance_m: number;
  activities: number;
}
interface Board {
  from: string;
  to: string;
  entries: Entry[];
  mine: Entry[];
}
interface Group {
  id: string;
  name: string;
}

/** The leaderboards of the athlete's groups (GET /v1/leaderboards): by athlete within a group, or group against group. */
export function Leaderboards() {
  const units = useUnits();
  const me = useProfile();
  const [period, setPeriod] = useState('week');
  const [group, setGroup] = useState('');
  const [by, setBy] = useState<'user' | 'group'>('user');
  const groups = useApi<{ items: Group[] }>('/v1/groups');
  const q = new URLSearchParams({ period, by, limit: '50' });
  if (group && by === 'user') q.set('group_id', group);
  const { data, error } = useApi<Board>(`/v1/leaderboards?${q}`);
  return (
    <section aria-labelledby="boards-title">
      <h1 id="boards-title">Leaderboards</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Leaderboard options">
        <label>
          Period
          <select value={period} onChange={(e) => setPeriod(e.currentTarget.value)}>
            <option value="week">this week</option>
            <option value="month">this month</option>
            <option value="year">this year</option>
          </select>
        </label>
        <label>
          Rank
          <select value={by} onChange={(e) => setBy(e.currentTarget.value as 'user' | 'group')}>
            <option value="user">athletes</option>
            <option value="group">groups</option>
          </select>
        </label>
        {by === 'user' && (
          <label>
            Group
            <select value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
              <option value="">all my groups</option>
              {groups.data?.items.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </form>
      <Status error={error} loading={!data} />
      {data && data.entries.length === 0 && <p>No points yet in this period.</p>}
      {data && data.entries.length > 0 && (
        <table class="list">
          <caption>
            {data.from.slice(0, 10)} – {data.to.slice(0, 10)}
          </caption>
          <thead>
            <tr>
              <th scope="col">rank</th>
              <th scope="col">{by === 'group' ? 'group' : 'athlete'}</th>
              <th scope="col">points</th>
              <th scope="col">distance</th>
              <th scope="col">activities</th>
            </tr>
          </thead>
          <tbody>
            {data.entries.map((e) => (
              <tr
                key={e.user_id ?? e.group_id ?? e.sport}
                class={e.user_id !== undefined && e.user_id === me?.id ? 'me' : ''}
              >
                <td>{e.rank}</td>
                <td>{e.name ?? e.sport ?? '–'}</td>
                <td>{Math.round(e.points)}</td>
                <td>{distance(e.distance_m, units)}</td>
                <td>{e.activities}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && by === 'user' && data.mine[0] && (
        <p>
          Your place: {data.mine[0].rank} with {Math.round(data.mine[0].points)} points.
        </p>
      )}
    </section>
  );
}
