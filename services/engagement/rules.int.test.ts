// Rules that depend on the clock or the profile: a time zone change applies from then on, and the end
// of a challenge's window moves joined athletes to not_completed (announced once).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isoDate, parseIsoDate } from '../../pipelines/engagement/local-days.js';
import { activity, type EngagementStack, engagementStack } from '../../test/support/engagement-stack.js';
import { createLogger } from '../common/logger.js';
import { type RunningEngagement, startEngagement } from './app.js';

const logger = createLogger('engagement-test', 'warn');

async function until<T>(f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('engagement rules over time', () => {
  let stack: EngagementStack;
  let running: RunningEngagement | undefined;
  beforeEach(async () => {
    stack = await engagementStack();
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await stack.cleanup();
  });

  it('a time zone change applies to activities that start after it; earlier ones keep their dates', async () => {
    const user = await stack.user({ timezone: 'UTC' });
    running = await startEngagement(stack.config, logger);
    const localDate = async (id: string) =>
      until(async () => {
        const r = await stack.db.pool.query<{ d: string }>(
          'SELECT local_date::text AS d FROM engagement_activities WHERE activity_id = $1',
          [id],
        );
        return r.rows[0]?.d;
      });
    const before = Date.now() - 2 * 86_400_000;
    const at2330 = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000 + 23.5 * 3_600_000;
    const a1 = activity(user, at2330(before));
    await stack.send([{ name: 'ActivityCreated', value: a1 }]);
    expect(await localDate(a1.activityId)).toBe(isoDate(Math.floor(before / 86_400_000)));

    const changedAt = Date.now();
    await stack.db.pool.query("UPDATE users SET timezone = 'Asia/Tokyo' WHERE id = $1", [user]);
    // started after the change: Tokyo's date (23:30 UTC is 08:30 the next day there)
    const a2 = activity(user, changedAt + 60_000);
    // a late upload of something that started before the change: still UTC
    const a3 = activity(user, at2330(before) - 3_600_000);
    await stack.send([
      { name: 'ActivityCreated', value: a2 },
      { name: 'ActivityCreated', value: a3 },
    ]);
    const tokyo = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(changedAt + 60_000);
    expect(await localDate(a2.activityId)).toBe(tokyo);
    expect(await localDate(a3.activityId)).toBe(isoDate(Math.floor(before / 86_400_000)));
    // an update of a1 after the change keeps its date too
    await stack.send([
      { name: 'ActivityUpdated', value: { ...a1, version: a1.version + 1, reason: 'edit' } },
    ]);
    await until(async () => {
      const r = await stack.db.pool.query<{ v: string; d: string }>(
        'SELECT version AS v, local_date::text AS d FROM engagement_activities WHERE activity_id = $1',
        [a1.activityId],
      );
      return Number(r.rows[0]?.v) === a1.version + 1 ? r.rows[0] : undefined;
    });
    expect(await localDate(a1.activityId)).toBe(isoDate(Math.floor(before / 86_400_000)));
    const zones = await stack.db.pool.query(
      'SELECT timezone FROM engagement_timezones WHERE user_id = $1 ORDER BY effective_from',
      [user],
    );
    expect(zones.rows.map((r) => r.timezone)).toEqual(['UTC', 'Asia/Tokyo']);
  });

  it('the window ends: a joined athlete who has not completed ends not_completed, announced once', async () => {
    const user = await stack.user();
    const other = await stack.user();
    const ch = await stack.db.pool.query<{ id: string }>(
      `INSERT INTO challenges (name, rule_kind, per_period, target, start_date, end_date, timezone)
       VALUES ('ten runs', 'activities_per_week', 10, 1, '2026-11-02', '2026-11-08', 'UTC') RETURNING id`,
    );
    const cid = ch.rows[0]!.id;
    await stack.db.pool.query(
      `INSERT INTO challenge_participants (challenge_id, user_id, state, joined_at)
       VALUES ($1, $2, 'joined', now()), ($1, $3, 'unjoined', NULL)`,
      [cid, user, other],
    );
    // the service's clock: 2026-11-09 10:00 UTC, the day after the window
    const now = (parseIsoDate('2026-11-09')! * 24 + 10) * 3_600_000;
    running = await startEngagement(stack.config, logger, undefined, { now: () => now });
    await stack.send([{ name: 'ActivityCreated', value: activity(user, now - 4 * 86_400_000) }]);
    const records = await stack.waitForGoals((r) => r.some((x) => x.name === 'ChallengeProgressed'));
    await new Promise((r) => setTimeout(r, 1500)); // several sweeps
    const p = await stack.db.pool.query(
      'SELECT user_id, state, value FROM challenge_participants ORDER BY state',
    );
    expect(p.rows).toEqual([
      { user_id: user, state: 'not_completed', value: 0 },
      { user_id: other, state: 'unjoined', value: 0 },
    ]);
    const progressed = stack.goals().filter((x) => x.name === 'ChallengeProgressed');
    expect(progressed.map((x) => [x.value.kind, x.value.userId])).toEqual([['not_completed', user]]);
    expect(records.length).toBeGreaterThan(0);
  });
});
