import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../access.js';
import { athleteClock } from '../athlete-clock.js';
import type { ApiDeps } from '../deps.js';
import { readStreaks, StreaksSchema } from '../streaks-read.js';

export const streakRoutes: FastifyPluginAsyncTypebox<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/streaks',
    {
      config: { access: 'user' },
      schema: {
        tags: ['streaks'],
        summary:
          "The caller's current and longest daily and weekly streaks, overall and per sport, in their local dates",
        response: { 200: StreaksSchema },
      },
    },
    async (req) => {
      const { user_id } = principalOf(req);
      return readStreaks(deps.pg, user_id, await athleteClock(deps.pg, user_id));
    },
  );
};
