// Streaks: the last and longest runs the engagement service keeps in `streaks`; whether the last run is
// still current depends on the clock, so it is decided here, in the athlete's zone.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { isoDate } from '../../../pipelines/engagement/local-days.js';
import { weekStartOf } from '../../../pipelines/engagement/periods.js';
import { principalOf } from '../access.js';
import { athleteClock, pgCall } from '../athlete-clock.js';
import type { ApiDeps } from '../deps.js';

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

export const streakRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/streaks',
    {
      config: { access: 'user' },
      schema: {
        tags: ['streaks'],
        summary:
          "The caller's current and longest daily and weekly streaks, overall and per sport, in their local dates",
        response: { 200: Type.Object({ daily: Kind, weekly: Kind }) },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      const clock = await athleteClock(deps.pg, user_id);
      const EPOCH = "DATE '1970-01-01'";
      const r = await pgCall(() =>
        deps.pg.query<{
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
          [user_id],
        ),
      );
      const span = (length: number, start: number, end: number) => ({
        length,
        start_date: isoDate(start),
        end_date: isoDate(end),
      });
      const empty = () => ({ current: null, longest: null });
      const out = {
        daily: { overall: empty(), by_sport: {} as Record<string, ReturnType<typeof empty>> },
        weekly: { overall: empty(), by_sport: {} as Record<string, ReturnType<typeof empty>> },
      } as {
        [K in 'daily' | 'weekly']: {
          overall: { current: ReturnType<typeof span> | null; longest: ReturnType<typeof span> | null };
          by_sport: Record<
            string,
            { current: ReturnType<typeof span> | null; longest: ReturnType<typeof span> | null }
          >;
        };
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
    },
  );
};
