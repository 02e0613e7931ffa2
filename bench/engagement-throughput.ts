// Engagement throughput and lag: Kafka activities.v1 -> fold -> recompute -> PostgreSQL + outbox.
//
//   npx tsx bench/engagement-throughput.ts [--events 50000] [--users 2000] [--goals 2] [--partitions 3] [--concurrency 3]
//                                          [--rate 500] [--lag-s 20] [--out bench/results/engagement-throughput]
//
// Phase 1 (drain): pre-fills a private activities topic with --events ActivityCreated for --users
// athletes (each with --goals weekly and monthly goals and a joined challenge), activities spread over
// the last 60 days, then starts the engagement service in-process and times it until every activity
// is stored: events/s, process CPU ms per 1k events, facts written.
// Phase 2 (lag, --rate > 0): produces at --rate events/s for --lag-s seconds while the service runs
// and reports the lag from the send to the transaction that stored the activity and updated its
// goals (polled every 20 ms, so figures are up to 20 ms late), p50/p99/max.
// Private database, topics and groups (test/support/engagement-stack.ts); dropped at the end.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { isoDate, localDay } from '../pipelines/engagement/local-days.js';
import { createLogger } from '../services/common/logger.js';
import { startEngagement } from '../services/engagement/app.js';
import { activity, engagementStack } from '../test/support/engagement-stack.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    users: { type: 'string', default: '2000' },
    goals: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '3' },
    // ENGAGEMENT_PARTITIONS_CONCURRENTLY
    concurrency: { type: 'string', default: '3' },
    rate: { type: 'string', default: '500' },
    'lag-s': { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/engagement-throughput' },
  },
});
const EVENTS = Number(values.events);
const USERS = Number(values.users);
const GOALS = Number(values.goals);
const RATE = Number(values.rate);
const LAG_S = Number(values['lag-s']);
const DAY = 86_400_000;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const stack = await engagementStack({
  partitions: Number(values.partitions),
  env: { ENGAGEMENT_PARTITIONS_CONCURRENTLY: values.concurrency },
});
try {
  const pool = stack.db.pool;
  const users: string[] = [];
  for (let i = 0; i < USERS; i++) users.push(await stack.user());
  const today = localDay(Date.now(), 'UTC');
  await pool.query(
    `INSERT INTO goals (user_id, kind, period, target, starts_on)
     SELECT u, k, p, 20000, $2::date FROM unnest($1::uuid[]) u,
       (SELECT * FROM (VALUES ('distance', 'week'), ('duration', 'month'), ('count', 'day')) v(k, p) LIMIT $3) g`,
    [users, isoDate(today - 90), GOALS],
  );
  const ch = await pool.query<{ id: string }>(
    `INSERT INTO challenges (name, rule_kind, per_period, target, milestones, start_date, end_date)
     VALUES ('bench', 'activities_per_week', 3, 3, '{1,2,3}', $1::date, $2::date) RETURNING id`,
    [isoDate(today - 20), isoDate(today + 10)],
  );
  await pool.query(
    `INSERT INTO challenge_participants (challenge_id, user_id, state, joined_at)
     SELECT $1, u, 'joined', now() FROM unnest($2::uuid[]) u`,
    [ch.rows[0]!.id, users],
  );

  // phase 1: drain
  let n = 0;
  const next = (startTs: number) => {
    const u = users[n % USERS]!;
    n += 1;
    return activity(u, startTs, { distanceM: 3000 + (n % 7) * 1000, movingS: 900 + (n % 5) * 300 });
  };
  for (let sent = 0; sent < EVENTS; ) {
    const batch = [];
    for (let i = 0; i < 1000 && sent < EVENTS; i++, sent++) {
      batch.push({
        name: 'ActivityCreated' as const,
        value: next(Date.now() - Math.floor(Math.random() * 60) * DAY),
      });
    }
    await stack.send(batch);
  }
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const registry = new Registry();
  const svc = await startEngagement(stack.config, createLogger('bench', 'warn'), registry);
  for (;;) {
    const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM engagement_activities');
    if (Number(r.rows[0]!.n) >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const drainS = (performance.now() - t0) / 1000;
  const drainCpu = cpuMs() - cpu0;
  const facts = Number(
    (await pool.query<{ n: string }>('SELECT count(*) AS n FROM engagement_outbox')).rows[0]!.n,
  );

  // phase 2: lag at a steady rate
  const lags: number[] = [];
  if (RATE > 0) {
    const pending = new Map<string, number>();
    let stop = false;
    const poller = (async () => {
      while (!stop || pending.size > 0) {
        if (pending.size > 0) {
          const ids = [...pending.keys()];
          const r = await pool.query<{ activity_id: string }>(
            'SELECT activity_id FROM engagement_activities WHERE activity_id = ANY($1)',
            [ids],
          );
          const at = performance.now();
          for (const row of r.rows) {
            lags.push(at - pending.get(row.activity_id)!);
            pending.delete(row.activity_id);
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const tick = 50;
    const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
    const end = performance.now() + LAG_S * 1000;
    while (performance.now() < end) {
      const t = performance.now();
      const batch = Array.from({ length: perTick }, () => ({
        name: 'ActivityCreated' as const,
        value: next(Date.now() - 60_000),
      }));
      const sentAt = performance.now();
      await stack.send(batch);
      for (const b of batch) pending.set(b.value.activityId, sentAt);
      await new Promise((r) => setTimeout(r, Math.max(0, tick - (performance.now() - t))));
    }
    stop = true;
    await poller;
  }
  await svc.close();
  const hist = (await registry.getSingleMetric('fitstream_engagement_batch_seconds')!.get()).values;
  const named = (suffix: string) =>
    hist.find((v) => (v as { metricName?: string }).metricName?.endsWith(suffix))?.value ?? 0;
  const sum = named('_sum');
  const count = named('_count');

  const result = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version },
    params: {
      events: EVENTS,
      users: USERS,
      goals: GOALS,
      partitions: Number(values.partitions),
      rate: RATE,
      lagS: LAG_S,
    },
    drain: {
      seconds: Number(drainS.toFixed(2)),
      eventsPerS: Math.round(EVENTS / drainS),
      cpuMsPer1k: Number(((drainCpu / EVENTS) * 1000).toFixed(1)),
      facts,
    },
    batches: { count, meanMs: count > 0 ? Math.round((sum / count) * 1000) : 0 },
    lag:
      RATE > 0
        ? {
            events: lags.length,
            p50Ms: Math.round(pct(lags, 50)),
            p99Ms: Math.round(pct(lags, 99)),
            maxMs: Math.round(Math.max(...lags)),
          }
        : null,
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(`${values.out}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(
    `${values.out}.md`,
    `# Engagement throughput (${result.at})\n\n` +
      `\`npx tsx bench/engagement-throughput.ts --events ${EVENTS} --users ${USERS} --goals ${GOALS} --partitions ${values.partitions} --concurrency ${values.concurrency} --rate ${RATE} --lag-s ${LAG_S}\` ` +
      `on ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}, the local stack shared with other work.\n\n` +
      '| phase | figure |\n|---|---|\n' +
      `| drain | ${result.drain.eventsPerS} events/s (${EVENTS} in ${result.drain.seconds} s), ${result.drain.cpuMsPer1k} ms CPU of this process per 1k events, ${facts} facts |\n` +
      (result.lag
        ? `| lag at ${RATE} events/s | p50 ${result.lag.p50Ms} ms, p99 ${result.lag.p99Ms} ms, max ${result.lag.maxMs} ms (${result.lag.events} events; send → goal updated, polled every 20 ms) |\n`
        : ''),
  );
} finally {
  await stack.cleanup();
}
