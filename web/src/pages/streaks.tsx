import { Status, useApi } from '../ui';

interface Span {
  length: number;
  start_date: string;
  end_date: string;
}
interface Pair {
  current: Span | null;
  longest: Span | null;
}
interface Streaks {
  daily: { overall: Pair; by_sport: Record<string, Pair> };
  weekly: { overall: Pair; by_sport: Record<string, Pair> };
}

const iso = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** The last `weeks` weeks as rows of days (Monday first), newest week last. */
export function calendarDays(today: Date, weeks: number): Date[][] {
  const monday = new Date(
    today.getFullYear(),
    today.getMonth(),
    today.getDate() - ((today.getDay() + 6) % 7),
  );
  const rows: Date[][] = [];
  for (let w = weeks - 1; w >= 0; w--) {
    const row: Date[] = [];
    for (let d = 0; d < 7; d++)
      row.push(new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7 * w + d));
    rows.push(row);
  }
  return rows;
}

export function Streaks() {
  const { data, error } = useApi<Streaks>('/v1/streaks');
  const acts = useApi<{ items: { start_time: string }[] }>('/v1/activities?limit=200');
  const active = new Set((acts.data?.items ?? []).map((a) => iso(new Date(a.start_time))));
  const today = new Date();
  const span = (p: Span | null) => (p ? `${p.length} (${p.start_date} – ${p.end_date})` : '–');
  return (
    <section aria-labelledby="streaks-title">
      <h1 id="streaks-title">Streaks</h1>
      <Status error={error} loading={!data} />
      {data && (
        <dl class="figures big">
          <dt>Daily streak</dt>
          <dd data-field="daily">{span(data.daily.overall.current)}</dd>
          <dt>Longest daily</dt>
          <dd>{span(data.daily.overall.longest)}</dd>
          <dt>Weekly streak</dt>
          <dd>{span(data.weekly.overall.current)}</dd>
          <dt>Longest weekly</dt>
          <dd>{span(data.weekly.overall.longest)}</dd>
        </dl>
      )}
      <table class="calendar">
        <caption>The last 12 weeks (a filled day had an activity)</caption>
        <thead>
          <tr>
            {['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].map((d) => (
              <th key={d} scope="col">
                {d}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {calendarDays(today, 12).map((row) => (
            <tr key={iso(row[0]!)}>
              {row.map((d) => {
                const on = active.has(iso(d));
                return (
                  <td key={iso(d)} class={on ? 'on' : d > today ? 'future' : ''} title={iso(d)}>
                    <span class="sr-only">
                      {iso(d)}: {on ? 'active' : 'rest'}
                    </span>
                    <span aria-hidden="true">{d.getDate()}</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
