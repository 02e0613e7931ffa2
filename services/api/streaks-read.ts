// The streaks read model of the engagement service (PostgreSQL `streaks`, docs/engagement.md "State": one
// row per athlete, kind and sport with the last and the longest run as local dates) as the API answers it.
// Whether the last run is still current depends on the clock, so it is decided here, in the athlete's zone.
import type pg from 'pg';
import { Type } from 'typebox';
import { isoDate } from '../../pipelines/engagement/local-days.js';
import { weekStartOf } from '../../pipelines/engagement/periods.js';
import { type AthleteClock, pgCall } from './athlete-clock.js';

const Span = Type.Union([
  Type.Object({
    length: Type.Integer({ description: 'days (daily) or weeks (weekly)' }),
    start_date: Type.String({ description: 'first local date of the run' }),
    end_date: Type.String({
      description: 'last local date of the run (weekly: the last day of its last week)',
    }),
  }),
  Type.Null(),
]);
const Pair = Type.Object({ current: Span, longest: Span });
const Kind = Type.Object({ overall: Pair, by_sport: Type.Record(Type.String(), Pair) });
export const StreaksSchema = Type.Object({ daily: Kind, weekly: Kind });

interface SpanOut {
  length: number;
  start_date: string;
  end_date: string;
}
interface PairOut {
  current: SpanOut | null;
  longest: SpanOut | null;
}
type KindOut = { overall: PairOut; by_sport: Record<string, PairOut> };
export type Streaks = { daily: KindOut; weekly: KindOut };

export async function readStreaks(db: pg.Pool, userId: string, clock: AthleteClock): Promise<Streaks> {
  const EPOCH = "DATE '1970-01-01'";
  const r = await pgCall(() =>
    db.query<{
      kind: 'daily' | 'weekly';
      sport: string;
      last_length: number;
      last_start: number;
      last_end: number;
      longest_length: number;
      longest_start: number;
      longest_end: number;
    }>(
      `SELECT kind, sport, last_length, last_start - ${EPOCH} AS last_start, last_end - ${EPOCH} AS last_end,
              longest_length, longest_start - ${EPOCH} AS longest_start, longest_end - ${EPOCH} AS longest_end
       FROM streaks WHERE user_id = $1 ORDER BY kind, sport`,
      [userId],
    ),
  );
  const span = (length: number, start: number, end: number): SpanOut => ({
    length,
    start_date: isoDate(start),
    end_date: isoDate(end),
  });
  const out: Streaks = {
    daily: { overall: { current: null, longest: null }, by_sport: {} },
    weekly: { overall: { current: null, longest: null }, by_sport: {} },
  };
  // a run is current while today's (this week's) unit can still extend it
  const aliveFrom = { daily: clock.day - 1, weekly: weekStartOf(clock.day, clock.weekStart) - 1 };
  for (const s of r.rows) {
    const pair = {
      current: s.last_end >= aliveFrom[s.kind] ? span(s.last_length, s.last_start, s.last_end) : null,
      longest: span(s.longest_length, s.longest_start, s.longest_end),
    };
    if (s.sport === '') out[s.kind].overall = pair;
    else out[s.kind].by_sport[s.sport] = pair;
  }
  return out;
}
