// "Turn off your stuff": the engagement service SIGKILLed while it applies and publishes, then
// restarted, ends in the same state with every fact on goals.v1 exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localDay } from '../../pipelines/engagement/local-days.js';
import { activity, type EngagementStack, engagementStack } from '../../test/support/engagement-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400_000;

function spawnService(stack: EngagementStack): ChildProcess {
  const env: Record<string, string> = { ...process.env } as Record<string, string>;
  for (const [k, v] of Object.entries(stack.config)) env[k] = Array.isArray(v) ? v.join(',') : String(v);
  // node itself with tsx as a loader: the tsx CLI would run the service in a child of its own, which a
  // SIGKILL of the CLI leaves running
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/engagement/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));

describe('engagement service killed mid-batch', () => {
  let stack: EngagementStack;
  let child: ChildProcess | undefined;
  beforeEach(async () => {
    stack = await engagementStack();
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await stack.cleanup();
  });

  it('restarts into the same state and publishes no duplicate', async () => {
    const users = await Promise.all(Array.from({ length: 30 }, () => stack.user()));
    const today = localDay(Date.now(), 'UTC');
    const acts = users.flatMap((u) =>
      Array.from({ length: 7 }, (_, i) => activity(u, (today - 6 + i) * DAY + 3_600_000)),
    );
    child = spawnService(stack);
    // the first athlete's week once the service is up, then one week at a time; killed once some
    // facts are out but not all
    await stack.send(acts.slice(0, 7).map((value) => ({ name: 'ActivityCreated' as const, value })));
    await stack.waitForGoals((r) => r.length >= 2, 60_000);
    for (let sent = 7; stack.goals().length < 10 && sent < acts.length; sent += 7) {
      await stack.send(
        acts.slice(sent, sent + 7).map((value) => ({ name: 'ActivityCreated' as const, value })),
      );
      await new Promise((r) => setTimeout(r, 150));
    }
    child.kill('SIGKILL');
    await exited(child);
    // nothing of the killed process is left: no member of the group, no open transaction
    expect(() => process.kill(child!.pid!, 0)).toThrow();
    const before = stack.goals().length;
    expect(before).toBeLessThan(60);
    // redeliver everything too, then restart
    await stack.send(acts.map((value) => ({ name: 'ActivityCreated' as const, value })));
    child = spawnService(stack);
    await stack.waitForGoals((r) => r.filter((x) => x.name === 'StreakMilestone').length >= 60, 90_000);
    await new Promise((r) => setTimeout(r, 2000));
    const keys = stack.goals().map((x) => `${x.value.userId}/${x.value.sport}/${x.value.length}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(60);
    const s = await stack.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM streaks WHERE kind = 'daily' AND last_length = 7 AND longest_length = 7`,
    );
    expect(Number(s.rows[0]!.n)).toBe(60);
    const acts2 = await stack.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM engagement_activities');
    expect(Number(acts2.rows[0]!.n)).toBe(210);
    child.kill('SIGTERM');
    await exited(child);
  });
});
