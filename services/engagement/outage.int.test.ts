// PostgreSQL unreachable for a minute (a cut TCP proxy between the service and the server, so the
// shared server keeps serving everyone else): the service waits, reports not ready, then catches up
// with every event and publishes each fact once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localDay } from '../../pipelines/engagement/local-days.js';
import { activity, type EngagementStack, engagementStack } from '../../test/support/engagement-stack.js';
import { tcpProxy } from '../../test/support/tcp-proxy.js';
import { createLogger } from '../common/logger.js';
import { type RunningEngagement, startEngagement } from './app.js';

const DAY = 86_400_000;

describe('engagement service while PostgreSQL is down', () => {
  let stack: EngagementStack;
  let running: RunningEngagement | undefined;
  let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
  beforeEach(async () => {
    stack = await engagementStack();
  });
  afterEach(async () => {
    await proxy?.restore();
    await running?.close();
    await proxy?.close();
    await stack.cleanup();
  });

  it('waits, then catches up', { timeout: 180_000 }, async () => {
    const url = new URL(stack.db.url);
    proxy = await tcpProxy(Number(url.port || 5432));
    url.port = String(proxy.port);
    running = await startEngagement(
      { ...stack.config, DATABASE_URL: url.toString() },
      createLogger('outage', 'silent'),
    );
    const users = await Promise.all(Array.from({ length: 4 }, () => stack.user()));
    const today = localDay(Date.now(), 'UTC');
    const week = (u: string) =>
      Array.from({ length: 7 }, (_, i) => activity(u, (today - 6 + i) * DAY + 3_600_000));
    await stack.send(week(users[0]!).map((value) => ({ name: 'ActivityCreated' as const, value })));
    await stack.waitForGoals((r) => r.length === 2);

    await proxy.cut();
    await expect(running.checks[0]!.check()).rejects.toThrow();
    for (const u of users.slice(1))
      await stack.send(week(u).map((value) => ({ name: 'ActivityCreated' as const, value })));
    await new Promise((r) => setTimeout(r, 60_000));
    expect(stack.goals()).toHaveLength(2); // nothing applied or published while the database is away
    await proxy.restore();

    await stack.waitForGoals((r) => r.length >= 8, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    const keys = stack.goals().map((x) => `${x.value.userId}/${x.value.sport}/${x.value.length}`);
    expect(new Set(keys).size).toBe(8);
    expect(keys).toHaveLength(8);
    const n = await stack.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM engagement_activities');
    expect(Number(n.rows[0]!.n)).toBe(28);
    await running.checks[0]!.check();
  });
});
