import { useState } from 'preact/hooks';
import { api } from '../api';
import { useUnits } from '../profile';
import { Bar, Status, useApi } from '../ui';
import { distance, distanceUnit, duration, elevation, type Units } from '../units';

interface Goal {
  id: string;
  goal_type: 'distance' | 'duration' | 'count' | 'elevation' | 'calories' | string;
  sport: string | null;
  period: string;
  target_value: number;
  current_value: number;
  expected_value: number;
  percent: number;
  status: string;
  current_period_start: string | null;
  current_period_end: string | null;
}

export function goalFigure(type: string, v: number, units: Units): string {
  switch (type) {
    case 'distance':
      return distance(v, units);
    case 'elevation':
      return elevation(v, units);
    case 'duration':
      return duration(v);
    case 'calories':
      return `${Math.round(v)} kcal`;
    default:
      return `${Math.round(v)}`;
  }
}

export function Goals() {
  const units = useUnits();
  const { data, error, reload } = useApi<{ items: Goal[] }>('/v1/goals');
  return (
    <section aria-labelledby="goals-title">
      <h1 id="goals-title">Goals</h1>
      <Status error={error} loading={!data} />
      {data && data.items.length === 0 && <p>No goals yet.</p>}
      <ul class="goals">
        {data?.items.map((g) => (
          <li key={g.id} class="card" data-goal={g.id}>
            <h2>
              {g.period} {g.goal_type}
              {g.sport ? ` · ${g.sport}` : ''}
            </h2>
            <Bar
              value={g.current_value}
              max={g.target_value}
              label={`${g.period} ${g.goal_type} goal progress`}
            />
            <p>
              <span data-field="current">{goalFigure(g.goal_type, g.current_value, units)}</span> of{' '}
              {goalFigure(g.goal_type, g.target_value, units)} ·{' '}
              <span data-field="percent">{Math.round(g.percent)}</span>% ·{' '}
              <span class={`status ${g.status}`}>{g.status.replace(/_/g, ' ')}</span>
            </p>
            {g.current_period_start && (
              <p class="hint">
                {g.current_period_start} – {g.current_period_end}; on pace:{' '}
                {goalFigure(g.goal_type, g.expected_value, units)}
              </p>
            )}
          </li>
        ))}
      </ul>
      <NewGoal units={units} onCreated={reload} />
    </section>
  );
}

function NewGoal({ units, onCreated }: { units: Units; onCreated: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const unit = distanceUnit(units);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const type = String(f.get('goal_type'));
    const raw = Number(f.get('target'));
    const target = type === 'distance' ? raw * unit.m : type === 'duration' ? raw * 3600 : raw;
    setError(null);
    api('/v1/goals', {
      method: 'POST',
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: { goal_type: type, period: String(f.get('period')), target_value: target },
    }).then(onCreated, (err: Error) => setError(err.message));
  };
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="newgoal-title">
      <h2 id="newgoal-title">New goal</h2>
      <label>
        Kind
        <select name="goal_type">
          <option value="distance">distance ({unit.name})</option>
          <option value="duration">duration (hours)</option>
          <option value="count">activities</option>
        </select>
      </label>
      <label>
        Period
        <select name="period">
          <option value="week">week</option>
          <option value="month">month</option>
          <option value="year">year</option>
        </select>
      </label>
      <label>
        Target
        <input name="target" type="number" min="0.1" step="any" required />
      </label>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit">Add goal</button>
    </form>
  );
}
