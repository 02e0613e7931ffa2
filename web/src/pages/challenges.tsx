import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Bar, Status, useApi } from '../ui';

interface Challenge {
  id: string;
  name: string;
  description: string;
  rule: { kind: string; target: number; per_period: number; sport: string | null };
  milestones: number[];
  start_date: string;
  end_date: string;
  my_state: string;
}
interface Progress {
  state: string;
  value: number;
  target: number;
  milestones_reached: number[];
}

export function Challenges() {
  const { data, error, reload } = useApi<{ items: Challenge[] }>('/v1/challenges');
  return (
    <section aria-labelledby="challenges-title">
      <h1 id="challenges-title">Challenges</h1>
      <Status error={error} loading={!data} />
      {data && data.items.length === 0 && <p>No challenges.</p>}
      <ul class="goals">
        {data?.items.map((c) => (
          <ChallengeCard key={c.id} c={c} onChange={reload} />
        ))}
      </ul>
    </section>
  );
}

function ChallengeCard({ c, onChange }: { c: Challenge; onChange: () => void }) {
  const joined = c.my_state !== 'unjoined';
  const [p, setP] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (joined) void api<Progress>(`/v1/challenges/${c.id}/progress`).then(setP, () => {});
  }, [c.id, joined]);
  const join = () =>
    api(`/v1/challenges/${c.id}/join`, { method: 'POST' }).then(onChange, (e: Error) => setError(e.message));
  return (
    <li class="card">
      <h2>{c.name}</h2>
      <p>{c.description}</p>
      <p class="hint">
        {c.start_date} – {c.end_date} · {c.rule.kind.replace(/_/g, ' ')} · {c.my_state.replace(/_/g, ' ')}
      </p>
      {p && (
        <>
          <Bar value={p.value} max={p.target} label={`${c.name} progress`} />
          <p>
            {Math.round(p.value)} of {Math.round(p.target)}
          </p>
          <ul class="milestones" aria-label="Milestones">
            {c.milestones.map((m) => (
              <li key={m} class={p.milestones_reached.includes(m) ? 'reached' : ''}>
                {m} {p.milestones_reached.includes(m) ? '✓ reached' : ''}
              </li>
            ))}
          </ul>
        </>
      )}
      {!joined && (
        <button type="button" onClick={join}>
          Join
        </button>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </li>
  );
}
